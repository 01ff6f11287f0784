"""The generated script runs nothing but the step commands the user wrote: hostile values in
names, commands, environment, tags, patterns and paths stay data, and arrive byte-exact."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from helpers import translate_to_disk, write_project


def hostile_values(canary: Path) -> list[str]:
    touch = f"touch {canary}"
    return [
        f"$({touch})", f"`{touch}`", f"${{IFS}}$({touch})", f"'; {touch}; '", f'"; {touch}; "',
        f"| {touch}", f"a\n{touch}", f"-e $({touch})", "ünïcødé ✔ \\ \\n %s %q", "$HOME ${HOME} $$",
    ]


def hostile_project(root: Path, canary: Path) -> tuple[Path, list[str]]:
    values = hostile_values(canary)
    services = {
        "app": {
            "image": "busybox",
            "environment": {f"V{i}": v for i, v in enumerate(values)},
            "volumes": [f"./dir $(touch {canary})/x:/data"],
            "working_dir": f"/tmp/$(touch {canary})",
        },
        f"svc$(touch {canary})": {"image": "busybox"},
    }
    steps = [
        {"name": f"args {i} $(touch {canary})", "service": "app", "command": ["printf", "<%s>\\n", v]}
        for i, v in enumerate(values)
    ]
    steps += [
        {"name": "env", "service": "app", "command": ["env"]},
        {"name": f"tagged `touch {canary}`", "service": "app", "command": "true",
         "tag": f"^(master|$(touch {canary}))$", "exclude": f"`touch {canary}`"},
        {"type": "push", "name": "push", "service": "app", "image_name": f"example/app$(touch {canary})",
         "image_tag": f"{{{{ .Branch }}}}$(touch {canary})"},
    ]
    write_project(root, json.dumps(services), json.dumps(steps))
    return root, values


def run_script(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(root / "codeship-steps.sh"), *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600, cwd=root,
                          env={**os.environ, "TMPDIR": str(root.parent)})


@pytest.mark.parametrize("args", [["--list"], ["--dry-run"], ["--dry-run", "--push", "--tag", "master", "--ci-branch", "master"],
                                  ["--list", "--tag", "$(touch x)", "--step", "`touch x`"]])
def test_listing_and_dry_run_execute_nothing(tmp_path, args):
    canary = tmp_path / "canary"
    root, _ = hostile_project(tmp_path / "p", canary)
    translate_to_disk(root)
    out = run_script(root, *args)
    assert out.returncode == 0, out.stdout + out.stderr
    assert not canary.exists()
    assert not (root / "x").exists()


def test_the_script_quotes_every_input_value(tmp_path):
    canary = tmp_path / "canary"
    root, values = hostile_project(tmp_path / "p", canary)
    translate_to_disk(root)
    script = (root / "codeship-steps.sh").read_text()
    for line in script.splitlines():
        if f"touch {canary}" in line and not line.lstrip().startswith("#"):
            # every occurrence sits inside single quotes (the sq filter), so bash expands nothing
            assert "'" in line, line


@pytest.mark.docker
def test_values_arrive_byte_exact_and_nothing_is_injected(tmp_path):
    canary = tmp_path / "canary"
    root, values = hostile_project(tmp_path / "p", canary)
    translate_to_disk(root)
    out = run_script(root, "--tag", "master", "--compose", "v2")
    assert out.returncode == 0, out.stdout + out.stderr
    assert not canary.exists()
    for i, value in enumerate(values):
        prefix = f"(service: app) (step: args {i} $(touch {canary})) "
        lines = value.split("\n")
        assert prefix + "<" + lines[0] in out.stdout
        if len(lines) > 1:
            assert prefix + lines[1] + ">" in out.stdout
    env_lines = [line.split(") ", 2)[-1] for line in out.stdout.splitlines() if "(step: env) " in line]
    for i, value in enumerate(values):
        if "\n" not in value:
            assert f"V{i}={value}" in env_lines, value
    assert (root / f"dir $(touch {canary})" / "x").is_dir()  # the host path, created literally


HOSTILE_NAMES = json.loads((Path(__file__).parent / "data" / "hostile-names.json").read_text())["names"]


def gitlab_jobs(root: Path, names: list[str]) -> dict:
    import yaml

    from translator.api import translate

    steps = [{"name": name, "service": "app", "command": "true"} for name in names]
    (root / "codeship-services.yml").write_text("app:\n  image: busybox\n")
    (root / "codeship-steps.yml").write_text(yaml.safe_dump(steps))  # escapes: names load back exactly
    result = translate(root, ci=("gitlab",))
    assert result.ok, [d.format() for d in result.diagnostics]
    doc = yaml.safe_load(next(t for p, t in result.outputs.items() if p.name == ".gitlab-ci.yml"))
    return {key: job for key, job in doc.items() if isinstance(job, dict) and "script" in job}


@pytest.mark.parametrize("shell", ["dash", "busybox sh", "bash --posix"])
def test_gitlab_job_shells_read_every_step_name_as_data(tmp_path, shell):
    """The job shell of a docker-executor image is a POSIX sh (busybox ash on docker:27-cli, dash
    on Debian images), which reads bash's $'…' differently: each job's command, run by such a
    shell, hands the script exactly the step's name."""
    from conftest import need_tool

    need_tool(*shell.split(), "-c", "true")
    names = [n for n in HOSTILE_NAMES if "\x00" not in n]
    jobs = gitlab_jobs(tmp_path, names)
    got = []
    for job in jobs.values():
        assert "--step $'" not in job["script"][-1]
        line = job["script"][-1].replace("./codeship-steps.sh", "c2c_step", 1)
        program = ('c2c_step() { while [ "$#" -gt 0 ]; do if [ "$1" = --step ]; then printf "%s" "$2" > "$C2C_OUT"; fi; '
                   'shift; done; }\n' + line + "\n")
        out = tmp_path / "step"
        subprocess.run([*shell.split(), "-c", program], check=True, env={**os.environ, "C2C_OUT": str(out)})
        got.append(out.read_bytes().decode())
    assert sorted(got) == sorted(names)


def test_gitlab_job_scripts_with_hostile_names_are_shellcheck_clean(tmp_path):
    from conftest import need_tool

    need_tool("shellcheck", "--version")
    for key, job in gitlab_jobs(tmp_path, HOSTILE_NAMES).items():
        # (SC2016, "expressions don't expand in single quotes": that is what the quotes are for)
        proc = subprocess.run(["shellcheck", "-s", "sh", "-e", "SC2016", "-"], input="\n".join(job["script"]),
                              capture_output=True, text=True)
        assert proc.returncode == 0, f"{key}:\n{proc.stdout}"
