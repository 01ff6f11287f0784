#!/usr/bin/env python3
"""Whole-process benchmark of codeship2compose: `python3 bench/run.py [--quick] [--cases A,B]`.

Every figure is the median wall time of a fresh process (plus its peak RSS, from os.wait4),
measured side by side with its floor in one run: the commands are run in interleaved rounds
(every command once per round, in a shuffled order) so that machine noise hits cases and
floors alike. See bench/README.md for what each column means.

Floors:
  (a) `python3 -c` that imports PyYAML, click and Jinja2 and yaml-loads the same input files
      (CSafeLoader when PyYAML has libyaml): one floor per input case;
  (b) `python3 -c 'import click'`: the floor of `codeship2compose --help`.

The synthetic projects are generated deterministically (seeded) by this script.
Exit status: 0 unless a measured command failed (the targets are reported, not asserted).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CORPUS = Path("/work/shared/corpus/codeship__codeship-tool-examples")
SEED = 20240611
DEFAULT_REPS = 7
QUICK_REPS = 3
LINEARITY_LIMIT = 12.0
SLOW_RUN = 5.0  # seconds: a command slower than this...
SLOW_BUDGET = 20.0  # ...gets at most this many seconds of measured runs (at least one run)

FLOOR_A_CODE = (
    "import sys, yaml, click, jinja2\n"
    "L = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)\n"
    "for p in sys.argv[1:]:\n"
    "    with open(p, 'rb') as f:\n"
    "        yaml.load(f, Loader=L)\n"
)
FLOOR_B_CODE = "import click"


# --------------------------------------------------------------------------------------------
# Synthetic projects (deterministic: everything comes from random.Random(seed))
# --------------------------------------------------------------------------------------------

TAGS = [  # (key, value): plain names and RE2 regexes (a value with ^ or $ is a regex)
    ("tag", "master"),
    ("tag", "develop"),
    ("tag", "^release/"),
    ("tag", "^(master|main)$"),
    ("tag", r"^v[0-9]+\.[0-9]+\.[0-9]+$"),
    ("tag", r"^feature/[a-z0-9-]+$"),
    ("exclude", "gh-pages"),
    ("exclude", "^dependabot/"),
    ("exclude", r"-wip$"),
]

STRING_COMMANDS = [
    "bundle exec rspec spec/models/model_{i}_spec.rb --tag ~slow",
    "make test-{i} JOBS=2",
    "sh -c 'echo step {i} && ./bin/check --verbose'",
    'npm run test -- --grep "suite {i}"',
    "./scripts/ci.sh --shard {i} --of 64",
    "python -m pytest tests/unit/test_{i}.py -q",
]
LIST_COMMANDS = [
    ["sh", "-c", "make lint-{i} && echo ok"],
    ["go", "test", "./pkg/{i}/...", "-run", "Test.*"],
    ["cat", "/artifacts/result-{i}.txt"],
]


def _command(rng: random.Random, i: int):
    if rng.random() < 0.3:
        return [w.replace("{i}", str(i)) for w in rng.choice(LIST_COMMANDS)]
    return rng.choice(STRING_COMMANDS).replace("{i}", str(i))


class _StepGen:
    """Steps with nested serial/parallel groups (2-3 levels), tags/excludes, list and string
    commands; exactly `total` command steps."""

    def __init__(self, rng: random.Random, services: list[str]):
        self.rng = rng
        self.services = services
        self.leaves = 0

    def _filter(self, step: dict, p: float) -> None:
        if self.rng.random() < p:
            key, value = self.rng.choice(TAGS)
            step[key] = value

    def leaf(self, service: str | None) -> dict:
        self.leaves += 1
        i = self.leaves
        step: dict = {}
        if self.rng.random() < 0.25:
            step["name"] = f"step-{i}"
        if service is None:
            step["service"] = self.rng.choice(self.services)
        step["command"] = _command(self.rng, i)
        self._filter(step, 0.08)
        return step

    def group(self, budget: int, depth: int, service: str | None = None) -> dict:
        rng = self.rng
        kind = "parallel" if rng.random() < 0.5 else "serial"
        group: dict = {"type": kind}
        if rng.random() < 0.3:
            group["name"] = f"{kind}-{self.leaves + 1}-d{depth}"
        self._filter(group, 0.1)
        children: list = []
        # The deepest groups may set the service for all their steps (inherited).
        if service is None and (depth == 3 or budget <= 4) and rng.random() < 0.4:
            service = rng.choice(self.services)
            group["service"] = service
        while budget > 0:
            if depth < 3 and budget >= 3 and service is None and rng.random() < 0.35:
                size = min(budget, rng.randint(2, max(2, budget // 2)))
                children.append(self.group(size, depth + 1, service))
            else:
                size = 1
                children.append(self.leaf(service))
            budget -= size
        group["steps"] = children
        return group


def gen_steps(total: int, services: list[str], seed: int) -> list:
    gen = _StepGen(random.Random(seed), services)
    top: list = []
    left = total
    while left > 0:
        size = min(left, gen.rng.randint(8, 24))
        # Top-level groups are depth 1; some children are groups (depth 2), some of those
        # have groups again (depth 3).
        top.append(gen.group(size, 1))
        left -= size
    assert gen.leaves == total, (gen.leaves, total)
    return top


# One "cluster" of services; later entries only reference earlier ones (no cycles), so a
# partial last cluster (a prefix of this list) is always valid.
_CLUSTER = ["data", "db", "cache", "app", "worker", "web", "test", "migrate", "docs", "tool"]


def gen_services(total: int, seed: int) -> dict:
    rng = random.Random(seed)
    services: dict = {}
    clusters = (total + len(_CLUSTER) - 1) // len(_CLUSTER)
    n = 0
    for c in range(clusters):
        p = f"c{c:03d}"
        for kind in _CLUSTER:
            if n == total:
                break
            n += 1
            s: dict
            if kind == "data":
                s = {"image": "busybox", "volumes": ["/data", f"./artifacts/{p}:/artifacts"]}
            elif kind == "db":
                s = {"image": rng.choice(["postgres:15", "mysql:8", "postgres:9.6"]),
                     "environment": {"POSTGRES_PASSWORD": f"pw{c}", "POSTGRES_DB": f"db_{c}",
                                     "PGDATA": "/var/lib/postgresql/data"}}
            elif kind == "cache":
                s = {"image": "redis:7", "command": "redis-server --appendonly yes"}
            elif kind == "app":
                s = {"build": {"image": f"example/{p}-app", "context": f"./apps/{p}",
                               "dockerfile": "Dockerfile", "args": {"RUBY_VERSION": "3.2",
                                                                    "BRANCH": "{{ .Branch }}"}},
                     "links": [f"{p}-db", f"{p}-cache:redis"], "depends_on": [f"{p}-db"],
                     "volumes_from": [f"{p}-data"],
                     "environment": ["RAILS_ENV=test", f"DATABASE_URL=postgres://{p}-db/db_{c}",
                                     "PRICE=$5"]}
                if c > 0 and rng.random() < 0.3:  # a shared service of an earlier cluster
                    s["links"].append(f"c{rng.randrange(c):03d}-cache:shared-cache")
            elif kind == "worker":
                s = {"build": f"./apps/{p}", "command": ["bundle", "exec", "sidekiq"],
                     "depends_on": [f"{p}-app", f"{p}-cache"], "volumes_from": [f"{p}-data:ro"],
                     "environment": {"QUEUE": "default", "CONCURRENCY": str(rng.randint(1, 8))}}
            elif kind == "web":
                s = {"image": "nginx:1.25", "links": [f"{p}-app:backend"],
                     "volumes": [f"./conf/{p}/nginx.conf:/etc/nginx/nginx.conf:ro"]}
            elif kind == "test":
                s = {"build": {"context": f"./apps/{p}", "dockerfile": "Dockerfile.test"},
                     "links": [f"{p}-db", f"{p}-cache"], "depends_on": [f"{p}-db", f"{p}-cache"],
                     "volumes_from": [f"{p}-data"], "working_dir": "/app",
                     "environment": {"CI": "true", "SHARD": str(c)}}
            elif kind == "migrate":
                s = {"image": f"example/{p}-app", "command": "bin/rails db:migrate",
                     "depends_on": [f"{p}-db"], "environment": {"RAILS_ENV": "test"}}
            elif kind == "docs":
                s = {"build": {"path": f"./docs/{p}", "dockerfile_path": "Dockerfile"},
                     "volumes": [f"./docs/{p}/out:/site/out"]}
            else:  # tool
                s = {"image": "alpine:3.19", "volumes_from": [f"{p}-app"], "user": "1000:1000",
                     "entrypoint": ["/bin/sh", "-c"]}
            services[f"{p}-{kind}"] = s
    return services


HANDFUL_SERVICES = {
    "app": {"build": {"image": "example/app", "context": ".", "dockerfile": "Dockerfile"},
            "links": ["db", "redis"], "depends_on": ["db"], "volumes_from": ["data"],
            "environment": {"RAILS_ENV": "test"}},
    "db": {"image": "postgres:15", "environment": {"POSTGRES_PASSWORD": "pw"}},
    "redis": {"image": "redis:7"},
    "data": {"image": "busybox", "volumes": ["./tmp:/artifacts"]},
    "worker": {"build": "./worker", "volumes_from": ["data"], "links": ["redis"]},
    "deploy": {"image": "example/deploy:latest", "environment": ["AWS_REGION=eu-west-1"]},
}

STEP_SERVICES = ["app", "worker", "deploy", "db"]  # what the steps projects' steps run

def write_project(dest: Path, services: dict, steps: list) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    files = []
    for name, doc in (("codeship-services.yml", services), ("codeship-steps.yml", steps)):
        path = dest / name
        path.write_text(yaml.dump(doc, Dumper=dumper, sort_keys=False, default_flow_style=False,
                                  width=1000), encoding="utf-8")
        files.append(path)
    return files


def service_names_for_steps(services: dict) -> list[str]:
    return [n for n in services if n.rsplit("-", 1)[-1] in ("app", "worker", "test", "migrate", "tool")] \
        or list(services)


# --------------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------------

@dataclass
class Cmd:
    key: str
    label: str  # what the table shows
    argv: list[str]
    cwd: Path
    reps: int
    floor: str | None = None  # key of the floor command
    group: str = ""
    warmup: int = 1
    times: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    failed: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def peak_mib(self) -> float | None:
        return max(self.rss_kib) / 1024 if self.rss_kib else None


def _log(logdir: Path, cmd: Cmd, kind: str) -> Path:
    return logdir / f"{cmd.key.replace('/', '__')}.{kind}"


# Linux keeps a process's peak RSS across fork and exec: a child forked from this (large)
# process would report at least this process's peak. So the measured commands are started by
# a small spawner process, which forks, execs and reaps them with os.wait4 and reports wall
# time, ru_maxrss and exit status; its own peak (a few MiB: the header prints what `true`
# reads) is the lowest RSS a reading can show.
SPAWNER_CODE = r"""
import os, sys, time
rd, wr = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = rd.read(10)
    if len(head) < 10:
        break
    cwd, out, err, *argv = rd.read(int(head)).split(b"\0")
    fds = [os.open(b"/dev/null", os.O_RDONLY),
           os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
           os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)]
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(cwd)
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - t0
    for fd in fds:
        os.close(fd)
    wr.write(b"%d %.9f %d %.6f\n" % (os.waitstatus_to_exitcode(status), elapsed, usage.ru_maxrss,
                                      usage.ru_utime + usage.ru_stime))
    wr.flush()
