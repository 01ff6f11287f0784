"""What a step's dependencies (links, depends_on) print is shown in the step log, like jet's
`(service: db) (step: NAME) …` lines, and lines written at the same time never mix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from e2e_support import make_project, run_script

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("no_leftovers")]


def sh(script: str) -> list[str]:
    return ["sh", "-c", script]


# A database that cannot start: it says why, then exits, hangs (as PID 1 it ignores SIGTERM, so
# it is killed at the stop timeout), or says it only while the failed step's containers stop.
FAILING_DB = {
    "exits": sh('echo "FATAL could not start" >&2; exit 1'),
    "hangs": sh('echo "FATAL could not start"; exec sleep 600'),
    "late": sh('sleep 1; echo "FATAL could not start"; exit 1'),
}


@pytest.fixture(scope="module")
def failing_db_project(tmp_path_factory) -> Path:
    services = {f"db-{how}": {"image": "busybox", "command": command} for how, command in FAILING_DB.items()}
    services |= {f"app-{how}": {"image": "busybox", "links": [f"db-{how}:db"]} for how in FAILING_DB}
    steps = [{"name": f"tests-{how}", "service": f"app-{how}",
              "command": sh('echo "cannot reach db"; exit 3')} for how in FAILING_DB]
    return make_project(tmp_path_factory.mktemp("failing-db"), services, steps)


@pytest.mark.parametrize("how", list(FAILING_DB))
def test_a_failing_dependency_says_why_in_the_step_log(failing_db_project, compose, how):
    step = f"tests-{how}"
    run = run_script(failing_db_project, compose, "--step", step, "--stop-timeout", "2")
    assert run.returncode == 3, run
    assert run.said(step, f"app-{how}")[:1] == ["cannot reach db"]
    assert run.said(step, f"db-{how}") == ["FATAL could not start"], run
    # shown before the step's result line, and nothing of the dependency after it
    shown = run.index(lambda line: line == f"(service: db-{how}) (step: {step}) FATAL could not start")
    result = run.index(lambda line: line.startswith(f"(step: {step}) error ✗"))
    assert 0 <= shown < result, run



def test_a_dependency_that_cannot_start_says_why(tmp_path, compose):
    # Compose's own error (it was dropped with the rest of `up`'s output) and which image is missing
    image = "localhost:1/c2c-test/no-such-image:1"  # nothing listens there: the pull fails at once
    project = make_project(tmp_path, {"app": {"image": "busybox", "depends_on": ["db"]}, "db": {"image": image}},
                           [{"name": "tests", "service": "app", "command": "echo must not run"}])
    run = run_script(project, compose)
    assert run.returncode == 1 and run.failed() == {"tests"}, run
    assert "must not run" not in run.output
    # the failure is the pull's, as for the step's own image (issue 24 item 2), with Docker's reason
    assert any(line.startswith("(step: tests) could not pull " + image + " (service db): ") and "refused" in line
               for line in run.lines), run
    assert any(line.startswith("(step: tests) ") and "localhost:1" in line and "refused" in line
               for line in run.lines), run  # Compose's message
    assert "(step: tests) error ✗ could not pull " + image + " (" in run.output, run

# Parallel branches whose step and dependency print many lines at once.
BRANCHES = ["b1", "b2", "b3", "b4"]
LINES = 400
PAD = "x" * 150
LONG = "y" * 6000  # longer than a pipe writes atomically (4096 bytes): cut into prefixed pieces


def _chatter(who: str) -> str:
    return (f'i=0; while [ $i -lt {LINES} ]; do echo "chatty $BRANCH {who} $i {PAD}"; i=$((i+1)); done; '
            f'echo "long $BRANCH {who} {LONG}"')


@pytest.fixture(scope="module")
def chatty_project(tmp_path_factory) -> Path:
    services = {}
    for b in BRANCHES:
        services[f"dep-{b}"] = {"image": "busybox", "environment": {"BRANCH": b},
                                "command": sh("sleep 1; " + _chatter("dep") + '; trap "exit 0" TERM; sleep 600 & wait')}
        services[f"app-{b}"] = {"image": "busybox", "environment": {"BRANCH": b}, "depends_on": [f"dep-{b}"]}
    steps = [{"type": "parallel", "name": "noisy", "steps": [
        {"name": b, "service": f"app-{b}", "command": sh(_chatter("app"))} for b in BRANCHES]}]
    return make_project(tmp_path_factory.mktemp("chatty"), services, steps)


_LINE = re.compile(r"\((?:service: (?:dep|app)-(b\d)\) )?\(step: (b\d)\) (.*)")


def test_parallel_steps_with_chatty_dependencies_print_whole_lines(chatty_project, compose):
    run = run_script(chatty_project, compose, "--stop-timeout", "1")
    assert run.returncode == 0, run
    chatty = re.compile(rf"chatty (b\d) (dep|app) (\d+) {PAD}")
    for line in run.lines:
        if "chatty" in line or "xxx" in line:
            m = _LINE.fullmatch(line)
            assert m and m.group(1) == m.group(2), f"a mixed line: {line!r}"
            said = chatty.fullmatch(m.group(3))
            assert said and said.group(1) == m.group(2), f"a mixed line: {line!r}"
    for b in BRANCHES:
        for who in ("dep", "app"):
            said = run.said(b, f"{who}-{b}")
            numbers = [int(s.split()[3]) for s in said if s.startswith("chatty ")]
            assert numbers == list(range(LINES)), f"{who}-{b}: lines lost or out of order"
            pieces = [s for s in said if not s.startswith("chatty ")]
            assert "".join(pieces) == f"long {b} {who} {LONG}", f"{who}-{b}: the long line"
            assert all(len(f"(service: {who}-{b}) (step: {b}) {p}\n".encode()) <= 4096 for p in pieces)
