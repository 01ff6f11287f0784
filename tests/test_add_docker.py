"""add_docker follows the host's Docker settings, as Codeship documents: the container gets the
host's DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH (the certificate directory mounted);
a unix socket elsewhere than /var/run/docker.sock (rootless Docker) is the one mounted."""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest

from e2e_support import make_project, run_script

SERVICES = {"app": {"image": "busybox", "add_docker": True}, "plain": {"image": "busybox"}}
STEPS = [{"name": "drive docker", "service": "app", "command": "true"}]
MARKER = "+ # add_docker services follow this host's Docker settings ("


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "project", SERVICES, STEPS)


def dry_run(project: Path, **env: str):
    # no compose fixture: a dry run runs nothing, and the commands are the same for v1 and v2
    return run_script(project, "v2", "--dry-run", env={k: v for k, v in env.items()})


def override(run) -> tuple[str, dict]:
    """The override file a dry run says it uses for add_docker services, and what it holds."""
    lines = [line for line in run.lines if line.startswith(MARKER)]
    assert len(lines) == 1, run
    path, text = lines[0][len(MARKER):].split("): ", 1)
    return path, json.loads(text)


def compose_commands(run) -> list[str]:
    return [line for line in run.lines if line.startswith("+ docker compose ")]


def test_default_socket_needs_no_override(project):
    for env in ({}, {"DOCKER_HOST": "unix:///var/run/docker.sock"}):
        run = dry_run(project, **env)
        assert run.returncode == 0, run
        assert not any(line.startswith(MARKER) for line in run.lines), run
        assert compose_commands(run) and not any("docker-host.json" in line for line in compose_commands(run))


def test_a_unix_socket_elsewhere_is_mounted_where_docker_host_in_the_container_points(project):
    run = dry_run(project, DOCKER_HOST="unix:///run/user/1000/docker.sock")
    assert run.returncode == 0, run
    path, doc = override(run)
    assert doc == {"services": {"app": {  # only the add_docker service
        "environment": {"DOCKER_HOST": "unix:///var/run/docker.sock"},
        "volumes": ["/run/user/1000/docker.sock:/var/run/docker.sock"]}}}
    assert all(f" -f {path} " in line for line in compose_commands(run)), run


def test_tcp_with_tls_passes_the_variables_and_mounts_the_certificates(project, tmp_path):
    certs = tmp_path / "my certs"
    certs.mkdir()
    run = dry_run(project, DOCKER_HOST="tcp://10.1.2.3:2376", DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=str(certs))
    assert run.returncode == 0, run
    path, doc = override(run)
    assert doc == {"services": {"app": {
        "environment": {"DOCKER_HOST": "tcp://10.1.2.3:2376", "DOCKER_TLS_VERIFY": "1",
                        "DOCKER_CERT_PATH": "/codeship-docker-certs"},
        # no socket: Compose cannot drop compose.yaml's mount, so /dev/null takes its place
        "volumes": ["/dev/null:/var/run/docker.sock:ro", f"{certs}:/codeship-docker-certs:ro"]}}}
    assert all(path in line for line in compose_commands(run)), run


def test_a_cert_path_alone_is_mounted_beside_the_default_socket(project, tmp_path):
    run = dry_run(project, DOCKER_CERT_PATH=str(tmp_path))
    assert run.returncode == 0, run
    _, doc = override(run)
    assert doc["services"]["app"] == {
        "environment": {"DOCKER_HOST": "unix:///var/run/docker.sock", "DOCKER_CERT_PATH": "/codeship-docker-certs"},
        "volumes": ["/var/run/docker.sock:/var/run/docker.sock", f"{tmp_path}:/codeship-docker-certs:ro"]}


def test_tls_verify_without_a_cert_path_says_the_container_gets_no_certificates(project):
    run = dry_run(project, DOCKER_HOST="tcp://10.1.2.3:2376", DOCKER_TLS_VERIFY="1")
    assert run.returncode == 0, run
    assert any(line.startswith("note: DOCKER_TLS_VERIFY is set without DOCKER_CERT_PATH") for line in run.lines)
    assert override(run)[1]["services"]["app"]["environment"]["DOCKER_TLS_VERIFY"] == "1"


def test_a_missing_cert_directory_stops_the_run_before_anything_runs(project, tmp_path):
    run = dry_run(project, DOCKER_HOST="tcp://10.1.2.3:2376", DOCKER_CERT_PATH=str(tmp_path / "nope"))
    assert run.returncode == 2, run
    assert any(line.startswith(f"DOCKER_CERT_PATH={tmp_path / 'nope'} is not a directory") for line in run.lines)
    assert not compose_commands(run)


def test_a_project_without_add_docker_ignores_the_settings(tmp_path):
    root = make_project(tmp_path / "p", {"plain": {"image": "busybox"}}, [{"service": "plain", "command": "true"}])
    run = dry_run(root, DOCKER_HOST="unix:///run/user/1000/docker.sock")
    assert run.returncode == 0 and not any(line.startswith(MARKER) for line in run.lines), run


# --- on the real engine -------------------------------------------------------------------------
class SocketProxy:
    """A unix socket of its own (another file, another inode) that forwards to the engine's."""

    def __init__(self, path: str, upstream: str):
        self.path, self.upstream, self.connections = path, upstream, 0
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(self.upstream)
        except OSError:
            client.close()
            return
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
        self._pump(client, upstream)

    @staticmethod
    def _pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        self.server.close()


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_docker_host_on_another_socket_is_the_one_the_container_gets(tmp_path, compose):
    host = os.environ.get("DOCKER_HOST", "")
    upstream = host[len("unix://"):] if host.startswith("unix://") else "/var/run/docker.sock"
    folder = tempfile.mkdtemp(prefix="c2c-sock-")  # short: a socket path has at most 107 bytes
    proxy = SocketProxy(os.path.join(folder, "docker.sock"), upstream)
    try:
        root = make_project(tmp_path / "p", {"app": {"image": "busybox", "add_docker": True}}, [
            {"name": "drive docker", "service": "app", "command": [
                "sh", "-c", "echo $DOCKER_HOST; test -S /var/run/docker.sock && stat -c %i /var/run/docker.sock"]}])
        run = run_script(root, compose, env={"DOCKER_HOST": f"unix://{proxy.path}"})
        assert run.returncode == 0, run
        # the socket DOCKER_HOST names (not /var/run/docker.sock) is mounted where the container's
        # DOCKER_HOST points
        assert run.said("drive docker") == ["unix:///var/run/docker.sock", str(os.stat(proxy.path).st_ino)]
        assert os.stat(proxy.path).st_ino != os.stat(upstream).st_ino
        assert proxy.connections > 0  # and the script itself drove Docker through it
    finally:
        proxy.close()
        shutil.rmtree(folder, ignore_errors=True)
