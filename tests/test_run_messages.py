"""What the generated script says when a run would do nothing, or not what was meant (issue 24,
items 1, 2, 10 and the script's part of 14): unknown --step names and bare words are usage
errors, --list and the summary give every skipped step its reason, an unreachable engine and an
image that cannot be pulled are named as such, and a changed Codeship file is noticed."""

from __future__ import annotations

import re
import shutil
import signal
from pathlib import Path

import pytest

from e2e_support import make_project, run_script, start_script, write_codeship
from helpers import run_cli

BUSYBOX = "busybox"
UNPULLABLE = "c2c-test-nosuch/never:never"  # nothing can be pulled here; elsewhere it does not exist


def _echo(name: str, **extra) -> dict:
    return {"name": name, "service": "app", "command": f"echo {name}", **extra}


STEPS = [
    _echo("first"),
    {"name": "fails", "service": "app", "command": ["sh", "-c", "exit 3"]},
    {"type": "serial", "name": "later", "steps": [
        _echo("never"),
        {"type": "push", "name": "ship-image", "service": "app", "image_name": "example/app", "image_tag": "v1"},
    ]},
    {"type": "manual", "name": "approve", "steps": [_echo("deploy")]},
    _echo("tagged", tag="release"),
]
NAMES = ["first", "fails", "later", "never", "ship-image", "approve", "deploy", "tagged"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("messages"), {"app": {"image": BUSYBOX}}, STEPS)


def _listed(output: str) -> dict[str, tuple[str, str]]:
    """`--list` lines → {NAME: (MARK, REASON)}."""
    found = {}
    for line in output.splitlines():
        m = re.match(r"^\[(run |skip)\] +\S+ (\S+)(.*)$", line)
        if m:
            reason = re.search(r"  \(([^()]*(?:\([^()]*\))?[^()]*)\)$", m.group(3))
            found[m.group(2)] = (m.group(1), reason.group(1) if reason else "")
    return found


