"""The other use of compose.yaml: `docker compose up` for local work, straight from the CI config."""

from __future__ import annotations

import subprocess

import pytest

from helpers import translate_to_disk, write_project


@pytest.mark.docker
@pytest.mark.parametrize("compose", [("docker", "compose"), ("docker-compose",)], ids=["v2", "v1"])
def test_docker_compose_up_runs_the_services(tmp_path, compose):
    write_project(tmp_path, """\
        web:
          build:
            context: .
          command: sh -c 'echo "$GREETING" > /srv/greeting; exec sleep 300'
          environment:
            GREETING: hello from compose up
          links: ['db:database']
          volumes_from: [data]
        db:
          image: busybox
          command: sleep 300
        data:
          image: busybox
          volumes: [/srv]
        """, "- service: web\n  command: 'true'\n", Dockerfile="FROM busybox\n")
    translate_to_disk(tmp_path)
    project = ["-p", f"c2cup{tmp_path.name[-6:].lower().replace('_', '')}"]
    run = lambda *args: subprocess.run([*compose, *project, *args], cwd=tmp_path, capture_output=True,
                                       text=True, timeout=300)
    try:
        up = run("up", "-d", "--build", "web")
        assert up.returncode == 0, up.stderr
        ping = run("exec", "-T", "web", "sh", "-c", "sleep 1; cat /srv/greeting; ping -c1 -W2 database")
        assert ping.returncode == 0, ping.stdout + ping.stderr
        assert "hello from compose up" in ping.stdout
    finally:
        run("down", "-v", "-t", "1")
