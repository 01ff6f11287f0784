"""End to end: small Codeship projects, translated and run by the generated codeship-steps.sh
against the real Docker engine, with Compose v2 (`docker compose`) and v1 (`docker-compose`).

Every test checks afterwards that the engine holds no container, network or volume more than
before it (see `no_leftovers`). Images are built FROM busybox only; no registry is reachable.
Run with `-s` or `-rA` to see each script's output. How fast the script is on a real engine
(per-step overhead, parallel groups) is measured by `bench/run.py`, not here.
"""

from __future__ import annotations

import re
import shutil
import signal
import time
import uuid
from pathlib import Path

import pytest

from e2e_support import (COMPOSE_ARGV, Run, anonymous_volumes_of, docker, engine_snapshot, existing,
                         image_exists, make_project, ours, remove_from_engine, remove_images,
                         run_script, start_script, wait_until)
from translator import codeship_aes

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("no_leftovers")]

BUSYBOX = "busybox"


_RUNS: dict[tuple, Run] = {}


def shared_run(project: Path, compose: str, *args: str) -> Run:
    """One run shared by several tests that look at different parts of its output."""
    key = (project, compose, args)
    if key not in _RUNS:
        _RUNS[key] = run_script(project, compose, *args)
    else:
        print(f"(output of an earlier run)\n{_RUNS[key]}")
    return _RUNS[key]


def sh(script: str) -> list[str]:
    """A step or service command run by a shell in the container (list form: used as is)."""
    return ["sh", "-c", script]


# Waits (up to 5 s) for a file another container writes, then prints it.
def wait_and_cat(path: str) -> list[str]:
    return sh(f"for i in $(seq 50); do test -s {path} && break; sleep 0.1; done; cat {path}")


# ==============================================================================================
# 1. Volumes tutorial, part 1: volumes_from shares a container-only volume within one step
# ==============================================================================================
VOLUMES_FROM_SERVICES = {
    "data": {"image": BUSYBOX, "volumes": ["/artifacts"]},
    "producer": {
        "image": BUSYBOX,
        # Stops at once on SIGTERM (a plain `sleep` as PID 1 would wait for the stop timeout).
        "command": sh('trap "exit 0" TERM; echo "written by producer" > /artifacts/out.txt; sleep 60 & wait'),
        "volumes_from": ["data"],
    },
    "consumer": {"image": BUSYBOX, "depends_on": ["producer"], "volumes_from": ["data"]},
    "checker": {"image": BUSYBOX, "volumes_from": ["data:ro"]},
}
VOLUMES_FROM_STEPS = [
    {"name": "within", "service": "consumer", "command": wait_and_cat("/artifacts/out.txt")},
    {"name": "next", "service": "checker",
     "command": sh('if test -e /artifacts/out.txt; then echo "present: $(cat /artifacts/out.txt)"; '
                   'else echo absent; fi')},
]


@pytest.fixture(scope="module")
def volumes_from_projects(tmp_path_factory) -> dict[str, Path]:
    return {scope: make_project(tmp_path_factory.mktemp(f"volumes-from-{scope}"), VOLUMES_FROM_SERVICES,
                                VOLUMES_FROM_STEPS, None, "--volumes-from-scope", scope)
            for scope in ("step", "build")}


@pytest.mark.parametrize("scope, in_next_step", [("step", "absent"),
                                                 ("build", "present: written by producer")])
def test_volumes_from_is_shared_within_a_step_and_scoped(volumes_from_projects, compose, scope, in_next_step):
    run = run_script(volumes_from_projects[scope], compose, "--stop-timeout", "1")
    assert run.returncode == 0, run
    assert run.said("within", "consumer") == ["written by producer"]  # one container wrote, another read
    assert run.said("next", "checker") == [in_next_step]
    assert run.passed() == {"within", "next"}


# ==============================================================================================
# 2. Volumes tutorial, part 2: a host mapping persists between steps and after the run
# ==============================================================================================
@pytest.fixture(scope="module")
def host_volume_project(tmp_path_factory) -> Path:
    services = {"app": {"image": BUSYBOX, "volumes": ["./tmp/artifacts:/artifacts"]}}
    steps = [
        {"name": "write", "service": "app", "command": sh('echo "$TOKEN" > /artifacts/result.txt')},
        {"name": "read", "service": "app", "command": "cat /artifacts/result.txt"},
    ]
    return make_project(tmp_path_factory.mktemp("host-volume"), services, steps)


def test_host_volume_persists_between_steps_and_after_the_run(host_volume_project, compose):
    shutil.rmtree(host_volume_project / "tmp", ignore_errors=True)  # the script creates the directory
    token = f"token-{compose}-{uuid.uuid4().hex[:8]}"
    run = run_script(host_volume_project, compose, "-e", f"TOKEN={token}")
    assert run.returncode == 0, run
    assert run.said("read") == [token]
    assert (host_volume_project / "tmp/artifacts/result.txt").read_text() == token + "\n"


