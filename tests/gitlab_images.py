"""Stand-ins, built offline from this host's binaries, for the images a generated .gitlab-ci.yml
names, so that gitlab-ci-local runs it on its docker executor as GitLab.com's runners would
(nothing can be pulled here; see the shared docs ci-runners.md and docker-engine.md).

- `docker:27-cli`, the job image: an Alpine-like userland (busybox, whose `sh` is the job shell,
  as Alpine's busybox ash is on GitLab.com), the static Docker CLI and the Compose v2 plugin where
  the real image keeps them. Like the real image it has no bash and no openssl: the pipeline's
  before_script installs them with `apk add`. The stand-in `apk` links binaries staged in the image
  (no package index here); everything after it runs as on GitLab.com.
- `docker:27-dind`, the service: real Docker-in-Docker needs a privileged container, which this
  machine cannot start. The stand-in does what the job sees of dind with TLS: its entrypoint writes
  a CA, a server and a client certificate under $DOCKER_TLS_CERTDIR (client ones in
  $DOCKER_TLS_CERTDIR/client, as dind does) and serves the Docker API on port 2376 over TLS with
  client verification, answering with this host's engine (its socket mounted into the service).
  The job's DOCKER_HOST/DOCKER_TLS_VERIFY/DOCKER_CERT_PATH are therefore used for real; what only
  GitLab.com proves is a daemon inside the service (bind mounts of the build directory, which the
  host's engine cannot see, and the privileged start)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

JOB_IMAGE = "docker:27-cli"
DIND_IMAGE = "docker:27-dind"
HELPER_IMAGE = "firecow/gitlab-ci-local-util:latest"
WAIT_IMAGE = "docker.io/sumina46/wait-for-it:latest"  # gitlab-ci-local's service health check

WAIT_FOR_IT = """#!/bin/sh
# Stand-in for wait-for-it: `HOST:PORT -t SECONDS`, exit 0 once the port accepts a connection.
target=$1; seconds=${3:-30}; i=0
while ! nc -w 1 "${target%:*}" "${target##*:}" </dev/null >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -lt "$seconds" ] || exit 1; sleep 1
done
"""
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

APK = """#!/bin/sh
# Stand-in for Alpine's apk (no package index offline): `apk add [--no-cache] PKG...` links the
# binaries staged in /opt/apk-staged; packages not staged are reported and skipped.
[ "$1" = add ] || { echo "apk stand-in: only 'add' is supported" >&2; exit 1; }
shift
for p in "$@"; do
  case $p in
    -*) ;;
    *) if [ -x "/opt/apk-staged/$p" ]; then ln -sf "/opt/apk-staged/$p" "/usr/bin/$p"; echo "(1/1) Installing $p (stand-in)";
       else echo "apk stand-in: $p is not staged here: skipped"; fi ;;
  esac
done
ln -sf /usr/bin/bash /bin/bash 2>/dev/null || true
"""

OPENSSL_CNF = """[req]
distinguished_name = dn
[dn]
[server]
subjectAltName = DNS:docker,DNS:localhost,IP:127.0.0.1
extendedKeyUsage = serverAuth
[client]
extendedKeyUsage = clientAuth
"""

DIND_ENTRYPOINT = """#!/bin/sh
# Stand-in for docker:dind's entrypoint with TLS: certificates as dind writes them, then the
# Docker API over TLS (client certificates required) on 2376, served by the mounted engine socket.
set -e
d=${DOCKER_TLS_CERTDIR:?DOCKER_TLS_CERTDIR is not set}
cnf=/etc/c2c-openssl.cnf
mkdir -p "$d/ca" "$d/server" "$d/client"
openssl req -config $cnf -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=dind-ca \\
  -keyout "$d/ca/key.pem" -out "$d/ca/cert.pem" 2>/dev/null
for who in server client; do
  openssl req -config $cnf -newkey rsa:2048 -nodes -subj "/CN=$who" -keyout "$d/$who/key.pem" -out "$d/$who/csr.pem" 2>/dev/null
  openssl x509 -req -in "$d/$who/csr.pem" -CA "$d/ca/cert.pem" -CAkey "$d/ca/key.pem" -CAcreateserial \\
    -days 1 -extfile $cnf -extensions "$who" -out "$d/$who/cert.pem" 2>/dev/null
  cp "$d/ca/cert.pem" "$d/$who/ca.pem"
done
chmod 644 "$d/client/key.pem"
echo "dind stand-in: TLS on 2376 for the engine at ${C2C_ENGINE_SOCKET:-/var/run/docker.sock}"
# -t: after the client half-closes (stdin at EOF) keep the answer flowing (socat would cut it after 0.5 s)
exec socat -t 3600 OPENSSL-LISTEN:2376,fork,reuseaddr,cert="$d/server/cert.pem",key="$d/server/key.pem",cafile="$d/ca/cert.pem",verify=1 \\
  UNIX-CONNECT:"${C2C_ENGINE_SOCKET:-/var/run/docker.sock}"
