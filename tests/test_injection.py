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