# ==============================================================================================
# 3. Parallel groups
# ==============================================================================================
# Seconds each branch sleeps: long enough that the three branches' sleeps overlap even when
# their Compose processes (v1 is CPU-heavy Python) start slowly on a busy 2-core machine.
SLEEP = 4
# /proc/uptime is the host kernel's clock in every container: comparable across the branches.
UPTIME = "$(cut -d' ' -f1 /proc/uptime)"


def _marker_step(name: str) -> dict:
    # Each branch leaves a marker in its container's own /tmp, sleeps while its siblings do the
    # same, then lists the markers it can see: only its own, if its container is its own.
    return {"name": name, "command": sh(f'touch /tmp/marker-{name}; echo "from {UPTIME}"; sleep {SLEEP}; '
                                        f'echo "to {UPTIME}"; echo "markers: $(cd /tmp && echo marker-*)"')}


def _await(signal: str) -> str:
    return f"until [ -e /signals/{signal} ]; do sleep 1; done"


@pytest.fixture(scope="module")
def parallel_project(tmp_path_factory) -> Path:
    services = {"app": {"image": BUSYBOX, "volumes": ["./signals:/signals"]}}
    steps = [
        {"name": "alone", "service": "app", "command": sh(f"sleep {SLEEP}; echo slept")},
        {"type": "parallel", "name": "trio", "service": "app",
         "steps": [_marker_step("p1"), _marker_step("p2"), _marker_step("p3")]},
        # A chain through a host directory orders the branches whatever the machine's load:
        # bad fails, then ok1 finishes, then ok2 finishes seconds later. A runtime that stopped
        # waiting for the group at the first failure would end the run while ok2 still sleeps.
        {"type": "parallel", "name": "failing", "service": "app", "steps": [
            {"name": "ok1", "command": sh(f"{_await('bad-failed')}; sleep 2; echo ok1 finished; "
                                          "touch /signals/ok1-finished")},
            {"name": "bad", "command": sh("echo bad fails; touch /signals/bad-failed; exit 7")},
            {"name": "ok2", "command": sh(f"{_await('ok1-finished')}; sleep 3; echo ok2 finished")},
        ]},
        {"name": "after", "service": "app", "command": "echo after ran"},
    ]
    return make_project(tmp_path_factory.mktemp("parallel"), services, steps)


def test_parallel_group_runs_side_by_side_in_fresh_containers(parallel_project, compose):
    alone = run_script(parallel_project, compose, "--step", "alone")
    assert alone.returncode == 0, alone
    assert alone.passed() == {"alone"} and alone.said("alone") == ["slept"]

    group = run_script(parallel_project, compose, "--step", "trio")
    assert group.returncode == 0, group
    assert group.passed() == {"p1", "p2", "p3"}
    spans = {}
    for name in ("p1", "p2", "p3"):
        # The log lines carry the step's name; the branch saw no sibling's marker.
        said = group.said(name, "app")
        assert len(said) == 3 and said[2] == f"markers: marker-{name}", group
        spans[name] = (float(said[0].split()[1]), float(said[1].split()[1]))
    # The three sleeps overlapped in time (measured inside the containers, so whatever else
    # loads the machine), and the group took less than twice one step on its own.
    # How long the group takes next to one step is measured by bench/run.py (engine-parallel).
    assert max(start for start, _ in spans.values()) < min(end for _, end in spans.values()), spans
    print(f"[{compose}] one {SLEEP} s step alone: {alone.seconds:.1f}s; parallel group of three: "
          f"{group.seconds:.1f}s; sleeps inside the containers: {spans}")


def test_parallel_failure_lets_siblings_finish_and_stops_the_build(parallel_project, compose):
    shutil.rmtree(parallel_project / "signals", ignore_errors=True)
    run = run_script(parallel_project, compose, "--step", "failing", "--step", "after")
    assert run.returncode == 7, run
    assert run.said("bad")[:1] == ["bad fails"]  # (Compose v1 adds a line "7": its own exit message)
    assert "(step: bad) error ✗ container exited with a 7 code" in run.output
    assert run.said("ok1") == ["ok1 finished"] and run.said("ok2") == ["ok2 finished"]
    assert run.passed() == {"ok1", "ok2"} and run.failed() == {"bad"}
    # The siblings finished after `bad` had failed (the chain makes them: ok1 waits for bad's
    # signal, ok2 for ok1's), so the failure did not stop them. The log's order is not compared:
    # Compose v1 can take seconds to report bad's exit on a busy machine.
    # The group failed, so the next step did not run.
    assert "after" not in run.started() and "after ran" not in run.output


