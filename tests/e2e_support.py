"""Helpers for the end-to-end tests (tests/test_e2e.py): write a Codeship project, translate it,
run the generated script against the real Docker engine, and see what a run left behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from click.testing import CliRunner

from translator.cli import main

COMPOSE_ARGV = {"v2": ("docker", "compose"), "v1": ("docker-compose",)}
RUN_TIMEOUT = 240  # seconds for one script run; a hang fails the test instead of the session

_STARTED = re.compile(r"^\(step: ((?:(?!\) ).)+)\)$")
_PASSED = re.compile(r"^\(step: (.+)\) success ✔ \(")
_FAILED = re.compile(r"^\(step: (.+)\) error ✗ ")
_SAID = re.compile(r"^\(service: ([^)]+)\) \(step: (.+?)\) (.*)$")
_LISTED = re.compile(r"^\[(run |skip)\] +(run|push|group|manual) (\S+)")
_ANONYMOUS_VOLUME = re.compile(r"[0-9a-f]{64}")


# --- projects ---------------------------------------------------------------------------------
def write_codeship(root: Path, services: dict, steps: list, files: dict[str, str] | None = None) -> Path:
    """A Codeship project on disk; the YAML is dumped from Python data, so commands are exactly
    the strings (or lists) written in the test."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "codeship-services.yml").write_text(yaml.safe_dump(services, sort_keys=False, width=1000))
    (root / "codeship-steps.yml").write_text(yaml.safe_dump(steps, sort_keys=False, width=1000))
    for name, text in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def translate(root: Path, *options: str) -> Path:
    """`codeship2compose translate ROOT OPTIONS...`; returns ROOT (where the outputs are)."""
    result = CliRunner().invoke(main, ["translate", str(root), *options], catch_exceptions=False)
    print(f"$ codeship2compose translate {root.name} {' '.join(options)}\n{result.output}")
    assert result.exit_code == 0, result.output
    assert (root / "codeship-steps.sh").is_file() and (root / "compose.yaml").is_file()
    return root


def make_project(root: Path, services: dict, steps: list, files: dict[str, str] | None = None,
                 *options: str) -> Path:
    return translate(write_codeship(root, services, steps, files), *options)


