"""translate's closing lines say what this project needs next, in order (issue 24, item 11), and
every count the command line prints is a correct plural (item 14)."""

from __future__ import annotations

import re

import pytest

from helpers import run_cli, write_project

SERVICE = "app:\n  image: busybox\n"


def _next(stderr: str) -> list[str]:
    """The numbered lines after `Next:`, without their numbers."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith("Next:"))
    out = []
    for line in lines[start + 1:]:
        m = re.match(r"^  \d+\. (.*)$", line)
        if not m:
            break
        out.append(m.group(1))
    return out


def _translate(tmp_path, services: str, steps: str | None, *args: str, **files: str) -> str:
    project = write_project(tmp_path / "p", services, steps, **files)
    if steps is None and (project / "codeship-steps.yml").exists():
        (project / "codeship-steps.yml").unlink()
    result = run_cli("translate", "p", *args, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    return result.stderr


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch):
    monkeypatch.delenv("CODESHIP_AES_KEY", raising=False)


def test_a_project_whose_steps_all_wait_for_an_option_is_not_told_to_run_plainly(tmp_path):
    stderr = _translate(tmp_path, SERVICE, """\
        - name: deploy
          service: app
          tag: ^(release|master)$
          command: echo deploy
        - type: push
          service: app
          image_name: example/app
          tag: master
        - type: manual
          steps:
          - service: app
            command: echo approved
        """)
    steps = _next(stderr)
    assert not any(s.startswith("`./p/codeship-steps.sh`:") for s in steps), steps  # a plain run runs nothing
    assert steps[0].startswith("`./p/codeship-steps.sh --list`"), steps
    assert steps[1].startswith("`./p/codeship-steps.sh --tag release`: runs as a build of release"), steps
    assert steps[2].startswith("`./p/codeship-steps.sh --tag release --push`: also pushes the images (1 push step)"), steps
    assert steps[3].startswith("`./p/codeship-steps.sh --manual`: also runs the manual (approval) groups (1 step)"), steps
    assert "1 service, 3 steps. Next:" in stderr, stderr


def test_a_project_with_plain_steps_is_told_to_list_then_run(tmp_path):
    stderr = _translate(tmp_path, SERVICE, "- service: app\n  command: 'true'\n")
    assert _next(stderr) == ["`./p/codeship-steps.sh --list`: the steps, and which ones a run selects",
                             "`./p/codeship-steps.sh`: runs every step"]
    assert "1 service, 1 step. Next:" in stderr, stderr


def test_a_project_without_steps_is_told_to_write_them(tmp_path):
    stderr = _translate(tmp_path, SERVICE, None)
    steps = _next(stderr)
    assert steps[0] == "write the steps in codeship-steps.yml and translate again: the script has no steps to run"
    assert "to run them" not in stderr and "--list" not in stderr, stderr


def test_a_missing_aes_key_comes_first(tmp_path, monkeypatch):
    services = "app:\n  image: busybox\n  encrypted_env_file: app.env.encrypted\n"
    stderr = _translate(tmp_path, services, "- service: app\n  command: env\n", **{"app.env.encrypted": "x"})
    steps = _next(stderr)
    assert steps[0] == ("put the project's AES key (Codeship: Project Settings > General) in p/codeship.aes, or "
                        "set CODESHIP_AES_KEY: 1 encrypted file or value needs it"), steps
    (tmp_path / "p" / "codeship.aes").write_text("key\n")
    assert "AES key" not in " ".join(_next(run_cli("translate", "p", cwd=tmp_path).stderr))
    (tmp_path / "p" / "codeship.aes").unlink()
    monkeypatch.setenv("CODESHIP_AES_KEY", "a2V5")
    assert "AES key" not in " ".join(_next(run_cli("translate", "p", cwd=tmp_path).stderr))


def test_warnings_point_to_the_report_and_a_written_report_to_its_tasks(tmp_path):
    stderr = _translate(tmp_path, "app:\n  image: busybox\n  privileged: true\n", "- service: app\n  command: 'true'\n")
    assert _next(stderr)[-1] == ("translate again with --report migration.md: what became of every key, and the "
                                 "manual tasks left to you"), stderr
    checked = run_cli("check", "p", cwd=tmp_path)
    assert "ok: the Codeship files are valid (1 warning)\n" in checked.stdout, checked.stdout
    reported = run_cli("translate", "p", "--report", "report.md", cwd=tmp_path)
    assert not any("report" in s for s in _next(reported.stderr)), reported.stderr  # no manual task in it

    services = "app:\n  image: busybox\n  encrypted_env_file: app.env.encrypted\n"
    write_project(tmp_path / "enc", services, "- service: app\n  command: env\n",
                  **{"app.env.encrypted": "x", "codeship.aes": "k\n"})
    with_report = run_cli("translate", "enc", "--report", "enc/report.md", cwd=tmp_path)
    assert with_report.exit_code == 0, with_report.stderr
    assert _next(with_report.stderr)[-1] == "read enc/report.md: 1 manual task", with_report.stderr


def test_a_failure_counts_its_errors_in_words(tmp_path):
    write_project(tmp_path / "p", "app:\n  image: busybox\n", "- service: nosuch\n  command: 'true'\n")
    result = run_cli("translate", "p", cwd=tmp_path)
    assert result.exit_code == 1
    assert "failed: 1 error; nothing was written" in result.stderr, result.stderr


def test_a_branch_from_a_filter_is_quoted_for_the_shell(tmp_path):
    stderr = _translate(tmp_path, SERVICE, "- service: app\n  tag: it's\n  command: 'true'\n")
    assert "`./p/codeship-steps.sh --tag 'it'\\''s'`" in stderr, stderr