# ==============================================================================================
# 4. Dependencies: fresh for every step (and every parallel branch); link aliases resolve
# ==============================================================================================
# A counter service: every TCP connection to port 9000 gets the next number. Its state lives in
# the dependency's container, so a dependency that survived a step would answer "hit 2" next.
COUNTER = sh('trap "exit 0" TERM; n=0; while :; do n=$((n+1)); echo "hit $n" | nc -l -p 9000 & wait $!; done')


def _ask(host: str, times: int) -> list[str]:
    # An answer can be empty when the client sees EOF before the server's line: ask again then.
    get = (f"get() {{ for i in $(seq 100); do a=$(nc {host} 9000 </dev/null 2>/dev/null); "
           f"if [ -n \"$a\" ]; then echo \"$a\"; return 0; fi; "
           f"sleep 0.1; done; echo {host} did not answer; return 1; }}; ")
    return sh(get + "; ".join(["get"] * times))


@pytest.fixture(scope="module")
def deps_project(tmp_path_factory) -> Path:
    services = {
        "db": {"image": BUSYBOX, "command": COUNTER},
        "linked": {"image": BUSYBOX, "links": ["db:database"]},
        "depends": {"image": BUSYBOX, "depends_on": ["db"]},
    }
    steps = [
        {"name": "first", "service": "linked", "command": _ask("database", 3)},
        {"type": "parallel", "name": "pair", "steps": [
            {"name": "pa", "service": "linked", "command": _ask("database", 1)},
            {"name": "pb", "service": "depends", "command": _ask("db", 1)},
        ]},
    ]
    return make_project(tmp_path_factory.mktemp("deps"), services, steps)


def test_dependencies_are_fresh_per_step_and_link_aliases_resolve(deps_project, compose):
    run = run_script(deps_project, compose, "--stop-timeout", "1")
    assert run.returncode == 0, run
    first = run.said("first")  # `database` (links: db:database) answers, one db for the whole step
    counts = [int(line.split()[1]) for line in first]
    assert first[0] == "hit 1" and len(counts) == 3 and counts == sorted(set(counts)), first
    # A new db in each later step (the first step's count is gone), one for each parallel branch.
    assert run.said("pa") == ["hit 1"] and run.said("pb") == ["hit 1"]


# ==============================================================================================
# 5. Images are built lazily, once per run
# ==============================================================================================
BUILT_IMAGE = "c2c-e2e-built-once"


@pytest.fixture(scope="module")
def build_project(tmp_path_factory):
    services = {
        "plain": {"image": BUSYBOX},
        "app": {"build": {"image": BUILT_IMAGE, "context": ".", "args": {"TOKEN": "{{ .CommitID }}"}}},
    }
    steps = [
        {"name": "before", "service": "plain", "command": "echo no build yet"},
        {"type": "parallel", "name": "both", "service": "app", "steps": [
            {"name": "use1", "command": "cat /built-at"},
            {"name": "use2", "command": "cat /built-at"},
        ]},
        {"name": "use3", "service": "app", "command": "cat /built-at"},
    ]
    # The commit id is a build arg, so a run with a new one cannot take the image from the cache.
    dockerfile = "FROM busybox\nARG TOKEN\nRUN echo \"$TOKEN $(cat /proc/sys/kernel/random/uuid)\" > /built-at\n"
    yield make_project(tmp_path_factory.mktemp("build-once"), services, steps, {"Dockerfile": dockerfile})
    remove_images(BUILT_IMAGE, *_BUILT_IDS)  # every run built a new image: remove them all


_BUILT_IDS: set[str] = set()


def _built_id() -> str:
    image_id = docker("image", "inspect", "-f", "{{.Id}}", BUILT_IMAGE).stdout.strip()
    _BUILT_IDS.add(image_id)
    return image_id


# Lines each build prints once: BuildKit (Compose v2) starts with "#0 building with …" and
# Compose v2 ends with "app  Built"; Compose v1 starts with "Building app" and the classic
# builder ends with "Successfully tagged …". (BuildKit repeats its step lines, so those won't do.)
_ONCE_PER_BUILD = ("#0 building with ", "Building app", "app  Built", "Successfully tagged ")


def _builds(run: Run) -> int:
    """How many times the run built the image, from its `(image: …)` lines."""
    prefix = f"(image: {BUILT_IMAGE}) (service: app) "
    lines = [line[len(prefix):].strip() for line in run.lines if line.startswith(prefix)]
    return max(sum(1 for line in lines if line.startswith(marker)) for marker in _ONCE_PER_BUILD)


def test_image_is_built_lazily_once_per_run(build_project, compose):
    commit = uuid.uuid4().hex
    run = run_script(build_project, compose, "--ci-commit-id", commit)
    assert run.returncode == 0, run
    first_image = _built_id()
    assert run.passed() == {"before", "use1", "use2", "use3"}
    assert _builds(run) == 1, run  # not one per step
    # Lazy: the step before the image's first use ran before any build output.
    first_build_line = run.index(lambda line: line.startswith(f"(image: {BUILT_IMAGE})"))
    assert 0 <= run.index(lambda line: line.endswith("no build yet")) < first_build_line
    # All three steps (two of them parallel, both waiting for the image) ran the same image.
    seen = {name: run.said(name) for name in ("use1", "use2", "use3")}
    assert seen["use1"] == seen["use2"] == seen["use3"] and len(seen["use1"]) == 1, seen
    assert seen["use1"][0].startswith(commit + " ")

    # The next run builds again (once), here with a new commit id, so not from the cache.
    again = run_script(build_project, compose, "--ci-commit-id", commit[::-1], "--step", "use3")
    assert again.returncode == 0, again
    assert _builds(again) == 1, again
    assert _built_id() != first_image
    assert again.said("use3")[0].startswith(commit[::-1] + " ") and again.said("use3") != seen["use3"]


# ==============================================================================================
# 6 + 11. Step commands (no shell, entrypoint), CI variables, -e, env precedence
# ==============================================================================================
@pytest.fixture(scope="module")
def env_project(tmp_path_factory) -> Path:
    services = {
        "app": {
            "image": BUSYBOX,
            "environment": {"SHARED": "from environment", "ONLY_ENVIRONMENT": "e", "OVERRIDDEN": "by service",
                            "ALL_THREE": "from environment"},
            "env_file": "app.env",
            "encrypted_env_file": "app.env.encrypted",
        },
        "entry": {"image": BUSYBOX, "entrypoint": ["echo", "entry"]},
    }
    steps = [
        {"name": "noshell", "service": "app", "command": "echo a && echo b '$HOME' \"$PATH\" | cat > x"},
        {"name": "entry", "service": "entry", "command": "x y"},
        {"name": "env", "service": "app", "command": "env"},
    ]
    key_b64 = codeship_aes.generate_key()
    key = codeship_aes.load_key(None, {"CODESHIP_AES_KEY": key_b64})
    root = tmp_path_factory.mktemp("env")
    (root / "app.env.encrypted").write_bytes(codeship_aes.encrypt(b"ALL_THREE=from encrypted_env_file\n", key))
    files = {"app.env": "# Codeship: env_file wins over environment\nSHARED=from env_file\nONLY_ENV_FILE=f\n"
                        "ALL_THREE=from env_file\n",
             "codeship.aes": key_b64 + "\n"}
    return make_project(root, services, steps, files)


ENV_ARGS = ("--ci-branch", "feature/e2e", "--ci-commit-id", "0123456789abcdef", "-e", "GREETING=hello world",
            "-e", "OVERRIDDEN=from -e")


def test_step_command_is_not_run_through_a_shell(env_project, compose):
    run = shared_run(env_project, compose, *ENV_ARGS)
    assert run.returncode == 0, run
    assert run.said("noshell") == ["a && echo b $HOME $PATH | cat > x"]


def test_service_entrypoint_is_kept(env_project, compose):
    run = shared_run(env_project, compose, *ENV_ARGS)
    assert run.said("entry", "entry") == ["entry x y"]


def test_ci_variables_and_user_variables_reach_the_container(env_project, compose):
    run = shared_run(env_project, compose, *ENV_ARGS)
    env = run.said("env")
    for line in ("CI=true", "CI_NAME=codeship", "CI_BRANCH=feature/e2e", "CI_COMMIT_ID=0123456789abcdef",
                 "GREETING=hello world"):
        assert line in env, (line, env)
    assert any(re.fullmatch(r"CI_BUILD_ID=\S+", line) for line in env), env


def test_env_file_wins_over_environment(env_project, compose):
    run = shared_run(env_project, compose, *ENV_ARGS)
    env = run.said("env")
    assert "SHARED=from env_file" in env and "SHARED=from environment" not in env, env
    assert "ONLY_ENVIRONMENT=e" in env and "ONLY_ENV_FILE=f" in env, env
    # encrypted_env_file comes later still (Codeship: environment < env_file < encrypted_env_file)
    assert [line for line in env if line.startswith("ALL_THREE=")] == ["ALL_THREE=from encrypted_env_file"], env


def test_user_variables_win_over_the_service_environment(env_project, compose):
    # -e is `docker run -e`: it beats what the service sets.
    run = shared_run(env_project, compose, *ENV_ARGS)
    env = run.said("env")
    assert "OVERRIDDEN=from -e" in env and "OVERRIDDEN=by service" not in env, env


