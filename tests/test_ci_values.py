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


# --- item 15: {{ .Time }} like Go's Time.String(); encrypted build args rendered like plain ones --
RUNTIME = Path(__file__).resolve().parents[1] / "templates" / "runtime.bash"
VALUES = {"CI_BRANCH": "feature/x", "CI_COMMIT_ID": "0123456789abcdef", "C2C_TIME": "2017-10-13 10:14:23 +0000 UTC",
          "CI": "true", "CI_TIMESTAMP": "1507889663", "CI_STRING_TIME": "2017-10-13T10:14:23+00:00",
          "CI_PROJECT_ID": "p", "CI_BUILD_ID": "b", "CI_REPO_NAME": "r", "CI_COMMIT_MESSAGE": "m\nbody",
          "CI_COMMIT_DESCRIPTION": "v1-1-g0123", "CI_COMMITTER_NAME": "n", "CI_COMMITTER_EMAIL": "e@x",
          "CI_COMMITTER_USERNAME": "u"}
TEMPLATES = [
    "plain $HOME 'x'", "{{ .Branch }}", "{{.Branch}}", "a-{{ .CommitID }}-b", "{{ .Time }}", "{{.Timestamp}}",
    "{{ .StringTime }}", "{{ .Ci }}", "x {{- .Branch -}} \n y", "{{- .Branch }}  z", " {{ .Branch -}}\t z",
    "{{ .ProjectID }}{{ .BuildID }}{{ .RepoName }}{{ .CommitMessage }}{{ .CommitDescription }}",
    "{{ .CommitterName }}{{ .CommitterEmail }}{{ .CommitterUsername }}",
    # errors, in both
    "{{ .StepName }}", "{{ .CiName }}", "{{ .Brunch }}", "{{ printf \"%.7s\" .CommitID }}", "{{ .Branch",
    "{{ .Branch | upper }}", "{{-.Branch}}",
]


def _render_plain(template: str) -> str | None:
    """A plain build arg, as the translator renders it (None: an error at translate time)."""
    from translator import gotemplate

    try:
        parts = gotemplate.parse(template, allow_step_vars=False)
        gotemplate.to_compose(parts)
    except gotemplate.TemplateError:
        return None
    return "".join(p if isinstance(p, str) else VALUES[p.env] for p in parts)


def _render_encrypted(template: str) -> str | None:
    """An encrypted build arg, as the script renders it at run time."""
    script = f'source {shlex.quote(str(RUNTIME))}; c2c_render_build_arg "$1" && printf %s "$C2C_RENDERED"'
    result = subprocess.run(["bash", "-c", script, "bash", template], capture_output=True, text=True,
                            env={"PATH": os.environ["PATH"], **VALUES})
    return result.stdout if result.returncode == 0 else None


@pytest.mark.parametrize("template", TEMPLATES)
def test_encrypted_build_args_render_like_plain_ones(template):
    assert _render_encrypted(template) == _render_plain(template)


def test_template_errors_are_errors():
    assert _render_plain("{{ .Branch | upper }}") is None and _render_plain("{{ .Branch }}") == "feature/x"
    assert _render_plain("x {{- .Branch -}} \n y") == "xfeature/xy"


def _dry_run_push(tmp_path: Path, image_tag: str, *args: str, env: dict[str, str] | None = None):
    write_project(tmp_path, "app:\n  image: busybox\n",
                  f"- type: push\n  service: app\n  image_name: org/app\n  image_tag: '{image_tag}'\n")
    result = cli("translate", ".", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    return subprocess.run([str(tmp_path / "codeship-steps.sh"), "--compose", "v2", "--dry-run", "--push", *args],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
                          env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), **(env or {})})


def test_time_tag_renders_like_go_time_string(tmp_path):
    # Go: time.Unix(1507889663, 0).UTC().String() == "2017-10-13 10:14:23 +0000 UTC";
    # jet then removes the characters a Docker tag cannot hold
    run = _dry_run_push(tmp_path, "{{ .Time }}", env={"CI_TIMESTAMP": "1507889663"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "+ docker tag busybox org/app:2017-10-131014230000UTC" in run.stdout, run.stdout


def test_time_has_go_fractional_seconds(tmp_path):
    import re

    script = f'source {shlex.quote(str(RUNTIME))}; c2c_times; printf "%s|%s|%s" "$C2C_TIME" "$CI_TIMESTAMP" "$CI_STRING_TIME"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True,
                         env={"PATH": os.environ["PATH"]}).stdout
    go, stamp, string = out.split("|")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d*[1-9])? \+0000 UTC", go), go
    assert go[:19] == string[:19].replace("T", " ") and string.endswith("+00:00")
    import datetime
    assert datetime.datetime.fromtimestamp(int(stamp), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") == go[:19]
