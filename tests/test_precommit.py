"""The pre-commit hook this repository ships (.pre-commit-hooks.yaml), run by real pre-commit the
way a project uses it: from its .pre-commit-config.yaml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, REQUIRE_DOCKER
from helpers import write_project

_GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **_GIT_ENV}).stdout.strip()


def _this_checkout_as_a_repo(dest: Path) -> str:
    """A repository holding this checkout as it is now (uncommitted changes too); its commit."""
    files = _git(REPO, "ls-files", "-co", "--exclude-standard", "-z").split("\0")
    for name in filter(None, files):
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", ".")
    _git(dest, "commit", "-qm", "this checkout")
    return _git(dest, "rev-parse", "HEAD")


def _run_hooks(project: Path, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=project,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, **_GIT_ENV, "PRE_COMMIT_HOME": str(home)})


def test_the_hook_passes_fresh_outputs_and_fails_stale_ones(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    hook_repo = tmp_path / "codeship2compose"
    rev = _this_checkout_as_a_repo(hook_repo)
    project = write_project(tmp_path / "project", "app:\n  image: busybox\n", **{
        ".pre-commit-config.yaml": f"repos:\n- repo: {hook_repo}\n  rev: {rev}\n  hooks:\n  - id: codeship2compose\n"})
    subprocess.run([sys.executable, "-m", "translator", "translate"], cwd=project, check=True,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    _git(project, "init", "-q")
    _git(project, "add", ".")
    home = tmp_path / "pre-commit-home"

    fresh = _run_hooks(project, home)
    if fresh.returncode != 0 and "Could not find a version" in fresh.stdout + fresh.stderr and not REQUIRE_DOCKER:
        pytest.skip("pre-commit could not install the hook's dependencies (no package index here)")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "codeship2compose outputs are up to date" in fresh.stdout and "Passed" in fresh.stdout

    (project / "codeship-steps.yml").write_text("- service: app\n  command: echo changed\n")
    _git(project, "add", ".")
    stale = _run_hooks(project, home)
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "Failed" in stale.stdout and "codeship-steps.sh: stale (out of date)" in stale.stdout
    assert "compose.yaml" not in stale.stdout.split("Failed", 1)[1]