@pytest.fixture(scope="module")
def late_env_file_project(tmp_path_factory) -> Path:
    """A git-ignored .env absent when translating: env_file must still win when the step runs, for
    the step's container and for a dependency's."""
    services = {
        "db": {"image": BUSYBOX, "env_file": ".env", "environment": {"VALUE": "db from environment"},
               "command": sh('echo "db saw $VALUE" > /shared/db.txt; trap "exit 0" TERM; sleep 60 & wait'),
               "volumes": ["./shared:/shared"]},
        "app": {"image": BUSYBOX, "env_file": ".env", "depends_on": ["db"], "volumes": ["./shared:/shared"],
                "environment": {"VALUE": "from environment", "KEPT": "from environment", "DOLLAR": "a$b"}},
    }
    steps = [{"name": "show", "service": "app",
              "command": sh('echo "VALUE=$VALUE"; echo "KEPT=$KEPT"; echo "DOLLAR=$DOLLAR"; '
                            'for i in $(seq 50); do test -s /shared/db.txt && break; sleep 0.1; done; '
                            'cat /shared/db.txt; rm -f /shared/db.txt')}]
    return make_project(tmp_path_factory.mktemp("late-env-file"), services, steps)


def test_env_file_wins_as_it_is_when_the_step_runs(late_env_file_project, compose):
    root = late_env_file_project
    (root / ".env").write_text("VALUE=from the file\n")
    first = run_script(root, compose)
    assert first.returncode == 0, first
    assert first.said("show", "app") == ["VALUE=from the file", "KEPT=from environment", "DOLLAR=a$b",
                                         "db saw from the file"]
    (root / ".env").write_text("# changed\nexport VALUE='changed $X'  \nOTHER=1\n")
    again = run_script(root, compose)
    assert again.returncode == 0, again
    assert again.said("show", "app")[0] == "VALUE=changed $X" and "db saw changed $X" in again.said("show", "app")


def test_environment_wins_back_when_the_env_file_no_longer_sets_the_key(tmp_path, compose):
    services = {"app": {"image": BUSYBOX, "env_file": "app.env", "environment": {"VALUE": "from environment"}}}
    steps = [{"name": "show", "service": "app", "command": sh('echo "VALUE=$VALUE"')}]
    root = make_project(tmp_path, services, steps, {"app.env": "VALUE=from the file\n"})
    (root / "app.env").write_text("OTHER=1\n")
    run = run_script(root, compose)
    assert run.returncode == 0, run
    assert run.said("show") == ["VALUE=from environment"]


# ==============================================================================================
# 7. tag / exclude select exactly the expected steps
# ==============================================================================================
def _echo(name: str, **filters) -> dict:
    return {"name": name, "service": "app", "command": f"echo {name}", **filters}


@pytest.fixture(scope="module")
def tags_project(tmp_path_factory) -> Path:
    services = {"app": {"image": BUSYBOX}}
    # All in one parallel group, to keep the four runs short; the filters work the same.
    steps = [{"type": "parallel", "name": "all", "steps": [
        _echo("always"),
        _echo("only-master", tag="master"),
        _echo("release", tag=r"^v\d+\.\d+\.\d+$"),
        _echo("not-feature", exclude="^feature/"),
        _echo("master-or-feature", tag="^(master|feature/)"),  # regex: unanchored at the end
        {"type": "serial", "name": "feature-group", "tag": "^feature/", "steps": [
            _echo("fg-all"),
            _echo("fg-not-x", exclude="feature/x"),  # plain: the whole tag
        ]},
        _echo("exclude-wins", tag="master", exclude="master"),
        _echo("plain-is-whole", tag="feature"),  # plain text matches the whole tag only
    ]}]
    return make_project(tmp_path_factory.mktemp("tags"), services, steps)


TAG_CASES = {
    None: {"always", "not-feature"},
    "master": {"always", "only-master", "not-feature", "master-or-feature"},
    "feature/x": {"always", "master-or-feature", "fg-all"},
    "v1.2.3": {"always", "release", "not-feature"},
}


@pytest.mark.parametrize("tag", list(TAG_CASES), ids=["no-tag", "master", "feature-x", "v1.2.3"])
def test_tag_and_exclude_select_exactly_the_expected_steps(tags_project, compose, tag):
    flags = ("--tag", tag) if tag is not None else ()
    listing = run_script(tags_project, compose, "--list", *flags)
    assert listing.returncode == 0, listing
    run = run_script(tags_project, compose, *flags)
    assert run.returncode == 0, run
    expected = TAG_CASES[tag]
    assert run.passed() == expected
    assert run.started() == expected  # nothing else even began
    assert listing.listed("run ") == expected
    for name in expected:
        assert run.said(name) == [name]


# ==============================================================================================
# 8. on_fail
# ==============================================================================================
@pytest.fixture(scope="module")
def on_fail_project(tmp_path_factory) -> Path:
    services = {"app": {"image": BUSYBOX}, "worker": {"image": BUSYBOX}}
    steps = [
        {"name": "fine", "service": "app", "command": "echo fine",
         "on_fail": [{"name": "fine-handler", "command": "echo must not run"}]},
        {"name": "flaky", "service": "app", "command": sh("echo flaky fails; exit 3"),
         "on_fail": [
             {"name": "report", "command": "echo the flaky step failed"},  # inherits service app
             {"name": "notify", "service": "worker", "command": "echo notify"},
         ]},
        {"name": "after", "service": "app", "command": "echo after ran"},
    ]
    return make_project(tmp_path_factory.mktemp("on-fail"), services, steps)