"""


def _busybox_root(root: Path) -> None:
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "etc", "tmp", "root", "lib64"):
        (root / d).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "tmp", 0o1777)
    busybox = shutil.which("busybox") or "/bin/busybox"
    shutil.copy2(busybox, root / "bin" / "busybox")
    # each applet where Alpine has it (/usr/bin/env: the script's #!/usr/bin/env bash)
    applets = subprocess.run([busybox, "--list-full"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        place = root / applet
        if place.name != "busybox" and not place.exists() and not place.is_symlink():
            place.parent.mkdir(parents=True, exist_ok=True)
            os.symlink("/bin/busybox", place)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")


def _copy_with_libs(binary: str, root: Path, dest: str) -> None:
    """A dynamically linked binary and the shared libraries ldd lists, at their own paths."""
    target = root / dest.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(binary, target)
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        lib = parts[2] if "=>" in parts and len(parts) > 2 else parts[0] if parts and parts[0].startswith("/") else ""
        if lib.startswith("/"):
            place = root / lib.lstrip("/")
            place.parent.mkdir(parents=True, exist_ok=True)
            if not place.exists():
                shutil.copy2(os.path.realpath(lib), place)


def _write(path: Path, text: str, mode: int = 0o755) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def _import(root: Path, name: str, changes: list[str]) -> None:
    with tempfile.TemporaryFile() as tar:
        with tarfile.open(fileobj=tar, mode="w") as t:
            t.add(root, arcname=".")
        tar.seek(0)
        argv = ["docker", "import"]
        for change in [f"ENV PATH={PATH}", *changes]:
            argv += ["-c", change]
        subprocess.run([*argv, "-", name], stdin=tar, check=True, capture_output=True)


def _compose_plugin() -> str:
    for place in (Path.home() / ".docker/cli-plugins/docker-compose",
                  Path("/usr/local/lib/docker/cli-plugins/docker-compose"),
                  Path("/usr/libexec/docker/cli-plugins/docker-compose")):
        if place.is_file():
            return str(place)
    raise RuntimeError("no Compose v2 plugin on this host (scripts/docker-engine.sh start installs it)")


def build(workdir: Path) -> None:
    """Build the stand-ins (a few seconds; idempotent: existing images are replaced)."""
    subprocess.run(["docker", "tag", "busybox:latest", HELPER_IMAGE], check=True, capture_output=True)
    wait = workdir / "wait-root"
    _busybox_root(wait)
    _write(wait / "usr/local/bin/wait-for-it", WAIT_FOR_IT)
    _import(wait, WAIT_IMAGE, ['ENTRYPOINT ["/usr/local/bin/wait-for-it"]'])
    job = workdir / "job-root"
    _busybox_root(job)
    shutil.copy2(shutil.which("docker") or "/usr/local/bin/docker", job / "usr/local/bin/docker")
    plugin = job / "usr/local/libexec/docker/cli-plugins/docker-compose"
    plugin.parent.mkdir(parents=True)
    shutil.copy2(_compose_plugin(), plugin)
    _copy_with_libs(shutil.which("bash") or "/bin/bash", job, "/opt/apk-staged/bash")
    _copy_with_libs(shutil.which("openssl") or "/usr/bin/openssl", job, "/opt/apk-staged/openssl")
    _write(job / "sbin/apk", APK)
    _import(job, JOB_IMAGE, ['CMD ["sh"]'])

    dind = workdir / "dind-root"
    _busybox_root(dind)
    _copy_with_libs(shutil.which("openssl") or "/usr/bin/openssl", dind, "/usr/bin/openssl")
    _copy_with_libs(shutil.which("socat") or "/usr/bin/socat", dind, "/usr/bin/socat")
    _write(dind / "etc/c2c-openssl.cnf", OPENSSL_CNF, 0o644)
    _write(dind / "usr/local/bin/dockerd-entrypoint.sh", DIND_ENTRYPOINT)
    _import(dind, DIND_IMAGE, ["EXPOSE 2376", 'ENTRYPOINT ["/usr/local/bin/dockerd-entrypoint.sh"]'])


def available() -> str:
    """Why the stand-ins cannot be built here ('' when they can)."""
    for tool in ("socat", "openssl", "bash", "busybox", "docker"):
        if not shutil.which(tool):
            return f"{tool} is not installed (the GitLab stand-in images are built from it)"
    return ""


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp))
    print(f"built {JOB_IMAGE}, {DIND_IMAGE} and tagged {HELPER_IMAGE}")
