"""Two runs at once on one Docker host never share a built image (hosted Codeship gave every build
its own Docker host): each run's steps use, and its push steps push, the image it built itself,
even when another checkout builds the same `build.image` meanwhile. The plain name stays usable
for `docker compose up` and names the last build; nothing else the runs tagged is left."""

from __future__ import annotations

import signal
import uuid

import pytest

from e2e_support import docker, make_project, remove_images, run_script, start_script

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("no_leftovers")]

PUSH_REGISTRY = "localhost:1"  # refused at once: the push fails, what was tagged for it stays here


def _checkout(root, image: str, code: str):
    services = {"app": {"build": {"image": image, "context": "."}, "volumes": ["./sync:/sync"]}}
    steps = [
        # prints its code, then waits until the test says the other run has built and used its own
        {"name": "first", "service": "app",
         "command": ["sh", "-c", "cat /code.txt; until [ -e /sync/go ]; do sleep 0.2; done"]},
        {"name": "second", "service": "app", "command": "cat /code.txt"},  # starts after that
        {"type": "push", "name": "ship", "service": "app", "image_name": f"{PUSH_REGISTRY}/{image}",
         "image_tag": "{{ .Branch }}"},
    ]
    files = {"Dockerfile": "FROM busybox\nCOPY code.txt /code.txt\n", "code.txt": code + "\n"}
    return make_project(root, services, steps, files)


def _code_in(image: str) -> str:
    return docker("run", "--rm", "--network", "none", image, "cat", "/code.txt").stdout.strip()


def _tags_of(repository: str) -> set[str]:
    out = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repository).stdout.split()
    return set(out)


def test_two_checkouts_building_the_same_image_at_once_each_use_and_push_their_own(tmp_path, compose):
    image = f"c2c-e2e-isolation-{uuid.uuid4().hex[:10]}"
    pushed = f"{PUSH_REGISTRY}/{image}:isolation"
    first = _checkout(tmp_path / "first", image, "code of the first checkout")
    other = _checkout(tmp_path / "other", image, "code of the other checkout")
    (other / "sync").mkdir()
    (other / "sync" / "go").touch()
    try:
        a = start_script(first, compose, "--push", "--ci-branch", "isolation")
        assert a.wait_for(lambda lines: "(service: app) (step: first) code of the first checkout" in lines, 180), \
            "\n".join(a.lines)
        # The other checkout builds the same image name and runs all its steps meanwhile.
        b = run_script(other, compose, "--ci-branch", "other")
        assert b.returncode == 0, b
        assert b.said("first") == b.said("second") == ["code of the other checkout"]
        (first / "sync" / "go").touch()
        a = a.finish()
        # The first run's later step, and its push, still use the image the first run built.
        assert a.said("second") == ["code of the first checkout"], a
        assert a.failed() == {"ship"}  # the registry refuses; the image tagged for it stays here
        assert _code_in(pushed) == "code of the first checkout"
        # The plain name is the last build (for `docker compose up`); no run-private tag is left.
        assert _code_in(image) == "code of the other checkout"
        assert _tags_of(image) == {f"{image}:latest"}
    finally:
        remove_images(image, pushed)


def test_an_interrupted_run_removes_its_private_tag_and_keeps_the_plain_name(tmp_path, compose):
    image = f"c2c-e2e-isolation-{uuid.uuid4().hex[:10]}"
    project = make_project(tmp_path / "p", {"app": {"build": {"image": image, "context": "."}}},
                           [{"name": "slow", "service": "app", "command": ["sh", "-c", "echo started; sleep 60"]}],
                           {"Dockerfile": "FROM busybox\nCOPY code.txt /code.txt\n", "code.txt": "x\n"})
    try:
        bg = start_script(project, compose)
        assert bg.wait_for(lambda lines: "(service: app) (step: slow) started" in lines, 180), "\n".join(bg.lines)
        assert any(tag.startswith(f"{image}:c2c") for tag in _tags_of(image))  # the run's own name
        bg.proc.send_signal(signal.SIGINT)
        run = bg.finish()
        assert run.returncode == 130, run
        assert _tags_of(image) == {f"{image}:latest"}
    finally:
        remove_images(image)