def test_on_fail_steps_run_and_the_build_still_fails(on_fail_project, compose):
    run = run_script(on_fail_project, compose)
    assert run.returncode == 3, run
    assert run.passed() == {"fine", "report", "notify"} and run.failed() == {"flaky"}
    assert run.said("flaky")[:1] == ["flaky fails"]  # (Compose v1 adds its exit message "3")
    assert run.said("report", "app") == ["the flaky step failed"]
    assert run.said("notify", "worker") == ["notify"]
    assert run.index(lambda line: line.startswith("(step: flaky) error")) < run.index(lambda line: line == "(step: report)")
    assert "fine-handler" not in run.started() and "after" not in run.started()


# ==============================================================================================
# 9. Push steps
# ==============================================================================================
PUSH_IMAGE = "localhost:1/team/app"  # port 1 on loopback: refused at once, no registry needed


@pytest.fixture(scope="module")
def push_project(tmp_path_factory):
    services = {"app": {"build": {"image": PUSH_IMAGE, "context": "."}}}
    steps = [{"type": "push", "name": "ship", "service": "app", "image_name": PUSH_IMAGE,
              "image_tag": "{{ .Branch }}-{{ .CommitID }}", "registry": "localhost:1"}]
    yield make_project(tmp_path_factory.mktemp("push"), services, steps, {"Dockerfile": "FROM busybox\n"})
    remove_images(PUSH_IMAGE, f"{PUSH_IMAGE}:{PUSHED_TAG}")


def test_push_step_is_skipped_without_push(push_project, compose):
    run = run_script(push_project, compose, "--ci-branch", "master")
    assert run.returncode == 0, run
    assert f"(step: ship) push step skipped: run with --push to push {PUSH_IMAGE}" in run.lines
    assert "(image: " not in run.output  # nothing is built for a skipped push


def test_push_dry_run_prints_the_exact_commands(push_project, compose):
    run = run_script(push_project, compose, "--push", "--dry-run", "--ci-branch", "feature/x",
                     "--ci-commit-id", "0123abcd")
    assert run.returncode == 0, run
    tag = "featurex-0123abcd"  # rendered from {{ .Branch }}-{{ .CommitID }}, the `/` stripped
    # the image this run built, under its run-private name (see tests/test_image_isolation.py)
    assert any(re.fullmatch(rf"\+ docker tag {PUSH_IMAGE}:c2c[0-9a-f]+-latest {PUSH_IMAGE}:{tag}", line)
               for line in run.lines), run
    assert f"+ docker push {PUSH_IMAGE}:{tag}" in run.lines
    assert run.index(lambda line: line.startswith("+ docker tag")) < run.index(lambda line: line.startswith("+ docker push"))
    assert not image_exists(f"{PUSH_IMAGE}:{tag}")


def test_push_tag_is_a_valid_docker_tag_when_the_branch_renders_to_invalid_characters(push_project, compose):
    run = run_script(push_project, compose, "--push", "--dry-run", "--ci-branch", ".-/", "--ci-commit-id", "0123abcd")
    assert run.returncode == 0, run
    pushes = [line.rsplit(":", 1)[1] for line in run.lines if line.startswith("+ docker push ")]
    assert len(pushes) == 1 and re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", pushes[0]), pushes


def test_push_fails_before_pushing_when_its_tag_needs_an_unknown_branch(push_project, compose):
    run = run_script(push_project, compose, "--push", "--ci-branch", "", "--ci-commit-id", "0123abcd")
    assert run.returncode == 1, run
    assert "(step: ship) error ✗ unknown branch: nothing was pushed" in run.lines
    assert "give it with --ci-branch NAME" in run.output
    assert "(image: " not in run.output and "docker push" not in run.output  # nothing built, nothing pushed


PUSH_FLAGS = ("--push", "--ci-branch", "master", "--ci-commit-id", "0123abcd")
PUSHED_TAG = "master-0123abcd"


def test_push_to_an_unreachable_registry_fails_clearly(push_project, compose):
    try:
        run = shared_run(push_project, compose, *PUSH_FLAGS)
    finally:
        remove_images(f"{PUSH_IMAGE}:{PUSHED_TAG}")
    assert run.returncode != 0, run
    assert run.failed() == {"ship"}
    said = [line for line in run.lines if line.startswith("(step: ship) ")]
    assert any("connection refused" in line for line in said), said  # Docker's own reason
    assert any(line.startswith(f"(step: ship) pushing {PUSH_IMAGE}:{PUSHED_TAG} failed") for line in said), said


