"""Shared test fixtures: paths, external tools, and the Docker engine gate."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "golden"
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
REQUIRE_DOCKER = os.environ.get("CODESHIP2COMPOSE_REQUIRE_DOCKER") == "1"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite golden/*/ expected outputs from the current translator")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


def need_tool(*argv: str) -> None:
    """Skip unless the command answers; CI installs every tool, so there a miss is a failure."""
    try:
        ok = subprocess.run(list(argv), capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if not ok:
        message = f"{' '.join(argv)} is not available"
        if REQUIRE_DOCKER:
            pytest.fail(message + " (CODESHIP2COMPOSE_REQUIRE_DOCKER=1: CI must have it)")
        pytest.skip(message)


_ENGINE: bool | None = None


def docker_engine_answers() -> bool:
    global _ENGINE
    if _ENGINE is None:
        try:
            _ENGINE = subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _ENGINE = False
    return _ENGINE


def pytest_collection_modifyitems(config, items):
    if docker_engine_answers():
        return
    skip = pytest.mark.skip(reason="no Docker engine answers (start one: scripts/docker-engine.sh start)")
    for item in items:
        if "docker" in item.keywords:
            item.add_marker(skip)  # with CODESHIP2COMPOSE_REQUIRE_DOCKER=1 the session fails first


def pytest_sessionstart(session):
    if REQUIRE_DOCKER and not docker_engine_answers():
        raise pytest.UsageError("CODESHIP2COMPOSE_REQUIRE_DOCKER=1 but no Docker engine answers "
                                "(scripts/docker-engine.sh start)")


@pytest.fixture(params=["v2", "v1"])
def compose(request) -> str:
    """The Compose a generated script is told to use (`--compose v2|v1`)."""
    from e2e_support import COMPOSE_ARGV

    if request.param not in _COMPOSE_CHECKED:
        need_tool(*COMPOSE_ARGV[request.param], "version")  # skips (or fails in CI) when missing
        _COMPOSE_CHECKED.add(request.param)
    return request.param


_COMPOSE_CHECKED: set[str] = set()


@pytest.fixture
def no_leftovers():
    """Nothing of this test's script runs stays in the engine (other users of the engine are left
    alone: see e2e_support.ours)."""
    from e2e_support import engine_snapshot, forget_runs, ours, remove_from_engine

    forget_runs()
    before = engine_snapshot()
    yield
    left = ours(engine_snapshot() - before)
    if left:
        remove_from_engine(left)  # so that one leak does not fail the tests after it
        pytest.fail(f"the test left these in the engine: {sorted(left)}")


def copy_project(src: Path, dest: Path) -> Path:
    """A writable copy of a project (the corpus is read-only)."""
    shutil.copytree(src, dest, dirs_exist_ok=True)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest
