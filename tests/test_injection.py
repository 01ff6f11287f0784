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
                                  ["--list", "--tag", "$(touch x)", "--step", "env"],
                                  ["--list", "--step", "`touch x`"], ["--dry-run", "$(touch x)"]])
def test_listing_and_dry_run_execute_nothing(tmp_path, args):
    canary = tmp_path / "canary"
    root, _ = hostile_project(tmp_path / "p", canary)
    translate_to_disk(root)
    out = run_script(root, *args)
    # an unknown --step name, or a bare word, is a usage error that shows it (and the names) as data
    assert out.returncode == (2 if "x`" in args[-1] or "x)" in args[-1] else 0), out.stdout + out.stderr
    if out.returncode == 2:
        assert f"'{args[-1]}'" in out.stderr, out.stderr
    if "--step" in args and out.returncode == 2:
        assert f"  'tagged `touch {canary}`'\n" in out.stderr, out.stderr
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
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
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
    lines = [line for job in jobs.values() for line in job["script"] if line.startswith("./codeship-steps.sh")]
    assert lines
    for line in lines:
        assert "--step $'" not in line
        line = line.replace("./codeship-steps.sh", "c2c_step", 1)
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


# --- the CI pipelines: text from the files is data for GitHub, GitLab, YAML and the job shells ---
# the generator's own expressions: nothing else may stand between ${{ and }} in a GitHub file
OUR_EXPRESSIONS = {
    "'${{'", "github.workflow", "github.ref", "github.event_name == 'pull_request'", "github.ref_name",
    "inputs.approve", "vars.CODESHIP_APPROVERS", "secrets.CODESHIP_AES_KEY", "env.C2C_APPROVED == 'true'",
    "fromJSON(vars.CODESHIP_TIMEOUT_MINUTES || '60')", "!cancelled()", "runner.temp", "github.run_id",
    "github.event.repository.default_branch", "steps.c2c-key.outputs.branch", "steps.c2c-key.outputs.default",
    "(github.event_name != 'pull_request' || github.event.pull_request.head.repo.full_name != github.repository)",
    "!cancelled() && !failure() && (github.event_name != 'pull_request' || "
    "github.event.pull_request.head.repo.full_name != github.repository)",
    "!cancelled() && !failure() && (github.event_name != 'pull_request' || "
    "github.event.pull_request.head.repo.full_name != github.repository) && inputs.approve",
    "!cancelled() && steps.c2c-images.outputs.save_0 == 'true' && steps.c2c-cache-0.outputs.cache-hit != 'true'",
}


def hostile_ci_project(root: Path) -> Path:
    import yaml

    names = HOSTILE_NAMES
    services = {"app": {"image": "busybox", "volumes": [f"./d {i} $(x)/{n[:5]}:/d{i}" for i, n in enumerate(["a", "b"])]},
                "built": {"build": {"image": "org/built", "dockerfile": "Dockerfile"}, "cached": True,
                          "default_cache_branch": names[7]}}
    steps = [{"name": n, "service": "app", "command": ["echo", n], "tag": n} for n in names]
    steps.append({"type": "parallel", "name": names[8], "exclude": names[12],
                  "steps": [{"name": n + " (p)", "service": "built", "command": "true"} for n in names[:10]]})
    steps.append({"type": "push", "service": "built", "image_name": "registry.example.com/org/built",
                  "registry": "registry.example.com"})
    steps.append({"type": "manual", "name": names[9], "steps": [{"name": "deploy " + names[10], "service": "app",
                                                                 "command": "true"}]})
    write_project(root, yaml.safe_dump(services), yaml.safe_dump(steps),  # escaped: U+0085 stays itself
                  Dockerfile="FROM busybox\n")
    return root


def _expressions(text: str) -> list[str]:
    import re

    found = [m.strip() for m in re.findall(r"\$\{\{(.*?)\}\}", text, flags=re.S)]
    # a fan-out job's plain branch-name filters (github.ref_test): letters, digits and ._/- only
    plain = r" && (github\.event_name != 'pull_request'|github\.ref_name [=!]= '[A-Za-z0-9][A-Za-z0-9._/-]*')"
    return [re.sub(plain, "", e) for e in found]