def test_push_failure_hint_does_not_blame_credentials_for_an_unreachable_registry(push_project, compose):
    try:
        run = shared_run(push_project, compose, *PUSH_FLAGS)
    finally:
        remove_images(f"{PUSH_IMAGE}:{PUSHED_TAG}")
    assert any("connection refused" in line for line in run.lines), run
    hint = [line for line in run.lines if line.startswith(f"(step: ship) pushing {PUSH_IMAGE}:{PUSHED_TAG} failed")]
    assert hint and "log in with 'docker login' first" not in hint[0], hint


# ==============================================================================================
# 10. Clean-up: after success, failure, Ctrl-C and SIGTERM nothing stays; --no-remove keeps it
# ==============================================================================================
@pytest.fixture(scope="module")
def cleanup_project(tmp_path_factory) -> Path:
    services = {
        "data": {"image": BUSYBOX, "volumes": ["/shared"]},
        # Ignores SIGTERM (a shell as PID 1): removed only after the stop timeout.
        "db": {"image": BUSYBOX, "command": sh("sleep 300"), "volumes": ["/dbcache"]},
        "app": {"image": BUSYBOX, "depends_on": ["db"], "volumes_from": ["data"], "volumes": ["/cache"]},
    }

    def slow(name: str) -> dict:
        return {"name": name, "command": sh(f"echo started {name}; sleep 300")}

    steps = [
        {"name": "ok", "service": "app", "command": sh("echo ok > /shared/ok; echo ok")},
        {"type": "parallel", "name": "slow", "service": "app", "steps": [slow("s1"), slow("s2"), slow("s3")]},
        {"name": "broken", "service": "app", "command": sh("exit 5")},
        {"name": "top", "service": "app", "command": sh("echo started top; sleep 300")},
    ]
    # Build scope: the volumes_from volume outlives the steps, so the script itself must remove it.
    return make_project(tmp_path_factory.mktemp("cleanup"), services, steps, None, "--volumes-from-scope", "build")


def test_nothing_is_left_after_a_successful_and_a_failing_run(cleanup_project, compose):
    before = engine_snapshot()
    ok = run_script(cleanup_project, compose, "--step", "ok", "--stop-timeout", "1")
    assert ok.returncode == 0 and ok.said("ok") == ["ok"], ok
    assert ours(engine_snapshot() - before) == set()
    broken = run_script(cleanup_project, compose, "--step", "broken", "--stop-timeout", "1")
    assert broken.returncode == 5, broken
    assert ours(engine_snapshot() - before) == set()


def _running(before: set, service: str, count: int):
    """This run's containers once `count` of `service` are running (a step's own container is
    `…-app-run-…` in v2, `…_app_run_…` in v1; a dependency `…-db-1` / `…_db_1`)."""
    def check():
        now = ours(engine_snapshot() - before)
        mine = [n for k, n in now if k == "container" and re.search(rf"[-_]{service}[-_]", n)]
        return now if len(mine) >= count else None
    return check


def test_ctrl_c_in_a_parallel_group_removes_everything(cleanup_project, compose):
    before = engine_snapshot()
    bg = start_script(cleanup_project, compose, "--step", "slow", "--stop-timeout", "1")
    # Interrupt when all three branches' containers (and their dependencies) run.
    during = wait_until(_running(before, "app", 3), timeout=120)
    during = (during or set()) | anonymous_volumes_of(during or set())
    interrupted = time.monotonic()
    bg.proc.send_signal(signal.SIGINT)
    run = bg.finish(timeout=120)
    print(f"[{compose}] Ctrl-C to exit (removing 3 steps' containers): {time.monotonic() - interrupted:.1f}s")
    assert during, f"the three steps' containers never ran:\n{run}"
    assert len([n for k, n in during if k == "container"]) == 6, during  # 3 x (app + db)
    assert any(k == "volume" and n.endswith("_data_shared") for k, n in during), during
    assert run.returncode == 130, run
    for name in ("s1", "s2", "s3"):
        assert any(line.startswith(f"(step: {name}) interrupted: removing its containers") for line in run.lines), run
    assert ours(engine_snapshot() - before) == set()
    assert existing(during) == set()  # also the anonymous volumes of the steps' containers


@pytest.mark.parametrize("step, sig, code", [("top", signal.SIGINT, 130), ("s1", signal.SIGTERM, 143)])
def test_an_interrupted_step_exits_with_the_signal_and_removes_everything(cleanup_project, compose, step, sig,
                                                                        code):
    # "top" runs in the script's own shell, interrupted inside its Compose call (the clean-up
    # must not inherit that call's settings); "s1" is a parallel group's branch.
    before = engine_snapshot()
    bg = start_script(cleanup_project, compose, "--step", step, "--stop-timeout", "1")
    during = wait_until(_running(before, "app", 1), timeout=120)
    during = (during or set()) | anonymous_volumes_of(during or set())
    bg.proc.send_signal(sig)
    run = bg.finish(timeout=120)
    assert during, f"the step's container never ran:\n{run}"
    assert run.returncode == code, run
    assert any(line.startswith(f"(step: {step}) interrupted: removing its containers") for line in run.lines), run
    assert ours(engine_snapshot() - before) == set()
    assert existing(during) == set()