"""


class Spawner:
    def __init__(self, env: dict):
        self.proc = subprocess.Popen([sys.executable, "-S", "-c", SPAWNER_CODE], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def run(self, argv: list[str], cwd: Path, out: Path, err: Path) -> tuple[float, int, int, float]:
        """Wall time (s), peak RSS (KiB), exit code, CPU time (user + system, s); RSS and CPU
        time cover the child and its waited-for descendants."""
        payload = b"\0".join(os.fsencode(str(x)) for x in [cwd, out, err, *argv])
        self.proc.stdin.write(b"%010d" % len(payload) + payload)
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the spawner process died")
        code, elapsed, rss, cpu = line.split()
        return float(elapsed), int(rss), int(code), float(cpu)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def run_once(spawner: Spawner, cmd: Cmd, logdir: Path) -> tuple[float, int, int, float]:
    return spawner.run(cmd.argv, cmd.cwd, _log(logdir, cmd, "out"), _log(logdir, cmd, "err"))


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line for line in text[-lines:])


def measure(cmds: list[Cmd], spawner: Spawner, logdir: Path, verbose: bool) -> None:
    def one(cmd: Cmd, record: bool) -> float | None:
        elapsed, rss, code, cpu = run_once(spawner, cmd, logdir)
        if code != 0:
            text = "\n".join(_log(logdir, cmd, kind).read_text(encoding="utf-8", errors="replace")
                             for kind in ("err", "out"))  # check prints its diagnostics to stdout
            first = next((line for line in text.splitlines() if "error" in line), "")
            cmd.failed = f"exit {code}" + (f": {first.strip()}" if first else "")
            print(f"FAILED: {cmd.label}: {' '.join(cmd.argv)} (in {cmd.cwd}) exited {code}\n"
                  f"  stderr:\n{_tail(_log(logdir, cmd, 'err'))}\n"
                  f"  stdout:\n{_tail(_log(logdir, cmd, 'out'), 5)}", file=sys.stderr)
            return None
        if record:
            cmd.times.append(elapsed)
            cmd.rss_kib.append(rss)
            cmd.cpu.append(cpu)
        return elapsed

    def cap(cmd: Cmd, elapsed: float | None) -> None:
        # Slow commands get fewer runs: at most SLOW_BUDGET seconds each (at least one run).
        if elapsed and elapsed > SLOW_RUN:
            cmd.reps = max(1, min(cmd.reps, int(SLOW_BUDGET / elapsed)))

    for cmd in cmds:
        for _ in range(cmd.warmup):
            if not cmd.failed:
                cap(cmd, one(cmd, record=False))
    rng = random.Random(SEED)
    r = 0
    while r < max((c.reps for c in cmds), default=0):
        order = [c for c in cmds if r < c.reps and not c.failed]
        rng.shuffle(order)
        t0 = time.perf_counter()
        for cmd in order:
            elapsed = one(cmd, record=True)
            if r == 0 and cmd.warmup == 0:
                cap(cmd, elapsed)
        r += 1
        if verbose:
            print(f"  round {r}: {len(order)} commands, {time.perf_counter() - t0:.1f}s", file=sys.stderr)


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------

STEP_SIZES = {"steps-100": 100, "steps-1000": 1000, "steps-10000": 10000}
SERVICE_SIZES = {"services-10": 10, "services-100": 100, "services-1000": 1000}
INPUT_CASES = ["example", *STEP_SIZES, *SERVICE_SIZES, "steps-10000+services-1000"]
OTHER_CASES = ["help", "script-list", "script-dry-run"]
ENGINE_CASES = ["engine-step", "engine-parallel"]  # need a Docker engine (skipped without one)
ALL_CASES = INPUT_CASES + OTHER_CASES + ENGINE_CASES
HUGE = {"steps-10000", "steps-10000+services-1000"}


def prepare_input(case: str, root: Path) -> tuple[Path, list[Path]]:
    """The project directory of an input case, and its Codeship files (for floor (a))."""
    dest = root / "inputs" / case
    if case == "example":
        shutil.copytree(CORPUS, dest, copy_function=shutil.copyfile)
        for dirpath, dirnames, filenames in os.walk(dest):  # the corpus is read-only
            os.chmod(dirpath, 0o755)
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o644)
        return dest, [dest / "codeship-services.yml", dest / "codeship-steps.yml"]
    if case in STEP_SIZES:
        services = HANDFUL_SERVICES
        steps = gen_steps(STEP_SIZES[case], STEP_SERVICES, SEED + STEP_SIZES[case])
    elif case in SERVICE_SIZES:
        services = gen_services(SERVICE_SIZES[case], SEED + SERVICE_SIZES[case])
        steps = gen_steps(6, service_names_for_steps(services)[:5], SEED)
    elif case == "steps-10000+services-1000":
        services = gen_services(1000, SEED + 1000)
        steps = gen_steps(10000, service_names_for_steps(services), SEED + 10000)
    else:  # pragma: no cover
        raise ValueError(case)
    return dest, write_project(dest, services, steps)


def code_version() -> str:
    """The translator version and git state of the working tree measured."""
    repo = Path(__file__).resolve().parent.parent
    try:
        from translator import __version__ as version
    except ImportError:
        version = "?"
    try:
        sha = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "translator",
                                "templates", "pyproject.toml"], capture_output=True, text=True,
                               timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return f"codeship2compose {version}"
    state = f", uncommitted changes in {len(dirty)} file(s) of translator/ and templates/" if dirty else ""
    return f"codeship2compose {version} at git {sha or '?'}{state}"


def console_script() -> str:
    """The installed entry point itself (not a pyenv shim, which would add a bash + pyenv start)."""
    candidate = Path(sysconfig.get_path("scripts")) / "codeship2compose"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("codeship2compose")
    if not found:
        sys.exit("codeship2compose is not installed: pip install -e '.[test]'")
    return found


COMPOSE = {"v2": "docker compose", "v1": "docker-compose"}
PARALLEL_SLEEP = 3  # seconds each step of the parallel case sleeps (the issue: 4 steps of 3 s)


def engine_composes() -> tuple[list[str], str]:
    """The Compose versions the engine cases can use here, and why any are missing."""
    def answers(*argv: str) -> bool:
        try:
            return subprocess.run(argv, capture_output=True, timeout=60).returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False

    if not answers("docker", "info"):
        return [], "no Docker engine answers (scripts/docker-engine.sh start)"
    found = [v for v, argv in COMPOSE.items() if answers(*argv.split(), "version")]
    missing = [COMPOSE[v] for v in COMPOSE if v not in found]
    return found, f"{', '.join(missing)} not installed" if missing else ""


def engine_commands(cases: list[str], root: Path, reps: int, env: dict, exe: str) -> tuple[list[Cmd], str]:
    """The script on a real engine: one trivial step against the bare `run --rm` + `down` it
    wraps, and a parallel group of four 3 s steps against one such step alone."""
    composes, missing = engine_composes()
    if not composes:
        return [], missing
    project = root / "inputs" / "engine"
    write_project(project, {"app": {"image": "busybox"}}, [
        {"name": "trivial", "service": "app", "command": "true"},
        {"name": "one", "service": "app", "command": f"sleep {PARALLEL_SLEEP}"},
        {"type": "parallel", "name": "four", "service": "app",
         "steps": [{"name": f"p{i}", "command": f"sleep {PARALLEL_SLEEP}"} for i in range(1, 5)]},
    ])
    subprocess.run([exe, "translate", "."], cwd=project, env=env, check=True, stdout=subprocess.DEVNULL)
    script = str(project / "codeship-steps.sh")
    cmds = []
    for v in composes:
        if "engine-step" in cases:
            bare = (f'{COMPOSE[v]} -f compose.yaml -p "c2cbench$$" run --rm -T --use-aliases app true && '
                    f'{COMPOSE[v]} -f compose.yaml -p "c2cbench$$" down')
            cmds.append(Cmd(f"engine/bare-{v}", f"engine {v}: bare run --rm + down", ["sh", "-c", bare],
                            project, reps, group=f"engine-step-{v}"))
            cmds.append(Cmd(f"engine/step-{v}", f"engine {v}: script, one trivial step",
                            [script, "--compose", v, "--step", "trivial"], project, reps, f"engine/bare-{v}",
                            f"engine-step-{v}"))
        if "engine-parallel" in cases:
            cmds.append(Cmd(f"engine/one-{v}", f"engine {v}: script, one {PARALLEL_SLEEP} s step",
                            [script, "--compose", v, "--step", "one"], project, reps, group=f"engine-par-{v}"))
            cmds.append(Cmd(f"engine/parallel-{v}", f"engine {v}: script, 4 parallel {PARALLEL_SLEEP} s steps",
                            [script, "--compose", v, "--step", "four"], project, reps, f"engine/one-{v}",
                            f"engine-par-{v}"))
    return cmds, missing


def build_commands(cases: list[str], root: Path, reps: int, huge_reps: int, env: dict) -> list[Cmd]:
    exe = console_script()
    py = sys.executable
    cli = [exe]
    cmds: list[Cmd] = []
    # The warm-ups of the small cases fill the bytecode cache for the huge ones (same modules),
    # so those skip theirs, unless they are measured alone.
    huge_warmup = 0 if any(c in INPUT_CASES and c not in HUGE for c in cases) else 1
    for case in cases:
        if case not in INPUT_CASES:
            continue
        project, files = prepare_input(case, root)
        n = huge_reps if case in HUGE else reps
        warm = huge_warmup if case in HUGE else 1
        floor = f"{case}/floor-a"
        rel = [str(f.relative_to(project)) for f in files]
        out = root / "outputs" / case
        cmds.append(Cmd(floor, f"{case}: floor (a) import+yaml.load", [py, "-c", FLOOR_A_CODE, *rel],
                        project, n, group=case, warmup=warm))
        cmds.append(Cmd(f"{case}/translate", f"{case}: translate", [*cli, "translate", ".", "-o", str(out)],
                        project, n, floor, case, warm))
        if case != "steps-10000+services-1000":
            cmds.append(Cmd(f"{case}/check", f"{case}: check", [*cli, "check", "."], project, n, floor,
                            case, warm))
    if "help" in cases:
        cmds.append(Cmd("help/floor-b", "help: floor (b) import click", [py, "-c", FLOOR_B_CODE], root,
                        reps, group="help"))
        cmds.append(Cmd("help/help", "help: codeship2compose --help", [exe, "--help"], root, reps,
                        "help/floor-b", "help"))
    engine_cases = [c for c in cases if c in ENGINE_CASES]
    if engine_cases:
        engine, missing = engine_commands(engine_cases, root, max(2, min(reps, 5)), env, exe)
        cmds += engine
        if missing:
            print(f"engine cases: {missing}; not measured there", file=sys.stderr)
    script_cases = [c for c in cases if c.startswith("script-")]
    if script_cases:
        # The script of the 1,000-step project (the same input as steps-1000), translated once
        # before measuring.
        project = root / "inputs" / "script-steps-1000"
        write_project(project, HANDFUL_SERVICES, gen_steps(1000, STEP_SERVICES, SEED + 1000))
        out = root / "outputs" / "script-steps-1000"
        setup = subprocess.run([exe, "translate", ".", "-o", str(out)], cwd=project, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        script = str(out / "codeship-steps.sh")
        if setup.returncode != 0:
            print(f"FAILED: translating the 1,000-step project for the script cases:\n{setup.stderr}",
                  file=sys.stderr)
            error = next((line for line in setup.stderr.splitlines() if "error" in line), "")
            for c in script_cases:
                cmds.append(Cmd(f"script/{c}", f"script (1,000 steps): {c[7:]}", [script], out, reps,
                                group="script", failed=f"translate exited {setup.returncode}: {error}"))
            return cmds
        if "script-list" in cases:
            cmds.append(Cmd("script/list", "script (1,000 steps): --list", [script, "--list"], out, reps,
                            group="script"))
            cmds.append(Cmd("script/list-v2", "script (1,000 steps): --list --compose v2",
                            [script, "--list", "--compose", "v2"], out, reps, group="script"))
        if "script-dry-run" in cases:
            # No warm-up (nothing to warm in bash; the script was just written); slow runs are
            # capped by SLOW_BUDGET.
            cmds.append(Cmd("script/dry-run", "script (1,000 steps): --dry-run --compose v2",
                            [script, "--dry-run", "--compose", "v2"], out, reps, group="script",
                            warmup=0))
    return cmds


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def fmt_t(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def report(cmds: list[Cmd]) -> bool:
    by_key = {c.key: c for c in cmds}
    width = max(len(c.label) for c in cmds) + 2
    header = f"{'case':<{width}}{'runs':>5}{'median':>10}{'min':>10}{'max':>10}{'cpu':>10}{'peak RSS':>12}" \
             f"{'vs floor':>10}{'minus floor':>13}"
    print(header)
    print("-" * len(header))
    group = None
    for c in cmds:
        if group is not None and c.group != group:
            print()
        group = c.group
        floor = by_key.get(c.floor) if c.floor else None
        ratio = minus = "-"
        if c.failed:
            print(f"{c.label:<{width}}  FAILED ({c.failed})")
            continue
        if floor and floor.median and c.median:
            ratio = f"{c.median / floor.median:.2f}x"
            minus = fmt_t(c.median - floor.median)
        rss = f"{c.peak_mib:.1f} MiB" if c.peak_mib is not None else "-"
        print(f"{c.label:<{width}}{len(c.times):>5}{fmt_t(c.median):>10}{fmt_t(min(c.times)):>10}"
              f"{fmt_t(max(c.times)):>10}{fmt_t(statistics.median(c.cpu)):>10}{rss:>12}{ratio:>10}"
              f"{minus:>13}")
    return not any(c.failed for c in cmds)


def linearity(cmds: list[Cmd]) -> None:
    by_key = {c.key: c for c in cmds}
    print("\nLinearity (translate; target: 10x the input costs at most "
          f"{LINEARITY_LIMIT:g}x the time, judged on the time minus floor (a)):")
    for big, small in (("steps-10000", "steps-1000"), ("services-1000", "services-100")):
        b, s = by_key.get(f"{big}/translate"), by_key.get(f"{small}/translate")
        bf, sf = by_key.get(f"{big}/floor-a"), by_key.get(f"{small}/floor-a")
        failed = [c for c in (b, s) if c and c.failed]
        if failed:
            print(f"  FAIL  time({big}) / time({small}): {failed[0].label} failed ({failed[0].failed})")
            continue
        if not (b and s and b.median and s.median and bf and sf and bf.median and sf.median):
            print(f"  {big} / {small}: not measured (run both cases)")
            continue
        raw = b.median / s.median
        net_b, net_s = b.median - bf.median, s.median - sf.median
        net = net_b / net_s if net_s > 0 else float("inf")
        verdict = "PASS" if net <= LINEARITY_LIMIT else "FAIL"
        print(f"  {verdict}  time({big}) / time({small}): raw {raw:.2f}x "
              f"({fmt_t(b.median)} / {fmt_t(s.median)}); minus floor {net:.2f}x "
              f"({fmt_t(net_b)} / {fmt_t(net_s)}) {'<=' if net <= LINEARITY_LIMIT else '>'} "
              f"{LINEARITY_LIMIT:g}")


def targets(cmds: list[Cmd]) -> None:
    by_key = {c.key: c for c in cmds}
    print("\nTargets (from the issue; reported, not asserted):")

    def ratio_line(key: str, floor_key: str, limit: float, what: str) -> None:
        c, f = by_key.get(key), by_key.get(floor_key)
        if c and c.failed:
            print(f"  FAIL  {what}: the command failed ({c.failed})")
            return
        if not (c and f and c.median and f.median):
            print(f"  ----  {what}: not measured")
            return
        r = c.median / f.median
        print(f"  {'PASS' if r <= limit else 'FAIL'}  {what}: {r:.2f}x (<= {limit}x) "
              f"[medians {fmt_t(c.median)} vs {fmt_t(f.median)}; CPU time: "
              f"{statistics.median(c.cpu) / statistics.median(f.cpu):.2f}x; fastest runs: "
              f"{min(c.times) / min(f.times):.2f}x]")

    def abs_line(key: str, limit_s: float, what: str, limit_mib: float | None = None) -> None:
        c = by_key.get(key)
        if c and c.failed:
            print(f"  FAIL  {what}: the command failed ({c.failed})")
            return
        if not (c and c.median):
            print(f"  ----  {what}: not measured")
            return
        ok = c.median < limit_s
        text = f"{fmt_t(c.median)} (< {limit_s:g} s; CPU time {fmt_t(statistics.median(c.cpu))})"
        if limit_mib is not None:
            ok = ok and c.peak_mib < limit_mib
            text += f", peak {c.peak_mib:.1f} MiB (< {limit_mib:g} MiB)"
        print(f"  {'PASS' if ok else 'FAIL'}  {what}: {text}")

    ratio_line("example/translate", "example/floor-a", 1.3, "translate on the example <= 1.3x floor (a)")
    ratio_line("help/help", "help/floor-b", 1.2, "--help <= 1.2x floor (b)")
    abs_line("steps-10000+services-1000/translate", 3.0,
             "translate 10,000 steps + 1,000 services", limit_mib=150)
    abs_line("script/list", 1.0, "script --list on 1,000 steps")
    abs_line("script/list-v2", 1.0, "script --list --compose v2 on 1,000 steps")
    abs_line("script/dry-run", 1.0, "script --dry-run --compose v2 on 1,000 steps")
    for v in COMPOSE:
        ratio_line(f"engine/step-{v}", f"engine/bare-{v}", 1.1,
                   f"Compose {v}: the script's per-step overhead over the bare run --rm + down < 10%")
        ratio_line(f"engine/parallel-{v}", f"engine/one-{v}", 1.3,
                   f"Compose {v}: 4 parallel {PARALLEL_SLEEP} s steps <= 1.3x one such step")


# --------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="cases: " + ", ".join(ALL_CASES))
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_REPS} runs per command (huge cases: 1)")
    ap.add_argument("--cases", help="comma-separated case names (default: all)")
    ap.add_argument("--reps", type=int, help=f"runs per command (default {DEFAULT_REPS}; huge cases: 3)")
    ap.add_argument("--no-bytecode-cache", action="store_true",
                    help="keep the environment's PYTHONDONTWRITEBYTECODE for the measured processes")
    ap.add_argument("--keep", metavar="DIR", help="generate the projects in DIR and keep them (for profiling)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print progress per round")
    args = ap.parse_args()

    cases = ALL_CASES if not args.cases else [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in ALL_CASES]
    if unknown:
        ap.error(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(ALL_CASES)}")
    reps = args.reps or (QUICK_REPS if args.quick else DEFAULT_REPS)
    huge_reps = 1 if args.quick else min(reps, 3)

    env = dict(os.environ)
    env_dwb = os.environ.get("PYTHONDONTWRITEBYTECODE")
    root = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp(prefix="c2c-bench-"))
    if args.keep:
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
    if args.no_bytecode_cache:
        bytecode_note = (f"bytecode caching as in the environment (PYTHONDONTWRITEBYTECODE="
                         f"{env_dwb or 'unset'}): modules without an existing .pyc are compiled in every run")
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        # Caches go to a prefix directory, not into the source tree or site-packages.
        prefix = Path(tempfile.gettempdir()) / "codeship2compose-bench-pycache"
        env["PYTHONPYCACHEPREFIX"] = str(prefix)
        bytecode_note = (f"bytecode caching ON for the measured processes: PYTHONDONTWRITEBYTECODE "
                         f"(here: {env_dwb or 'unset'}) removed, PYTHONPYCACHEPREFIX={prefix}; the "
                         f"warm-up run fills the cache (use --no-bytecode-cache to measure without)")

    t_start = time.perf_counter()
    try:
        cmds = build_commands(cases, root, reps, huge_reps, env)
        if not cmds:
            print("nothing to measure")
            return 0
        logdir = root / "logs"
        logdir.mkdir(exist_ok=True)
        print(f"codeship2compose benchmark: {len(cmds)} commands, {reps} runs each "
              f"({huge_reps} for {', '.join(sorted(HUGE))}; at most {SLOW_BUDGET:g} s of runs for a "
              f"command slower than {SLOW_RUN:g} s), after a warm-up, in interleaved rounds",
              file=sys.stderr)
        spawner = Spawner(env)
        try:
            calib = [spawner.run(["true"], root, logdir / "true.out", logdir / "true.err")[1]
                     for _ in range(3)]
            measure(cmds, spawner, logdir, verbose=args.verbose)
        finally:
            spawner.close()
        elapsed = time.perf_counter() - t_start

        print(f"python: {sys.executable} ({sys.version.split()[0]}), PyYAML {yaml.__version__} "
              f"libyaml={'yes' if getattr(yaml, '__with_libyaml__', False) else 'no'}; "
              f"CLI: {console_script()}")
        print(f"code: {code_version()}")
        print(f"note: {bytecode_note}")
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end "
              f"(other work on the machine is noise); run took {elapsed:.0f} s")
        print("times are medians of whole processes (fork+exec to exit); cpu = median user+system time; "
              "peak RSS = max over runs\nof ru_maxrss from wait4 (the spawner's floor: `true` reads "
              f"{max(calib) / 1024:.1f} MiB)\n")
        ok = report(cmds)
        if any(c.key.endswith("/translate") for c in cmds):
            linearity(cmds)
        targets(cmds)
        if not ok:
            print("\nsome commands FAILED (their stderr is shown above the table)"
                  + (f"; logs in {root / 'logs'}" if args.keep else ""))
        return 0 if ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
