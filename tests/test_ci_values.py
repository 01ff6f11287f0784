"""Run-time values the way Codeship had them, wherever the files are translated and run from:
step names, host directories with -o, push-only keys, CI_* values on CI platforms, Go time.

These tests need no Docker engine: the script runs with --list, --dry-run or no selected step.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from translator.cli import main

from helpers import check, diag, write_project

STEPS_WITHOUT_NAMES = """\
- type: parallel
  steps:
  - service: app
    command: echo one
  - service: app
    command: echo two
- service: app
  command: echo three
"""


def cli(*args: str, cwd: Path):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


# --- item 5: the same inputs give the same bytes wherever translate runs from -------------------
def test_outputs_do_not_depend_on_where_translate_runs(tmp_path):
    outputs = []
    for n, (cwd, target) in enumerate([("proj", "."), ("", "proj"), ("/", None), ("proj/sub", "..")]):
        root = tmp_path / f"copy{n}"
        write_project(root / "proj", "app:\n  image: busybox\n", STEPS_WITHOUT_NAMES)
        (root / "proj" / "sub").mkdir()
        where = Path("/") if cwd == "/" else root / cwd
        result = cli("translate", target or str(root / "proj"), cwd=where)
        assert result.exit_code == 0, result.output
        outputs.append({name: (root / "proj" / name).read_bytes() for name in ("compose.yaml", "codeship-steps.sh")})
    assert all(o == outputs[0] for o in outputs[1:])
    listing = subprocess.run([str(tmp_path / "copy0/proj/codeship-steps.sh"), "--list"], capture_output=True,
                             text=True, check=True).stdout
    assert "run app-" in listing


# --- item 9: push-only keys on run steps and groups -----------------------------------------------
@pytest.mark.parametrize("steps, key, line, col", [
    ("- service: app\n  command: x\n  image_name: org/app\n", "image_name", 3, 3),
    ("- service: app\n  command: x\n  image_tag: '{{ .Branch }}'\n", "image_tag", 3, 3),
    ("- type: serial\n  registry: quay.io\n  steps:\n  - service: app\n    command: x\n", "registry", 2, 3),
])
def test_push_only_keys_on_run_steps_and_groups_warn(tmp_path, monkeypatch, steps, key, line, col):
    write_project(tmp_path, "app:\n  image: busybox\n", steps)
    monkeypatch.chdir(tmp_path)
    d = diag(check(tmp_path), "C2C212")
    assert (d.level, d.loc.file, d.loc.line, d.loc.col) == ("warning", "codeship-steps.yml", line, col)
    assert f"'{key}'" in d.message and "type: push" in d.message, d.format()


def test_push_keys_on_push_steps_do_not_warn(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n",
                  "- type: push\n  service: app\n  image_name: org/app\n  image_tag: x\n  registry: quay.io\n")
    assert "C2C212" not in [d.code for d in check(tmp_path).diagnostics]


# --- item 12: -o creates no stray host directory -----------------------------------------------
def test_output_elsewhere_creates_host_directories_in_the_project_only(tmp_path):
    write_project(tmp_path / "proj", "app:\n  image: busybox\n  volumes: ['./tmp/artifacts:/artifacts']\n")
    result = cli("translate", "proj", "-o", "out", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    # run mode with no step selected: the set-up (which creates host directories) runs, no step does
    run = subprocess.run([str(tmp_path / "out/codeship-steps.sh"), "--compose", "v2", "--step", "none"],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "proj/tmp/artifacts").is_dir()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["codeship-steps.sh", "compose.yaml"]


def test_push_only_key_in_a_group_over_services_warns_once(tmp_path):
    write_project(tmp_path, "a:\n  image: busybox\nb:\n  image: busybox\n",
                  "- type: parallel\n  services: [a, b]\n  steps:\n  - command: x\n    image_name: org/x\n")
    assert [d.code for d in check(tmp_path).diagnostics].count("C2C212") == 1


def test_report_says_a_push_only_key_on_a_command_step_is_dropped(tmp_path):
    from translator.api import translate

    write_project(tmp_path, "app:\n  image: busybox\n", "- service: app\n  command: x\n  image_name: org/x\n")
    report = translate(tmp_path, report=True).report
    [entry] = [e for e in report.entries if e.key == "image_name"]
    assert entry.outcome.startswith("dropped") and "push" in entry.becomes