def test_no_remove_keeps_the_containers_networks_and_volumes(cleanup_project, compose):
    before = engine_snapshot()
    try:
        run = run_script(cleanup_project, compose, "--step", "ok", "--no-remove", "--stop-timeout", "1")
        kept = ours(engine_snapshot() - before)
        assert run.returncode == 0, run
        kinds = {kind for kind, _ in kept}
        assert kinds >= {"container", "network", "volume"}, kept
        assert len([k for k, _ in kept if k == "container"]) == 2, kept  # the step's app and its db
        assert any(k == "volume" and n.endswith("_data_shared") for k, n in kept), kept
        anonymous = anonymous_volumes_of(kept)
        assert anonymous, kept  # /cache and /dbcache
    finally:
        left = ours(engine_snapshot() - before)
        remove_from_engine(left)
    assert ours(engine_snapshot() - before) == set()
    assert existing(anonymous) == set()


# ==============================================================================================
# Output of a running step is shown as it is printed (not only when the step ends)
# ==============================================================================================
@pytest.fixture(scope="module")
def live_project(tmp_path_factory) -> Path:
    services = {"app": {"image": BUSYBOX, "volumes": ["./ctl:/ctl"]}}
    # Prints, then waits (at most 30 s) for the test to create ctl/go.
    steps = [{"name": "live", "service": "app",
              "command": sh("echo early; for i in $(seq 300); do test -e /ctl/go && break; sleep 0.1; done; echo late")}]
    return make_project(tmp_path_factory.mktemp("live"), services, steps)


def test_step_output_is_shown_while_the_step_runs(live_project, compose):
    go = live_project / "ctl" / "go"
    go.unlink(missing_ok=True)
    before = engine_snapshot()
    bg = start_script(live_project, compose)
    try:
        # Once the step's container runs, its first line should show within a few seconds.
        running = wait_until(_running(before, "app", 1), timeout=120)
        early = bg.wait_for(lambda lines: "(service: app) (step: live) early" in lines, timeout=6)
    finally:
        go.parent.mkdir(exist_ok=True)
        go.touch()  # let the step end either way
    run = bg.finish()
    assert running, f"the step's container never ran:\n{run}"
    assert run.returncode == 0 and run.said("live") == ["early", "late"], run
    assert early, "the step's first line was not shown while the step was still running"


# ==============================================================================================
# Compose v2 is started directly, where the docker CLI would find it (Compose v2 only: v1 is not
# a plugin)
# ==============================================================================================
PLUGIN_DIRS = [Path.home() / ".docker" / "cli-plugins", Path("/usr/local/lib/docker/cli-plugins"),
               Path("/usr/local/libexec/docker/cli-plugins"), Path("/usr/lib/docker/cli-plugins"),
               Path("/usr/libexec/docker/cli-plugins")]


@pytest.mark.parametrize("extra_dirs", [False, True], ids=["plugin-run-directly", "cli-config-decides"])
def test_compose_v2_runs_as_the_plugin_itself_unless_the_cli_config_names_plugin_dirs(tmp_path, extra_dirs):
    real = next((d / "docker-compose" for d in PLUGIN_DIRS if (d / "docker-compose").is_file()), None)
    assert real is not None, "no Compose v2 plugin in the docker CLI's plugin directories"
    config = tmp_path / "docker-config"
    (config / "cli-plugins").mkdir(parents=True)
    calls = tmp_path / "calls"
    wrapper = config / "cli-plugins" / "docker-compose"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    if extra_dirs:
        (config / "config.json").write_text('{"cliPluginsExtraDirs": []}\n')
    project = make_project(tmp_path / "p", {"app": {"image": BUSYBOX}},
                           [{"name": "hello", "service": "app", "command": "echo hello-from-the-step"}])
    run = run_script(project, "v2", env={"DOCKER_CONFIG": str(config)})
    assert run.returncode == 0, run.output
    assert "hello-from-the-step" in run.output
    called = calls.read_text().splitlines()
    metadata = [c for c in called if c == "docker-cli-plugin-metadata"]
    runs = [c for c in called if re.search(r"(^| )run .*--use-aliases", c)]
    assert len(runs) == 1, called
    if extra_dirs:  # the docker CLI started it, asking for its metadata first
        assert runs[0].startswith("compose ") and metadata, called
    else:
        assert runs[0].startswith("--project-directory ") and not metadata, called
