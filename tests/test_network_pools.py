"""Wide parallel groups and Docker's network address pools: every step is a Compose project with a
network of its own, and an engine has a fixed number of address pools (about 30 by default).

The shared engine has a large pool, so these tests start their own small engine (4 networks)
and run the script against it with DOCKER_HOST."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from helpers import runtime_file

import pytest

from conftest import REQUIRE_DOCKER
from e2e_support import make_project, run_script, start_script

POOL = "10.213.0.0/22"  # with size 24: 4 networks; far from the shared engine's 172.16.0.0/12
NETWORKS = 4


class Engine:
    def __init__(self, root: Path):
        self.root = root
        self.host = f"unix://{root}/docker.sock"
        self.proc: subprocess.Popen | None = None

    def docker(self, *args: str, check: bool = True, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", "-H", self.host, *args], capture_output=True, check=check,
                              timeout=120, stdin=stdin, text=stdin is subprocess.DEVNULL)

    def answers(self) -> bool:
        try:
            return self.docker("info", check=False).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def start(self) -> None:
        log = open(self.root / "dockerd.log", "ab")
        # unshare -n: a network namespace of its own (gone when dockerd ends). A second dockerd in
        # the host's would delete the shared engine's docker0 bridge, and every `RUN` of a build
        # on that engine would fail. Its socket is a file, reachable from here.
        self.proc = subprocess.Popen(
            ["unshare", "-n", shutil.which("dockerd"), "-H", self.host, f"--data-root={self.root}/data",
             f"--exec-root={self.root}/exec", f"--pidfile={self.root}/dockerd.pid",
             "--iptables=false", "--ip-forward=false", "--storage-driver=vfs", "--bridge=none",
             "--default-address-pool", f"base={POOL},size=24"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 60
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the test's own dockerd did not start:\n"
                                   + (self.root / "dockerd.log").read_text(errors="replace")[-3000:])
            time.sleep(0.5)
        # busybox from the shared engine (no registry here)
        save = subprocess.Popen(["docker", "save", "busybox:latest"], stdout=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
        self.docker("load", stdin=save.stdout)
        save.wait(timeout=60)

    def leftovers(self) -> list[str]:
        containers = self.docker("ps", "-aq").stdout.split()
        networks = [n for n in self.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
                    if n not in ("host", "none", "bridge")]
        volumes = self.docker("volume", "ls", "-q").stdout.split()
        return containers + networks + volumes

    def clear(self) -> None:
        containers = self.docker("ps", "-aq").stdout.split()
        if containers:
            self.docker("rm", "-f", "-v", *containers, check=False)
        for network in self.docker("network", "ls", "--format", "{{.Name}}").stdout.split():
            if network not in ("host", "none", "bridge"):
                self.docker("network", "rm", network, check=False)
        volumes = self.docker("volume", "ls", "-q").stdout.split()
        if volumes:
            self.docker("volume", "rm", "-f", *volumes, check=False)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def engine():
    """A Docker engine of this module's own, with room for 4 networks; stopped at the end."""
    problem = None
    if not shutil.which("dockerd"):
        problem = "dockerd is not installed"
    elif os.geteuid() != 0:
        problem = "starting a second dockerd needs root"
    elif not shutil.which("unshare"):
        problem = "unshare (util-linux) is not installed: the second dockerd needs a network namespace"
    if problem:
        if REQUIRE_DOCKER:
            pytest.fail(problem + " (CODESHIP2COMPOSE_REQUIRE_DOCKER=1: CI must have it)")
        pytest.skip(problem)
    eng = Engine(Path(tempfile.mkdtemp(prefix="c2c-pools-", dir="/tmp")))  # short: socket paths
    try:
        eng.start()
        yield eng
    finally:
        eng.clear()
        eng.stop()


@pytest.fixture
def clean_engine(engine):
    """The engine before a test has nothing of an earlier test; after it, nothing is left."""
    engine.clear()
    yield engine
    left = engine.leftovers()
    engine.clear()
    assert not left, f"the run left these in the engine: {left}"


def sh(script: str) -> list[str]:
    return ["sh", "-c", script]


WIDE = 7  # branches: well over the engine's networks


@pytest.fixture(scope="module")
def wide_project(tmp_path_factory) -> Path:
    # Half of the branches have a dependency (their network is made by `up`), half none (by `run`).
    # Each writes a file in a shared host directory while it runs and notes how many it saw.
    services = {
        "db": {"image": "busybox", "command": sh('trap "exit 0" TERM; sleep 600 & wait')},
        "with-db": {"image": "busybox", "depends_on": ["db"], "volumes": ["./seen:/seen"]},
        "alone": {"image": "busybox", "volumes": ["./seen:/seen"]},
    }
    steps = [{"type": "parallel", "name": "shards", "steps": [
        {"name": f"shard{i}", "service": "with-db" if i % 2 else "alone",
         "command": sh(f"touch /seen/running.{i}; ls /seen | grep -c running > /seen/saw.{i}; "
                       f"sleep 2; rm /seen/running.{i}; echo shard {i} done")}
        for i in range(1, WIDE + 1)]}]
    return make_project(tmp_path_factory.mktemp("wide"), services, steps)


def _seen(project: Path) -> dict[int, int]:
    return {int(p.name.split(".")[1]): int(p.read_text()) for p in (project / "seen").glob("saw.*")}


def _fresh(project: Path) -> None:
    shutil.rmtree(project / "seen", ignore_errors=True)