def _summary(output: str) -> dict[str, str]:
    """Summary lines `  - NAME   skipped: WHY` / `not run: WHY` → {NAME: "skipped: WHY"}."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^  - (\S+) +((?:skipped|not run): .*)$", output, re.M)}


# ==============================================================================================
# Item 1: an unknown --step name runs nothing: a usage error naming the steps
# ==============================================================================================
@pytest.mark.parametrize("mode", [[], ["--list"], ["--dry-run"]])
def test_an_unknown_step_name_is_a_usage_error_that_lists_the_names(project, mode):
    run = run_script(project, None, *mode, "--step", "first", "--step", "nosuch")
    assert run.returncode == 2, run
    assert "--step nosuch: no step or group has this name, so it would run nothing" in run.output, run
    listed = [line.strip() for line in run.output.splitlines() if line.startswith("  ")]
    assert listed == NAMES, run
    assert "(step:" not in run.output and "[run ]" not in run.output, run


def test_an_empty_pipeline_says_it_has_no_steps(tmp_path):
    project = write_codeship(tmp_path / "empty", {"app": {"image": BUSYBOX}}, [])
    (project / "codeship-steps.yml").unlink()
    assert run_cli("translate", str(project)).exit_code == 0
    run = run_script(project, None, "--step", "x")
    assert run.returncode == 2 and "--step x: the pipeline has no steps" in run.output, run


# ==============================================================================================
# Item 14: a branch or step given without its option, a misspelt option
# ==============================================================================================
@pytest.mark.parametrize("args, said", [
    (["master"], "unknown argument: master (did you mean --tag master?)"),
    (["fails"], "unknown argument: fails (did you mean --step fails?)"),
    (["--tags", "master"], "unknown option: --tags (did you mean --tag?)"),
    (["--tags=master"], "unknown option: --tags (did you mean --tag?)"),
    (["--steps", "first"], "unknown option: --steps (did you mean --step?)"),
    (["--dryrun"], "unknown option: --dryrun (did you mean --dry-run?)"),
    (["-t"], "unknown option: -t (did you mean -T?)"),
])
def test_a_bare_word_or_a_misspelt_option_gets_a_did_you_mean(project, args, said):
    run = run_script(project, None, *args)
    assert run.returncode == 2, run
    assert said in run.output, run


@pytest.mark.parametrize("option", ["--frobnicate", "--ci-foo"])
def test_an_option_like_none_of_ours_gets_no_guess(project, option):
    run = run_script(project, None, option)
    assert run.returncode == 2 and f"unknown option: {option}\n" in run.output, run


# ==============================================================================================
# Item 10: --list gives every skipped step its reason, as the run's summary does
# ==============================================================================================
def test_list_gives_every_skipped_step_its_reason(project):
    run = run_script(project, None, "--list")
    assert run.returncode == 0, run
    listed = _listed(run.output)
    assert listed["ship-image"] == ("skip", "push (use --push)"), run
    assert listed["approve"] == ("skip", "manual (use --manual)"), run
    # the steps of a manual group that does not run are not marked [run ] (issue 22, item 5)
    assert listed["deploy"] == ("skip", "manual (use --manual)"), run
    assert listed["tagged"] == ("skip", "tag: release (no --tag given)"), run
    assert listed["first"] == ("run ", ""), run

    selected = _listed(run_script(project, None, "--list", "--step", "first", "--manual", "--push").output)
    assert selected["first"] == ("run ", ""), selected
    assert selected["fails"] == ("skip", "not selected by --step"), selected
    assert selected["ship-image"] == ("skip", "not selected by --step"), selected
    assert selected["deploy"] == ("skip", "not selected by --step"), selected


def test_a_run_without_steps_to_run_needs_no_engine_and_lists_manual_steps(project):
    # every step the run selects is skipped: the engine is never asked
    run = run_script(project, None, "--step", "approve", "--step", "tagged",
                     env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert run.returncode == 0, run
    assert _summary(run.output) == {"deploy": "skipped: manual (use --manual)",
                                    "tagged": "skipped: tag: release (no --tag given)"}, run
    assert "manual approval group skipped: run with --manual" in run.output, run


def test_the_notice_of_a_manual_group_is_left_out_when_step_selects_other_steps(project):
    run = run_script(project, None, "--dry-run", "--step", "first")
    assert run.returncode == 0, run
    assert "manual approval group" not in run.output, run


def test_a_dry_run_counts_in_words(project):
    run = run_script(project, None, "--dry-run", "--step", "first")
    assert "Dry run: 1 step would run, 0 skipped; nothing was run." in run.output, run


# ==============================================================================================
# Item 10: the script notices that a Codeship file changed since it was generated
# ==============================================================================================
def test_a_changed_codeship_file_is_a_warning_that_says_to_translate_again(tmp_path):
    project = make_project(tmp_path / "changed", {"app": {"image": BUSYBOX}}, [_echo("first")])
    fresh = run_script(project, None, "--list")
    assert fresh.returncode == 0 and "warning" not in fresh.output, fresh
    steps = project / "codeship-steps.yml"
    steps.write_text(steps.read_text() + "- name: second\n  service: app\n  command: echo second\n")
    stale = run_script(project, None, "--list")
    assert stale.returncode == 0, stale  # a warning: the script's own pipeline still runs
    assert "warning: codeship-steps.yml has changed since this script was generated: run " \
           "`codeship2compose translate` again" in stale.output, stale
    (project / "codeship-services.yml").write_text("app:\n  image: busybox:1\n")
    both = run_script(project, None, "--dry-run")
    assert "codeship-services.yml and codeship-steps.yml have changed" in both.output, both
    steps.unlink()  # once migrated, the Codeship files may go: the script is yours
    (project / "codeship-services.yml").unlink()
    gone = run_script(project, None, "--list")
    assert gone.returncode == 0 and "warning" not in gone.output, gone


def test_the_warning_finds_codeship_files_outside_the_output_folder(tmp_path):
    source = write_codeship(tmp_path / "src", {"app": {"image": BUSYBOX}}, [_echo("first")])
    out = tmp_path / "out"
    assert run_cli("translate", str(source), "-o", str(out)).exit_code == 0
    assert run_script(out, None, "--list").output.count("warning") == 0
    (source / "codeship-steps.yml").write_text("- name: other\n  service: app\n  command: echo x\n")
    run = run_script(out, None, "--list")
    assert "../src/codeship-steps.yml has changed" in run.output, run


# ==============================================================================================
# Item 2: an engine that cannot be reached is named, before the first step, with its own exit code
# ==============================================================================================
@pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is needed")
@pytest.mark.parametrize("compose", ["v2", "v1"])
@pytest.mark.parametrize("host", ["unix:///nonexistent.sock", "tcp://127.0.0.1:1"])
def test_an_unreachable_engine_is_named_with_how_to_start_it(project, compose, host):
    run = run_script(project, compose, env={"DOCKER_HOST": host})
    assert run.returncode == 125, run
    assert f"error: cannot reach the Docker engine at {host} (DOCKER_HOST); nothing was run" in run.output, run
    assert "Cannot connect to the Docker daemon" in run.output, run  # Docker's own words
    assert "hint: start the engine there, or correct DOCKER_HOST" in run.output, run
    assert "container exited" not in run.output and "could not remove" not in run.output, run
    assert run.output.count("cannot reach the Docker engine") == 1, run
    summary = _summary(run.output)
    assert summary["first"] == "not run: the Docker engine cannot be reached", run
    assert summary["fails"] == "not run: the build stopped before it", run


@pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is needed")
def test_an_unreachable_engine_is_checked_once_for_a_parallel_group(tmp_path):
    steps = [{"type": "parallel", "name": "par", "steps": [_echo("a"), _echo("b"), _echo("c")]}]
    project = make_project(tmp_path / "par", {"app": {"image": BUSYBOX}}, steps)
    run = run_script(project, None, env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert run.returncode == 125, run
    assert run.output.count("cannot reach the Docker engine") == 1, run
    assert set(_summary(run.output)) == {"a", "b", "c"}, run


def test_help_documents_the_exit_codes(project):
    run = run_script(project, None, "--help")
    assert "125 when the Docker engine cannot be reached" in run.output, run
    assert "an unknown --step name too" in run.output, run


# ==============================================================================================
# Items 2 and 10 against a real engine: pull failures, and the summary after a failure
# ==============================================================================================
@pytest.mark.docker
def test_after_a_failure_the_summary_lists_every_step_with_why_it_did_not_run(project, compose):
    run = run_script(project, compose)
    assert run.returncode == 3, run
    assert re.search(r"^  ✔ first ", run.output, re.M) and re.search(r"^  ✗ fails ", run.output, re.M), run
    assert _summary(run.output) == {
        "never": "not run: the build stopped before it",
        "ship-image": "skipped: push (use --push)",  # it would not have run anyway
        "deploy": "skipped: manual (use --manual)",
        "tagged": "skipped: tag: release (no --tag given)",
    }, run
    assert re.search(r"^1 passed, 1 failed, 3 skipped, 1 not run in ", run.output, re.M), run


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_an_image_that_cannot_be_pulled_is_reported_as_such(tmp_path, compose):
    services = {"app": {"image": BUSYBOX, "depends_on": ["db"]}, "db": {"image": UNPULLABLE},
                "solo": {"image": UNPULLABLE}}
    steps = [{"name": "own-image", "service": "solo", "command": "true"},
             {"name": "dependency", "service": "app", "command": "true"}]
    project = make_project(tmp_path / "pull", services, steps)
    for step in ("own-image", "dependency"):
        run = run_script(project, compose, "--step", step)
        assert run.returncode != 0, run
        assert f"({'step: ' + step}) error ✗ could not pull {UNPULLABLE} (" in run.output, run
        said = re.search(rf"^\(step: {step}\) could not pull {re.escape(UNPULLABLE)} \(service \w+\): (.+)$",
                         run.output, re.M)
        assert said and said.group(1).strip(), run  # Docker's reason
        assert "container exited" not in run.output, run
        assert f"could not pull {UNPULLABLE}" in _failed_line(run.output, step), run


def _failed_line(output: str, step: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(f"  ✗ {step} "))


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_a_queued_step_counts_in_words(tmp_path):
    steps = [{"type": "parallel", "name": "par", "steps": [_echo("a"), _echo("b")]}]
    project = make_project(tmp_path / "queue", {"app": {"image": BUSYBOX}}, steps)
    run = run_script(project, "v2", "--max-parallel", "1")
    assert run.returncode == 0, run
    assert "queued: 1 step of this run is running (at most 1 at once; see --max-parallel)" in run.output, run


# ==============================================================================================
# Item 1, on_fail: a step that runs only when another fails is not selected by its own name
# ==============================================================================================
ON_FAIL_STEPS = [
    {**_echo("flaky"), "on_fail": [_echo("report"), {"type": "serial", "name": "cleanup", "steps": [_echo("tidy")]}]},
    _echo("other"),
]


@pytest.mark.parametrize("mode", [[], ["--list"], ["--dry-run"]])
@pytest.mark.parametrize("name", ["report", "tidy"])
def test_an_on_fail_step_named_alone_is_a_usage_error_naming_its_step(tmp_path, mode, name):
    # --list marked it [run ] while the run ran nothing: its step was not selected, so it never
    # failed; the name is not unknown, but selecting it alone selects nothing
    project = make_project(tmp_path / "onfail", {"app": {"image": BUSYBOX}}, ON_FAIL_STEPS)
    run = run_script(project, None, *mode, "--step", name)
    assert run.returncode == 2, run
    assert f"--step {name}: an on_fail step of flaky: it runs only when flaky fails" in run.output, run
    assert "--step flaky" in run.output and "[run ]" not in run.output, run
    # with its step selected, it is part of the selection
    both = run_script(project, None, *mode, "--step", "flaky", "--step", name,
                      env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert both.returncode in (0, 125), both
    assert "on_fail step" not in both.output, both


def test_list_marks_a_group_that_holds_no_selected_step_as_not_selected(tmp_path):
    # a group --step did not name, holding no step it names, runs nothing: [run ] said otherwise
    steps = [{"type": "parallel", "name": "outer", "steps": [
                 {"type": "serial", "name": "inner", "steps": [_echo("wanted")]},
                 {"type": "serial", "name": "idle", "steps": [_echo("a")]}]},
             {"type": "serial", "name": "other", "steps": [_echo("b")]},
             {"type": "manual", "name": "approve", "steps": [_echo("deploy")]},
             {"type": "serial", "name": "named", "steps": [_echo("c")]}]
    project = make_project(tmp_path / "groups", {"app": {"image": BUSYBOX}}, steps)
    listed = _listed(run_script(project, None, "--list", "--manual", "--step", "wanted", "--step", "named").output)
    assert listed["outer"] == ("run ", "") and listed["inner"] == ("run ", ""), listed
    assert listed["wanted"] == ("run ", ""), listed
    assert listed["named"] == ("run ", "") and listed["c"] == ("run ", ""), listed
    for group in ("idle", "other", "approve"):
        assert listed[group] == ("skip", "not selected by --step"), listed


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_after_ctrl_c_the_summary_lists_the_steps_the_run_did_not_reach(tmp_path):
    steps = [_echo("first"), {"name": "slow", "service": "app", "command": "sleep 60"}, _echo("after"),
             {"type": "parallel", "name": "par", "steps": [_echo("p1"), _echo("p2")]},
             {"type": "push", "name": "ship-image", "service": "app", "image_name": "example/app", "image_tag": "v1"},
             _echo("tagged", tag="release")]
    project = make_project(tmp_path / "interrupted", {"app": {"image": BUSYBOX}}, steps)
    bg = start_script(project, "v2", "--stop-timeout", "1")
    assert bg.wait_for(lambda lines: "(step: slow)" in lines, timeout=120), bg.lines
    bg.proc.send_signal(signal.SIGINT)
    run = bg.finish(timeout=120)
    assert run.returncode == 130, run
    assert _summary(run.output) == {
        "after": "not run: the run was interrupted before it",
        "p1": "not run: the run was interrupted before it",
        "p2": "not run: the run was interrupted before it",
        "ship-image": "skipped: push (use --push)",
        "tagged": "skipped: tag: release (no --tag given)",
    }, run
    assert re.search(r"^  ✗ slow +\S+ +interrupted$", run.output, re.M), run
    assert re.search(r"^1 passed, 1 failed, 2 skipped, 3 not run in .*\(interrupted\)$", run.output, re.M), run


def test_a_dry_run_names_each_step_it_skips_and_why(project):
    # '0 steps would run, 1 skipped' alone left the user to guess which step and why
    run = run_script(project, None, "--dry-run", "--step", "deploy", "--step", "tagged")
    assert run.returncode == 0, run
    assert _summary(run.output) == {"deploy": "skipped: manual (use --manual)",
                                    "tagged": "skipped: tag: release (no --tag given)"}, run
    assert "Dry run: 0 steps would run, 2 skipped; nothing was run." in run.output, run