# --- running the script -----------------------------------------------------------------------
def script_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without CI_*/C2C_* variables, which would change what the script
    does (it takes CI_* values from the environment before git)."""
    env = {k: v for k, v in os.environ.items()
           if not (k == "CI" or k.startswith(("CI_", "C2C_", "COMPOSE_")))}
    env.update(extra or {})
    return env


@dataclass
class Run:
    argv: list[str]
    returncode: int
    output: str  # stdout and stderr, interleaved as written
    seconds: float

    @property
    def lines(self) -> list[str]:
        return self.output.splitlines()

    def _names(self, pattern: re.Pattern) -> set[str]:
        return {m.group(1) for line in self.lines if (m := pattern.match(line))}

    def started(self) -> set[str]:
        return self._names(_STARTED)

    def passed(self) -> set[str]:
        return self._names(_PASSED)

    def failed(self) -> set[str]:
        return self._names(_FAILED)

    def said(self, step: str, service: str | None = None, blank: bool = False) -> list[str]:
        """What the step's container printed: the lines prefixed `(service: S) (step: NAME) `.
        Empty lines are left out unless blank=True: Compose v2 adds one to a failed `run`."""
        return [m.group(3) for line in self.lines
                if (m := _SAID.match(line)) and m.group(2) == step and service in (None, m.group(1))
                and (blank or m.group(3))]

    def index(self, predicate) -> int:
        """The number of the first line for which predicate(line) holds; -1 if none."""
        return next((i for i, line in enumerate(self.lines) if predicate(line)), -1)

    def listed(self, mark: str = "run ") -> set[str]:
        """--list output: the run steps marked [run ] (or [skip])."""
        return {m.group(3) for line in self.lines
                if (m := _LISTED.match(line)) and m.group(1) == mark and m.group(2) == "run"}

    def __str__(self) -> str:
        return f"$ {' '.join(self.argv)}\n(exit {self.returncode} after {self.seconds:.1f}s)\n{self.output}"


# The engine may be shared with other users: a test only looks at (and removes) what its own
# runs created. A run's id is `c2c` + the script's PID in hex + 4 hex digits; every container,
# network and volume of the run is named after it (`c2c…-1-app-run-…`, `c2c…-1_default`, …).
_OURS: list[re.Pattern] = []


def forget_runs() -> None:
    _OURS.clear()


def _claim_run(pid: int) -> None:
    _OURS.append(re.compile(rf"c2c{pid:x}[0-9a-f]{{4}}[-_]"))


def ours(items: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(kind, name) for kind, name in items if any(p.match(name) for p in _OURS)}


def script_argv(project: Path, compose: str | None, *args: str) -> list[str]:
    argv = [str(project / "codeship-steps.sh")]
    if compose:
        argv += ["--compose", compose]
    return argv + list(args)


def run_script(project: Path, compose: str | None, *args: str, timeout: float = RUN_TIMEOUT,
               env: dict[str, str] | None = None) -> Run:
    """Run the generated script to its end (stdin closed, in its own session so that a hang can
    be ended with everything it started)."""
    argv = script_argv(project, compose, *args)
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=script_env(env),
                            start_new_session=True)
    _claim_run(proc.pid)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _end_group(proc)
        output, _ = proc.communicate()
        raise AssertionError(f"{' '.join(argv)} did not finish in {timeout}s; output so far:\n{output}")
    run = Run(argv, proc.returncode, output, time.monotonic() - started)
    print(run)
    return run


def _end_group(proc: subprocess.Popen) -> None:
    """End a script that overran, with the processes it started (its own session)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class Background:
    """A script running in the background, its output collected line by line."""

    proc: subprocess.Popen
    argv: list[str]
    started: float
    lines: list[str] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _reader: threading.Thread | None = None

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, predicate, timeout: float) -> bool:
        """Wait until predicate(lines) holds (True) or the timeout passes or the script ends."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.lines):
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    return predicate(self.lines)
                self._changed.wait(min(left, 0.5))
            return True

    def finish(self, timeout: float = RUN_TIMEOUT) -> Run:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _end_group(self.proc)
            raise AssertionError(f"{' '.join(self.argv)} did not end in {timeout}s:\n" + "\n".join(self.lines))
        self._reader.join(timeout=30)
        run = Run(self.argv, self.proc.returncode, "\n".join(self.lines) + "\n",
                  time.monotonic() - self.started)
        print(run)
        return run


def start_script(project: Path, compose: str | None, *args: str, env: dict[str, str] | None = None) -> Background:
    """Start the script as a child process (never through a shell: a background job of a
    non-interactive shell would ignore SIGINT)."""
    argv = script_argv(project, compose, *args)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=script_env(env),
                            start_new_session=True, bufsize=1)
    _claim_run(proc.pid)
    bg = Background(proc, argv, time.monotonic())
    bg._reader = threading.Thread(target=bg._pump, daemon=True)
    bg._reader.start()
    return bg


# --- what a run leaves in the engine ----------------------------------------------------------
def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def engine_snapshot() -> set[tuple[str, str]]:
    """Containers, networks and volumes whose names start with the runs' prefix `c2c`. Compare
    a snapshot before with one after (and keep only `ours`): the engine need not be empty."""
    items: set[tuple[str, str]] = set()
    for kind, args in (("container", ("ps", "-a", "--format", "{{.Names}}")),
                       ("network", ("network", "ls", "--format", "{{.Name}}")),
                       ("volume", ("volume", "ls", "--format", "{{.Name}}"))):
        items |= {(kind, name) for name in docker(*args).stdout.split() if name.startswith("c2c")}
    return items


def anonymous_volumes_of(containers: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The anonymous volumes mounted by these containers (they carry no name to filter by)."""
    names = sorted(n for k, n in containers if k == "container")
    if not names:
        return set()
    result = docker("inspect", "-f", '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}',
                    *names, check=False)
    return {("volume", v) for v in result.stdout.split() if _ANONYMOUS_VOLUME.fullmatch(v)}


def existing(items: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these still exist."""
    out = set()
    for kind, name in items:
        if docker(kind, "inspect", name, check=False).returncode == 0:
            out.add((kind, name))
    return out


def wait_until(predicate, timeout: float, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def remove_from_engine(items: set[tuple[str, str]]) -> None:
    """Remove what a run left (containers first: they hold networks and volumes); only ever
    called with `ours`."""
    containers = sorted(n for k, n in items if k == "container")
    if containers:
        docker("rm", "-f", "-v", *containers, check=False)
    networks = sorted(n for k, n in items if k == "network")
    if networks:
        docker("network", "rm", *networks, check=False)
    volumes = sorted(n for k, n in items if k == "volume")
    if volumes:
        docker("volume", "rm", "-f", *volumes, check=False)


def remove_images(*names: str) -> None:
    for name in names:
        docker("rmi", "-f", name, check=False)


def image_exists(name: str) -> bool:
    return docker("image", "inspect", name, check=False).returncode == 0
