#!/usr/bin/env python3
"""Whole-process benchmark of codeship2compose: `python3 bench/run.py [--quick] [--cases A,B]`.

Measures this checkout (not an installed copy) against floors measured in the same run, in
interleaved rounds so that machine noise hits cases and floors alike. See bench/README.md.
Exit status: 0 unless a measured command failed (the targets are reported, not asserted).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

REPO = Path(__file__).resolve().parent.parent
# The shared corpus: next to the repository, or next to the folder of its git worktrees.
CORPUS = next((p / "shared" / "corpus" for p in REPO.parents if (p / "shared" / "corpus").is_dir()),
              REPO.parent / "shared" / "corpus")  # --corpus DIR
EXAMPLE = CORPUS / "codeship__codeship-tool-examples"  # --example DIR
AUDIT_LIMIT_S = 10.0  # an organisation of 300 projects "in seconds, not minutes"
SEED = 20240611
REPS, QUICK_REPS = 7, 3
LINEARITY_LIMIT = 12.0

CLI_CODE = "import sys; from translator.cli import main; sys.exit(main())"  # what the entry point runs
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
    before: Callable[[], None] | None = None  # set-up before each run, not timed
    after: Callable[[], None] | None = None  # clean-up once all runs are done
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    failed: str | None = None
    ok_exit: tuple[int, ...] = (0,)  # audit exits 1 when a project fails to translate (the corpus has some)

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def peak_mib(self) -> float | None:
        return max(self.rss_kib) / 1024 if self.rss_kib else None


# Linux keeps a process's peak RSS across fork and exec: a child forked from this (large)
# process would report at least this process's peak. So the measured commands are started by
# a small spawner process, which forks, execs and reaps them with os.wait4 and reports wall
# time, ru_maxrss, exit status and CPU time.
SPAWNER_CODE = r"""
import os, sys, time
rd, wr = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = rd.read(10)
    if len(head) < 10:
        break
    cwd, err, *argv = rd.read(int(head)).split(b"\0")
    fds = [os.open(b"/dev/null", os.O_RDONLY), os.open(b"/dev/null", os.O_WRONLY),
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

    def run(self, cmd: Cmd, err: Path) -> tuple[int, float, int, float]:
        """Exit code, wall time (s), peak RSS (KiB), CPU time (user + system, with children)."""
        payload = b"\0".join(os.fsencode(str(x)) for x in [cmd.cwd, err, *cmd.argv])
        self.proc.stdin.write(b"%010d" % len(payload) + payload)
        self.proc.stdin.flush()
        code, elapsed, rss, cpu = self.proc.stdout.readline().split()
        return int(code), float(elapsed), int(rss), float(cpu)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def measure(cmds: list[Cmd], spawner: Spawner, logdir: Path) -> None:
    """One warm-up run per command, then rounds of every command once, in a shuffled order."""
    def one(cmd: Cmd, record: bool) -> None:
        err = logdir / (cmd.key.replace("/", "__") + ".err")
        if cmd.before:
            cmd.before()
        code, elapsed, rss, cpu = spawner.run(cmd, err)
        if code not in cmd.ok_exit:
            text = err.read_text(encoding="utf-8", errors="replace")
            first = next((line for line in text.splitlines() if "error" in line.lower()), "")
            cmd.failed = f"exit {code}" + (f": {first.strip()}" if first else "")
            print(f"FAILED: {cmd.label}: {' '.join(cmd.argv)} (in {cmd.cwd}):\n{text[-2000:]}", file=sys.stderr)
        elif record:
            cmd.times.append(elapsed)
            cmd.rss_kib.append(rss)
            cmd.cpu.append(cpu)

    for cmd in cmds:
        one(cmd, record=False)
    rng = random.Random(SEED)
    for r in range(max(c.reps for c in cmds)):
        order = [c for c in cmds if r < c.reps and not c.failed]
        rng.shuffle(order)
        for cmd in order:
            one(cmd, record=True)


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------

SIZES = {"steps-1000": (1000, 0), "steps-10000": (10000, 0), "services-100": (0, 100),
         "services-1000": (0, 1000), "steps-10000+services-1000": (10000, 1000)}
INPUT_CASES = ["example", *SIZES]
ALL_CASES = [*INPUT_CASES, "help", "audit", "script-list", "script-dry-run", "engine-step", "engine-parallel", "engine-cached"]
HUGE = {"steps-10000", "steps-10000+services-1000"}  # fewer runs
COMPOSE = {"v2": "docker compose", "v1": "docker-compose"}
PARALLEL_SLEEP = 3  # seconds each step of the parallel case sleeps
CACHED_SLEEP = 5  # seconds the Dockerfile of the cached case's service sleeps in a RUN


def prepare_input(case: str, root: Path, example: Path) -> tuple[Path, list[Path]]:
    """The project directory of an input case, and its Codeship files (for floor (a))."""
    dest = root / "inputs" / case
    if case == "example":  # the official examples, copied (the corpus is read-only)
        shutil.copytree(example, dest, copy_function=shutil.copyfile)
        for path in [dest, *dest.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        return dest, [dest / "codeship-services.yml", dest / "codeship-steps.yml"]
    steps, services = SIZES[case]
    if not services:
        return dest, write_project(dest, HANDFUL_SERVICES, gen_steps(steps, STEP_SERVICES, SEED + steps))
    generated = gen_services(services, SEED + services)
    names = service_names_for_steps(generated)
    step_tree = gen_steps(steps, names, SEED + steps) if steps else gen_steps(6, names[:5], SEED)
    return dest, write_project(dest, generated, step_tree)


def translate_once(cli: list[str], project: Path, env: dict) -> None:
    """Set-up for the script cases: the generated script of a project."""
    done = subprocess.run([*cli, "translate", "."], cwd=project, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"translating {project} for the script cases failed:\n{done.stderr}")


def count_projects(cli: list[str], corpus: Path, env: dict) -> int:
    """How many projects audit finds in the corpus (asked once, before measuring)."""
    done = subprocess.run([*cli, "audit", str(corpus), "--format", "json"], env=env, capture_output=True, text=True)
    try:
        return len(json.loads(done.stdout)["projects"])
    except (ValueError, KeyError):
        sys.exit(f"audit of {corpus} did not print its JSON:\n{done.stderr[-2000:]}")


def engine_commands(cases: list[str], root: Path, reps: int, cli: list[str], env: dict) -> list[Cmd]:
    """The script on a real engine, per Compose installed: one trivial step against the bare
    `run --rm` + `down` it wraps, and a parallel group of four 3 s steps against the same four bare
    commands started at once (and each against one such step, for information)."""
    def answers(*argv: str) -> bool:
        try:
            return subprocess.run(argv, capture_output=True, timeout=60).returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False

    if not answers("docker", "info"):
        print("engine cases: no Docker engine answers (scripts/docker-engine.sh start); not measured",
              file=sys.stderr)
        return []
    cmds = []
    if "engine-cached" in cases:
        for v, compose in COMPOSE.items():
            if answers(*compose.split(), "version"):
                cmds += cached_commands(v, root, reps, cli, env)
    if not {"engine-step", "engine-parallel"} & set(cases):
        return cmds
    project = root / "inputs" / "engine"
    write_project(project, {"app": {"image": "busybox"}}, [
        {"name": "trivial", "service": "app", "command": "true"},
        {"name": "one", "service": "app", "command": f"sleep {PARALLEL_SLEEP}"},
        {"type": "parallel", "name": "four", "service": "app",
         "steps": [{"name": f"p{i}", "command": f"sleep {PARALLEL_SLEEP}"} for i in range(1, 5)]},
    ])
    translate_once(cli, project, env)
    script = str(project / "codeship-steps.sh")
    for v, compose in COMPOSE.items():
        if not answers(*compose.split(), "version"):
            print(f"engine cases: {compose} is not installed; not measured", file=sys.stderr)
            continue
        if "engine-step" in cases:
            project_args = '-f compose.yaml -p "c2cbench$$"'
            bare = f"{compose} {project_args} run --rm -T --use-aliases app true && {compose} {project_args} down"
            cmds.append(Cmd(f"engine/bare-{v}", f"engine {v}: bare run --rm + down", ["sh", "-c", bare],
                            project, reps))
            cmds.append(Cmd(f"engine/step-{v}", f"engine {v}: script, one trivial step",
                            [script, "--compose", v, "--step", "trivial"], project, reps, f"engine/bare-{v}"))
        if "engine-parallel" in cases:
            # the same four `run --rm` + `down` started together, without the script: what the
            # engine itself takes for four at once on this machine
            one = (f'{compose} -f compose.yaml -p "c2cbench$$-$1" run --rm -T --use-aliases app sleep {PARALLEL_SLEEP}'
                   f' >/dev/null && {compose} -f compose.yaml -p "c2cbench$$-$1" down >/dev/null 2>&1')
            four = f"one() {{ {one}; }}; one 1 & one 2 & one 3 & one 4 & wait"
            cmds.append(Cmd(f"engine/bare-one-{v}", f"engine {v}: bare, one {PARALLEL_SLEEP} s run + down",
                            ["bash", "-c", f"one() {{ {one}; }}; one 1"], project, reps))
            cmds.append(Cmd(f"engine/bare-parallel-{v}", f"engine {v}: bare, 4 parallel {PARALLEL_SLEEP} s run + down",
                            ["bash", "-c", four], project, reps, f"engine/bare-one-{v}"))
            cmds.append(Cmd(f"engine/one-{v}", f"engine {v}: script, one {PARALLEL_SLEEP} s step",
                            [script, "--compose", v, "--step", "one"], project, reps))
            cmds.append(Cmd(f"engine/parallel-{v}", f"engine {v}: script, 4 parallel {PARALLEL_SLEEP} s steps",
                            [script, "--compose", v, "--step", "four"], project, reps, f"engine/bare-parallel-{v}"))
    return cmds


def cached_commands(v: str, root: Path, reps: int, cli: list[str], env: dict) -> list[Cmd]:
    """A `cached: true` service whose Dockerfile sleeps CACHED_SLEEP s in a RUN, built by the
    GitLab job that `translate --ci gitlab` writes (load the cached image, the script with
    C2C_CACHE_FROM, save it), on a fresh runner each time: the image and the BuildKit cache records
    of this Dockerfile are removed before every run (not timed). First run: an empty cache
    folder; second run: the folder as a first run left it (the platform's cache, simulated by a
    directory copied in before the run, not timed)."""
    token = f"c2cbench-cached-{v}-{os.getpid()}-{random.randrange(1 << 30):x}"
    project = root / "inputs" / f"cached-{v}"
    write_project(project, {"app": {"build": {"image": token, "context": "."}, "cached": True}},
                  [{"name": "test", "service": "app", "command": "cat /token"}])
    (project / "Dockerfile").write_text(f"FROM busybox\nRUN sleep {CACHED_SLEEP} && echo {token} > /token\n"
                                        f"RUN echo {token} > /second\n")
    done = subprocess.run([*cli, "translate", ".", "--ci", "gitlab"], cwd=project, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"translating {project} failed:\n{done.stderr}")
    pipeline = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    job = pipeline["s01-test"]
    lines = [f"export {k}={shlex.quote(str(x))}" for k, x in job.get("variables", {}).items()]
    (project / "job.sh").write_text("set -eo pipefail\n" + "\n".join(
        [f"export C2C_COMPOSE={v}", *lines, *pipeline["default"]["before_script"], *job["script"]]) + "\n")
    workspace, store = project / ".c2c-cache", root / f"cache-store-{v}"

    def fresh_runner(restore: bool) -> None:
        forget_build(token)
        shutil.rmtree(workspace, ignore_errors=True)
        if restore:
            shutil.copytree(store, workspace, symlinks=True)

    fresh_runner(False)  # a first run fills the platform's cache the second runs restore
    first = subprocess.run(["bash", "job.sh"], cwd=project, env=env, capture_output=True, text=True)
    if first.returncode != 0:
        sys.exit(f"the cached case's job failed:\n{first.stdout}{first.stderr}")
    shutil.copytree(workspace, store, symlinks=True)
    argv = ["bash", "job.sh"]
    return [Cmd(f"cached/first-{v}", f"engine {v}: CI job, cached service, empty cache", argv, project, reps,
                before=lambda: fresh_runner(False), after=lambda: forget_build(token)),
            Cmd(f"cached/second-{v}", f"engine {v}: CI job, cached service, cache restored", argv, project, reps,
                f"cached/first-{v}", before=lambda: fresh_runner(True), after=lambda: forget_build(token))]


def forget_build(token: str) -> None:
    """A fresh runner for the cached case: its image, and the BuildKit cache records of its
    Dockerfile's RUN lines (they hold token), removed; nothing else of the engine."""
    subprocess.run(["docker", "rmi", "-f", token], capture_output=True)
    for _ in range(5):
        out = subprocess.run(["docker", "system", "df", "-v", "--format", "{{json .BuildCache}}"],
                             capture_output=True, text=True).stdout
        ids = [r["ID"] for r in json.loads(out or "null") or [] if token in (r.get("Description") or "")]
        if not ids:
            return
        for record in ids:
            subprocess.run(["docker", "builder", "prune", "-af", "--filter", f"id={record}"], capture_output=True)


def build_commands(cases: list[str], root: Path, reps: int, huge_reps: int, env: dict,
                   example: Path, corpus: Path = CORPUS) -> list[Cmd]:
    py = sys.executable
    cli = [py, "-c", CLI_CODE]
    cmds: list[Cmd] = []
    for case in cases:
        if case not in INPUT_CASES:
            continue
        if case == "example" and not example.is_dir():
            print(f"example: {example} is not here (--example DIR); not measured", file=sys.stderr)
            continue
        project, files = prepare_input(case, root, example)
        n = huge_reps if case in HUGE else reps
        cmds.append(Cmd(f"{case}/floor-a", f"{case}: floor (a) import+yaml.load",
                        [py, "-c", FLOOR_A_CODE, *(f.name for f in files)], project, n))
        cmds.append(Cmd(f"{case}/translate", f"{case}: translate",
                        [*cli, "translate", ".", "-o", str(root / "outputs" / case)], project, n, f"{case}/floor-a"))
    if "help" in cases:
        cmds.append(Cmd("help/floor-b", "help: floor (b) import click", [py, "-c", FLOOR_B_CODE], root, reps))
        cmds.append(Cmd("help/help", "help: codeship2compose --help", [*cli, "--help"], root, reps, "help/floor-b"))
    if "audit" in cases:
        if corpus.is_dir():  # read in place: audit writes nothing under its roots
            cmds.append(Cmd("audit/corpus", f"audit: the whole corpus ({count_projects(cli, corpus, env)} projects)",
                            [*cli, "audit", str(corpus), "--format", "json"], root, reps, ok_exit=(0, 1)))
        else:
            print(f"audit: {corpus} is not here (--corpus DIR); not measured", file=sys.stderr)
    if "script-list" in cases or "script-dry-run" in cases:
        # the script of the 1,000-step project, translated once before measuring
        project, _ = prepare_input("steps-1000", root / "script", example)
        translate_once(cli, project, env)
        script = str(project / "codeship-steps.sh")
        if "script-list" in cases:  # as a user runs it: with the probe for the Compose version
            cmds.append(Cmd("script/list", "script (1,000 steps): --list", [script, "--list"], project, reps))
        if "script-dry-run" in cases:
            cmds.append(Cmd("script/dry-run", "script (1,000 steps): --dry-run --compose v2",
                            [script, "--dry-run", "--compose", "v2"], project, reps))
    engine = [c for c in cases if c.startswith("engine-")]
    if engine:
        cmds += engine_commands(engine, root, min(reps, 5), cli, env)
    return cmds


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def fmt_t(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def report(cmds: list[Cmd]) -> None:
    by_key = {c.key: c for c in cmds}
    width = max(len(c.label) for c in cmds) + 2
    header = f"{'case':<{width}}{'runs':>5}{'median':>10}{'cpu':>10}{'peak RSS':>12}{'vs floor':>10}"
    print(header + "\n" + "-" * len(header))
    for c in cmds:
        if c.failed:
            print(f"{c.label:<{width}}  FAILED ({c.failed})")
            continue
        floor = by_key.get(c.floor) if c.floor else None
        ratio = f"{c.median / floor.median:.2f}x" if floor and floor.median else "-"
        print(f"{c.label:<{width}}{len(c.times):>5}{fmt_t(c.median):>10}{fmt_t(statistics.median(c.cpu)):>10}"
              f"{c.peak_mib:>8.1f} MiB{ratio:>10}")


def targets(cmds: list[Cmd]) -> None:
    by_key = {c.key: c for c in cmds}
    print("\nTargets (reported, not asserted):")

    def measured(what: str, *keys: str) -> list[Cmd] | None:
        """The commands, when all were measured; else None, after saying why."""
        found = [by_key.get(k) for k in keys]
        if all(c and c.median for c in found):
            return found
        failed = next((c for c in found if c and c.failed), None)
        print(f"  FAIL  {what}: {failed.label} failed ({failed.failed})" if failed else f"  ----  {what}: not measured")
        return None

    def ratio(key: str, floor_key: str, limit: float, what: str) -> None:
        if pair := measured(what, key, floor_key):
            c, f = pair
            r = c.median / f.median
            print(f"  {'PASS' if r <= limit else 'FAIL'}  {what}: {r:.2f}x (<= {limit}x) [{fmt_t(c.median)} vs "
                  f"{fmt_t(f.median)}; CPU time {statistics.median(c.cpu) / statistics.median(f.cpu):.2f}x]")

    def absolute(key: str, limit_s: float, what: str, limit_mib: float | None = None) -> None:
        if found := measured(what, key):
            c = found[0]
            ok = c.median < limit_s and (limit_mib is None or c.peak_mib < limit_mib)
            mib = f", peak {c.peak_mib:.1f} MiB (< {limit_mib:g} MiB)" if limit_mib else ""
            print(f"  {'PASS' if ok else 'FAIL'}  {what}: {fmt_t(c.median)} (< {limit_s:g} s){mib}")

    def linear(big: str, small: str) -> None:
        what = f"translate {big} / {small} (time minus floor (a); 10x the input)"
        if found := measured(what, f"{big}/translate", f"{small}/translate", f"{big}/floor-a", f"{small}/floor-a"):
            b, s, bf, sf = found
            if s.median <= sf.median:
                print(f"  ----  {what}: not judged ({small} is not slower than its floor: noise; run again)")
                return
            net = (b.median - bf.median) / (s.median - sf.median)
            cpu = [statistics.median(c.cpu) for c in found]
            net_cpu = f"{(cpu[0] - cpu[2]) / (cpu[1] - cpu[3]):.2f}x" if cpu[1] > cpu[3] else "-"
            print(f"  {'PASS' if net <= LINEARITY_LIMIT else 'FAIL'}  {what}: {net:.2f}x (<= {LINEARITY_LIMIT:g}x) "
                  f"[{fmt_t(b.median - bf.median)} / {fmt_t(s.median - sf.median)}; CPU time: {net_cpu}]")

    ratio("example/translate", "example/floor-a", 1.3, "translate on the example <= 1.3x floor (a)")
    ratio("help/help", "help/floor-b", 1.2, "--help <= 1.2x floor (b)")
    absolute("steps-10000+services-1000/translate", 3.0, "translate 10,000 steps + 1,000 services", 150)
    linear("steps-10000", "steps-1000")
    linear("services-1000", "services-100")
    if found := measured("audit of the whole corpus", "audit/corpus"):
        c = found[0]
        projects = int(c.label.split("(")[1].split()[0])
        print(f"  {'PASS' if c.median < AUDIT_LIMIT_S else 'FAIL'}  audit of the whole corpus: {projects} projects "
              f"in {fmt_t(c.median)} (< {AUDIT_LIMIT_S:g} s), {c.median / projects * 1000:.1f} ms per project; "
              f"300 projects: about {fmt_t(c.median / projects * 300)}")
    absolute("script/list", 1.0, "script --list on 1,000 steps")
    absolute("script/dry-run", 1.0, "script --dry-run on 1,000 steps")
    for v in COMPOSE:
        ratio(f"engine/step-{v}", f"engine/bare-{v}", 1.1, f"Compose {v}: one step over the bare run --rm + down")
        ratio(f"engine/parallel-{v}", f"engine/bare-parallel-{v}", 1.1,
              f"Compose {v}: 4 parallel steps over the same 4 bare run --rm + down at once")
        if found := measured(f"Compose {v}: 4 parallel steps over one (information)", f"engine/parallel-{v}",
                             f"engine/one-{v}", f"engine/bare-parallel-{v}", f"engine/bare-one-{v}"):
            par, one, bare_par, bare_one = found
            print(f"  info  Compose {v}: 4 parallel steps over one: script {par.median / one.median:.2f}x, "
                  f"the bare Compose commands {bare_par.median / bare_one.median:.2f}x (the engine's share of 2 cores)")
        what = f"Compose {v}: a CI job's second run, cache restored, saves >= 80% of the {CACHED_SLEEP} s RUN"
        if pair := measured(what, f"cached/second-{v}", f"cached/first-{v}"):
            second, first = pair
            saved = first.median - second.median
            print(f"  {'PASS' if saved >= 0.8 * CACHED_SLEEP else 'FAIL'}  {what}: {saved:.1f} s saved "
                  f"[{fmt_t(second.median)} vs {fmt_t(first.median)}]")


# --------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="cases: " + ", ".join(ALL_CASES))
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_REPS} runs per command (huge cases: 1)")
    ap.add_argument("--cases", help="comma-separated case names (default: all)")
    ap.add_argument("--example", type=Path, default=EXAMPLE,
                    help="the official examples' directory (default: %(default)s)")
    ap.add_argument("--corpus", type=Path, default=CORPUS,
                    help="the folder the audit case audits (default: %(default)s)")
    args = ap.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()] if args.cases else ALL_CASES
    if unknown := [c for c in cases if c not in ALL_CASES]:
        ap.error(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(ALL_CASES)}")
    reps = QUICK_REPS if args.quick else REPS
    huge_reps = 1 if args.quick else 3

    env = dict(os.environ, PYTHONPATH=str(REPO))  # this checkout, not an installed copy
    # Bytecode is cached (as for an installed package), outside the source tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "codeship2compose-bench-pycache")
    root = Path(tempfile.mkdtemp(prefix="c2c-bench-"))
    try:
        cmds = build_commands(cases, root, reps, huge_reps, env, args.example, args.corpus)
        if not cmds:
            print("nothing to measure")
            return 0
        (root / "logs").mkdir()
        print(f"{len(cmds)} commands, {reps} runs each ({huge_reps} for {', '.join(sorted(HUGE))}) after a "
              f"warm-up, in interleaved rounds", file=sys.stderr)
        spawner = Spawner(env)
        try:
            measure(cmds, spawner, root / "logs")
        finally:
            spawner.close()
            for cmd in cmds:
                if cmd.after:
                    cmd.after()
        print(f"python {sys.version.split()[0]}, PyYAML {yaml.__version__} (libyaml: "
              f"{'yes' if getattr(yaml, '__with_libyaml__', False) else 'no'}); {os.cpu_count()} CPUs, load "
              f"average {os.getloadavg()[0]:.2f} at the end; medians of whole processes (fork+exec to exit)\n")
        report(cmds)
        targets(cmds)
        return 1 if any(c.failed for c in cmds) else 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