def _strings(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("fanout", [False, True], ids=["one-runner", "fanout"])
def test_ci_files_keep_hostile_names_and_filters_as_data(tmp_path, fanout):
    import shutil

    import yaml
    from ruamel.yaml import YAML
    from test_ci_pipelines import _schema

    from translator.api import translate

    root = hostile_ci_project(tmp_path / "p")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    result = translate(root, ci=("github", "gitlab"), ci_fanout=fanout)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    texts = {"codeship.yml" if p.parent.name == "workflows" else p.name: t for p, t in result.outputs.items()}
    gh_text, gl_text = texts["codeship.yml"], texts[".gitlab-ci.yml"]
    for text in (gh_text, gl_text):
        assert YAML(typ="safe", pure=True).load(text) == yaml.safe_load(text)  # a YAML 1.2 parser reads the same
    gh, gl = yaml.safe_load(gh_text), yaml.safe_load(gl_text)
    assert not list(_schema("github-workflows.json").iter_errors(gh))
    assert not list(_schema("gitlab-ci.json").iter_errors(gl))
    # GitHub evaluates ${{ }} anywhere: only the generator's own expressions are there
    for value in _strings(gh):
        assert set(_expressions(value)) <= OUR_EXPRESSIONS, value
    # and the names arrive as they were written, through env:
    def unescape(text: str) -> str:
        return text.replace("${{ '${{' }}", "${{")

    selected = [unescape(s["env"]["C2C_STEP"]) for j in gh["jobs"].values() for s in j["steps"]
                if "C2C_STEP" in s.get("env", {})]
    expected = HOSTILE_NAMES + ([n + " (p)" for n in HOSTILE_NAMES[:10]] if fanout else [HOSTILE_NAMES[8]])
    assert selected[:len(expected)] == expected
    if shutil.which("act"):
        wf = tmp_path / "w" / ".github" / "workflows"
        wf.mkdir(parents=True)
        (wf / "codeship.yml").write_text(gh_text)
        proc = subprocess.run(["act", "--validate"], cwd=tmp_path / "w", capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    # GitLab's job shell (sh) gets each name back byte-exact from the quoting
    scripts = [(j, line) for j, job in gl.items() if isinstance(job, dict) and "script" in job
               for line in job["script"] if "./codeship-steps.sh" in line]
    got = []
    for _, line in scripts:
        probe = line.replace("./codeship-steps.sh", "printf '%s\\0'", 1)
        out = subprocess.run(["sh", "-c", probe, "sh"], capture_output=True, env={**os.environ,
                             "CI_COMMIT_REF_NAME": "master"}).stdout.decode()
        words = out.split("\0")
        if "--step" in words:
            got.append(words[words.index("--step") + 1])
    assert got[:len(HOSTILE_NAMES)] == HOSTILE_NAMES
    from conftest import need_tool

    need_tool("shellcheck", "--version")
    for j, job in gh["jobs"].items():
        for step in job["steps"]:
            if "run" in step:
                proc = subprocess.run(["shellcheck", "-s", "bash", "-"], input=step["run"], capture_output=True, text=True)
                assert proc.returncode == 0, step["run"] + proc.stdout


# --- the headers of the outputs name the services file: a folder name is data there too ---
COMMENT_BREAKERS = ["p\ntouch PWNED #", "cr\rtouch PWNED #", "bell\x07", "sep\u2028x: 1", "next\x85x: 1"]


@pytest.mark.parametrize("folder", COMMENT_BREAKERS)
def test_a_folder_name_cannot_end_the_header_comment_of_the_script_or_compose_files(tmp_path, folder):
    """With -o elsewhere, the headers name the services file by a path through its folder: a line
    break there ran the rest of the name as bash, and a control character made compose.yaml
    unreadable YAML."""
    import yaml

    root = write_project(tmp_path / folder, "app:\n  image: busybox\n")
    out = tmp_path / "out"
    translate_to_disk(root, out_dir=out)
    proc = subprocess.run([str(out / "codeship-steps.sh"), "--list"], capture_output=True, text=True,
                          cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not (tmp_path / "PWNED").exists()
    for name in ("compose.yaml",):
        assert list(yaml.safe_load((out / name).read_text())) == ["services"]


@pytest.mark.parametrize("folder", COMMENT_BREAKERS)
def test_a_folder_name_cannot_end_the_header_comment_of_the_pipeline_files(tmp_path, folder):
    """The pipeline files' header names the services file by its path from the repository's root:
    a line break in a folder name added a top-level key (a GitLab job), a control character made
    the file unreadable."""
    import yaml
    from ruamel.yaml import YAML

    from translator.api import translate

    def pipelines(name: str) -> list[str]:
        repo = tmp_path / name.encode().hex()
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        result = translate(write_project(repo / name, "app:\n  image: busybox\n"), ci=("github", "gitlab"))
        assert result.ok
        return [text for path, text in sorted(result.outputs.items())
                if path.name == ".gitlab-ci.yml" or path.parent.name == "workflows"]

    for text, plain in zip(pipelines(folder), pipelines("plain"), strict=True):
        doc = yaml.safe_load(text)
        assert YAML(typ="safe", pure=True).load(text) == doc
        assert list(doc) == list(yaml.safe_load(plain))  # no key added by the folder's name
