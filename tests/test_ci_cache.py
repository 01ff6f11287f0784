"""`cached: true` on GitHub Actions / GitLab CI: the jobs keep the built image of each cached
service in the platform's cache (`docker save`), load it on the next run's runner, and the script
builds with it as the layer cache (C2C_CACHE_FROM: `cache_from` + BuildKit's inline cache
metadata). A fresh runner is simulated on the shared engine by removing the image and the BuildKit
cache records of this test's Dockerfile (a unique token in every RUN line), nothing else."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from e2e_support import docker, make_project, remove_images, run_script, script_argv, script_env
from translator.api import translate

SLOW = 4  # seconds the Dockerfile's RUN sleeps


def cached_project(root: Path, image: str, token: str, *options: str) -> Path:
    services = {"app": {"build": {"image": image, "context": "."}, "cached": True},
                "plain": {"image": "busybox"}}
    steps = [{"name": "test", "service": "app", "command": ["cat", "/token"]}]
    dockerfile = f"FROM busybox\nRUN echo {token} > /token && sleep {SLOW}\nRUN echo {token} > /second\n"
    return make_project(root, services, steps, {"Dockerfile": dockerfile}, *options)


def forget_build(token: str, *images: str) -> None:
    """A fresh runner: the images and the BuildKit cache records of the RUN lines holding token
    gone (children before parents: a record in use by another cannot be pruned)."""
    remove_images(*images)
    for _ in range(5):
        df = subprocess.run(["curl", "-s", "--unix-socket", "/var/run/docker.sock", "http://localhost/system/df"],
                            capture_output=True, text=True, check=True).stdout
        ids = [r["ID"] for r in json.loads(df).get("BuildCache") or [] if token in (r.get("Description") or "")]
        if not ids:
            return
        for record in ids:
            docker("builder", "prune", "-af", "--filter", f"id={record}", check=False)
    raise AssertionError(f"BuildKit cache records of {token} could not be removed")


def cache_hits(output: str, token: str) -> int:
    """Build lines of the RUN steps holding token that were served from the cache: BuildKit
    prints `#N CACHED` after the step's line, the classic builder ` ---> Using cache`."""
    lines = output.splitlines()
    hits = 0
    for i, line in enumerate(lines):
        if token in line and "RUN" in line:
            after = " ".join(lines[i + 1:i + 3])
            hits += "CACHED" in after or "Using cache" in after
    return hits


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_a_loaded_image_is_the_layer_cache_of_the_next_build(tmp_path, compose):
    token = f"c2c-cache-{uuid.uuid4().hex[:12]}"
    image = f"c2c-e2e-{token}"
    project = cached_project(tmp_path / "p", image, token)
    saved = tmp_path / "app.tar"
    try:
        first = run_script(project, compose, env={"C2C_CACHE_FROM": "app"})
        assert first.returncode == 0, first
        assert cache_hits(first.output, token) == 0
        docker("save", "-o", str(saved), image)
        forget_build(token, image)
        docker("load", "-q", "-i", str(saved))  # what the job does with the platform's cache
        second = run_script(project, compose, env={"C2C_CACHE_FROM": "app"})
        assert second.returncode == 0, second
        assert second.said("test") == [token]
        assert cache_hits(second.output, token) == 2, second  # both RUN lines, the slow one too
    finally:
        forget_build(token, image)


def test_dry_run_shows_the_cache_of_the_listed_services_only(tmp_path):
    token = f"c2c-cache-{uuid.uuid4().hex[:12]}"
    project = cached_project(tmp_path / "p", f"c2c-e2e-{token}", token)
    argv = script_argv(project, "v2", "--dry-run")
    out = subprocess.run(argv, capture_output=True, text=True, env=script_env({"C2C_CACHE_FROM": "app"})).stdout
    assert f"cache_from c2c-e2e-{token}" in out, out
    plain = subprocess.run(argv, capture_output=True, text=True, env=script_env()).stdout
    assert "cache_from" not in plain, plain