@pytest.mark.docker
def test_a_group_wider_than_the_pools_passes(wide_project, clean_engine, compose):
    _fresh(wide_project)
    run = run_script(wide_project, compose, env={"DOCKER_HOST": clean_engine.host})
    assert run.returncode == 0, run
    assert run.passed() == {f"shard{i}" for i in range(1, WIDE + 1)}
    assert all(run.said(f"shard{i}")[-1:] == [f"shard {i} done"] for i in range(1, WIDE + 1)), run
    assert max(_seen(wide_project).values()) <= NETWORKS
    # it said what happened and what to change to run wider, once; Docker's own error is not shown
    assert run.output.count('"default-address-pools": [{"base": "172.16.0.0/12", "size": 24}]') == 1, run
    assert "no network address pool left" in run.output
    assert "non-overlapping" not in run.output and "Network" not in run.output


@pytest.mark.docker
def test_max_parallel_bounds_the_steps_running_at_once(wide_project, clean_engine, compose):
    _fresh(wide_project)
    run = run_script(wide_project, compose, "--max-parallel", "3", env={"DOCKER_HOST": clean_engine.host})
    assert run.returncode == 0, run
    assert run.passed() == {f"shard{i}" for i in range(1, WIDE + 1)}
    seen = _seen(wide_project)
    assert len(seen) == WIDE and max(seen.values()) <= 3, seen
    assert sum("queued: 3 steps of this run are running" in line for line in run.lines) == WIDE - 3, run
    assert "address pool" not in run.output  # it never needed more networks than it had


@pytest.fixture
def pools_held_elsewhere(clean_engine):
    """Every network of the engine taken, as by other runs on the same engine."""
    names = [f"other-run-{i}" for i in range(NETWORKS)]
    for name in names:
        clean_engine.docker("network", "create", name)
    yield names
    for name in names:
        clean_engine.docker("network", "rm", name, check=False)


@pytest.fixture(scope="module")
def one_step_project(tmp_path_factory) -> Path:
    services = {"db": {"image": "busybox", "command": sh('trap "exit 0" TERM; sleep 600 & wait')},
                "app": {"image": "busybox", "depends_on": ["db"]}}
    return make_project(tmp_path_factory.mktemp("one-step"), services,
                        [{"name": "only", "service": "app", "command": "echo ran"}])


@pytest.mark.docker
def test_a_step_waits_for_a_pool_that_another_run_frees(one_step_project, pools_held_elsewhere,
                                                         clean_engine, compose):
    bg = start_script(one_step_project, compose, env={"DOCKER_HOST": clean_engine.host})
    assert bg.wait_for(lambda lines: any("other runs on this engine hold them" in l for l in lines), 60)
    clean_engine.docker("network", "rm", pools_held_elsewhere[0])
    run = bg.finish()
    assert run.returncode == 0 and run.said("only") == ["ran"], run


@pytest.mark.docker
def test_a_step_gives_up_when_no_pool_frees_saying_what_to_change(one_step_project, pools_held_elsewhere,
                                                                   clean_engine, compose):
    run = run_script(one_step_project, compose,
                     env={"DOCKER_HOST": clean_engine.host, "C2C_POOL_TIMEOUT": "5"})
    assert run.returncode != 0 and run.failed() == {"only"}, run
    assert "gave up after waiting 5s for a network address pool" in run.output
    assert "default-address-pools" in run.output


@pytest.mark.parametrize("value", ["0", "-1", "two", ""])
def test_max_parallel_needs_a_whole_number(tmp_path, value):
    project = make_project(tmp_path, {"app": {"image": "busybox"}}, [{"name": "s", "service": "app", "command": "true"}])
    result = subprocess.run([str(project / "codeship-steps.sh"), "--max-parallel", value, "--list"],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert result.returncode == 2 and "--max-parallel needs a whole number" in result.stderr, result


def test_help_explains_max_parallel(tmp_path):
    project = make_project(tmp_path, {"app": {"image": "busybox"}}, [{"name": "s", "service": "app", "command": "true"}])
    result = subprocess.run([str(project / "codeship-steps.sh"), "--help"], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=60)
    assert "--max-parallel N" in result.stdout and "(default: 8;" in result.stdout


@pytest.mark.parametrize("variable, value", [("C2C_MAX_PARALLEL", "0"), ("C2C_MAX_PARALLEL", "many"),
                                             ("C2C_POOL_TIMEOUT", "soon")])
def test_bad_limits_from_the_environment_are_usage_errors(tmp_path, variable, value):
    project = make_project(tmp_path, {"app": {"image": "busybox"}}, [{"name": "s", "service": "app", "command": "true"}])
    result = subprocess.run([str(project / "codeship-steps.sh"), "--dry-run"], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=60, env={**os.environ, variable: value})
    assert result.returncode == 2 and variable in result.stderr, result


RUNTIME = runtime_file()


def test_the_run_lock_lets_one_branch_at_a_time_change_shared_state(tmp_path):
    """Parallel branches change the queue of slots under c2c_lock (a file created with noclobber,
    no fork): four processes that each add 1 to a counter 50 times under it lose no update."""
    (tmp_path / "count").write_text("0\n")
    script = ('source "$1"; C2C_STATE=$2; '
              'for b in 1 2 3 4; do ( for i in $(seq 50); do c2c_lock slots; read -r n <"$C2C_STATE/count"; '
              'printf "%s\\n" $((n + 1)) >"$C2C_STATE/count"; c2c_unlock slots; done ) & done; wait')
    subprocess.run(["bash", "-c", script, "bash", str(RUNTIME), str(tmp_path)], check=True, timeout=120,
                   stdin=subprocess.DEVNULL)
    assert (tmp_path / "count").read_text() == "200\n"
    assert not (tmp_path / "lock.slots").exists()
