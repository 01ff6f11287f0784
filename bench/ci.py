"""The CI side of the benchmark (bench/run.py cases `ci-runners` and `ci-overhead`).

- ci_runner_starts: over the corpus, the runner starts per build (translator.ci.forecast) of the
  default branch, a feature branch and a tag, in the default layout (one runner per build) and
  with --ci-fanout, summed over every project that translates, per platform.
- ci_overhead: what one more job costs, measured on the local runners: a project of two trivial
  steps in order, its GitHub workflow run with act and its GitLab pipeline with gitlab-ci-local, in the
  default layout (one job) and with --ci-fanout (two jobs); the difference is one job's overhead
  (runner start, checkout, settings). Few runs (CI_REPS): each is a whole pipeline."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("C2C_CORPUS", REPO.parent / "shared" / "corpus"))  # MANIFEST.tsv's folder
ACTIONS = REPO / "tests" / "ci_actions"
CI_REPS = 3


def ci_runner_starts(corpus: Path = CORPUS) -> None:
    sys.path[:0] = [str(REPO), str(REPO / "tests")]
    import conformance_report

    from translator.api import translate
    from translator.ci.forecast import forecast

    conformance_report.CORPUS = corpus
    totals: dict = {}
    count = 0
    for project in conformance_report.discover_projects(corpus):
        result = translate(project.path)
        if not result.ok or result.project is None:
            continue
        count += 1
        for platform in ("github", "gitlab"):
            for layout, kinds in forecast(result.project, platform=platform).items():
                for kind, numbers in kinds.items():
                    slot = totals.setdefault((platform, layout, kind), {"runner_starts": 0, "jobs": 0, "images_built": 0})
                    for key, n in numbers.items():
                        slot[key] += n
    if not count:
        print(f"\nCI runner starts: no corpus at {corpus} (set C2C_CORPUS)")
        return
    print(f"\nCI runner starts per build over {count} corpus projects (sums; runner starts / jobs / images built):")
    print(f"  {'platform':8} {'layout':22} {'default branch':>16} {'feature branch':>16} {'tag':>16}")
    for platform in ("github", "gitlab"):
        for layout, name in (("default", "one runner per build"), ("fanout", "--ci-fanout")):
            cells = ["{runner_starts} / {jobs} / {images_built}".format(**totals[(platform, layout, kind)])
                     for kind in ("default_branch", "feature_branch", "tag")]
            print(f"  {platform:8} {name:22} " + " ".join(f"{c:>16}" for c in cells))


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def _project(root: Path, platform: str, fanout: bool, env: dict) -> Path:
    repo = root / f"{platform}-{'fanout' if fanout else 'default'}"
    repo.mkdir(parents=True)
    (repo / "codeship-services.yml").write_text("app:\n  image: busybox\n")
    (repo / "codeship-steps.yml").write_text("- name: one\n  service: app\n  command: 'true'\n"
                                             "- name: two\n  service: app\n  command: 'true'\n")
    (repo / ".gitignore").write_text(".gitlab-ci-local/\n")
    _git(root, "init", "-q", "-b", "master", str(repo))
    subprocess.run([sys.executable, "-m", "translator", "translate", ".", "--ci", platform,
                    *(["--ci-fanout"] if fanout else [])], cwd=repo, env=env, check=True, capture_output=True)
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-q", "-m", "b")
    return repo


def _time(argv: list[str], cwd: Path, env: dict) -> float | None:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    took = time.perf_counter() - start
    if done.returncode != 0:
        print(f"  (failed: {' '.join(argv[:2])}: {done.stdout[-400:]}{done.stderr[-400:]})")
        return None
    return took


def ci_overhead(env: dict) -> None:
    gcl_dir = subprocess.run([str(REPO / "scripts" / "ci-runners.sh"), "path"], capture_output=True,
                             text=True).stdout.strip()
    gcl = os.path.join(gcl_dir, "gitlab-ci-local") if gcl_dir else ""
    act = shutil.which("act")
    print(f"\nCI per-job overhead of a trivial step ({CI_REPS} runs each, medians; two trivial steps, one after the other):")
    root = Path(tempfile.mkdtemp(prefix="c2c-bench-ci-"))
    try:
        for platform, runner in (("github", act), ("gitlab", gcl if gcl and os.access(gcl, os.X_OK) else None)):
            if not runner:
                print(f"  {platform}: not measured (scripts/ci-runners.sh install)")
                continue
            medians = {}
            for fanout in (False, True):
                repo = _project(root, platform, fanout, env)
                if platform == "github":
                    event = root / "push.json"
                    event.write_text(json.dumps({"ref": "refs/heads/master"}))
                    argv = [runner, "push", "-e", str(event), "-P", "ubuntu-latest=-self-hosted",
                            "--env", f"C2C_TEST_REPO={repo}", "--local-repository",
                            f"actions/checkout@v4={ACTIONS / 'checkout'}"]
                else:
                    argv = [runner, "--shell-isolation", "--no-color"]
                runs = [_time(argv, repo, env) for _ in range(CI_REPS)]
                good = [r for r in runs if r is not None]
                medians[fanout] = statistics.median(good) if good else None
            one, two = medians[False], medians[True]
            if one is None or two is None:
                continue
            print(f"  {platform}: one job {one:.1f} s, --ci-fanout (two jobs) {two:.1f} s: "
                  f"{two - one:+.1f} s for the second job (on a hosted runner add its start, typically 10-40 s, "
                  "and a billed minute rounded up per job)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
