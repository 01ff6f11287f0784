"""A registry that serves one image to one login, for proving that pulls use the credentials the
script was given. No registry is reachable from our machines, so the test starts this one on
localhost (which Docker treats as an insecure registry: plain HTTP is allowed)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import subprocess
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def image_blobs(source: str) -> tuple[bytes, dict[str, bytes]]:
    """The registry manifest of a local image and its blobs, from `docker save`."""
    saved = subprocess.run(["docker", "save", source], capture_output=True, check=True, timeout=120).stdout
    with tarfile.open(fileobj=io.BytesIO(saved)) as tar:
        entry = json.load(tar.extractfile("manifest.json"))[0]
        config = tar.extractfile(entry["Config"]).read()
        layers = [gzip.compress(tar.extractfile(name).read(), mtime=0) for name in entry["Layers"]]
    blobs = {_digest(b): b for b in [config, *layers]}
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                   "digest": _digest(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(b),
                    "digest": _digest(b)} for b in layers],
    }).encode()
    return manifest, blobs


class FakeRegistry:
    """Serves `repository:tag` to `user:password`; answers 401 to anyone else."""

    def __init__(self, repositories: list[str], user: str, password: str, source: str = "busybox:latest"):
        self.manifest, self.blobs = image_blobs(source)
        self.repositories = repositories
        self.expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.authorized: list[str] = []  # paths served to the right login
        self.refused: list[str] = []  # paths asked for with no or a wrong login
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet: the test reads `authorized` and `refused`
                pass

            def do_HEAD(self):
                self.answer(head=True)

            def do_GET(self):
                self.answer(head=False)

            def answer(self, head: bool):
                if self.headers.get("Authorization") != registry.expected:
                    registry.refused.append(self.path)
                    return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', "application/json", head,
                                     {"WWW-Authenticate": 'Basic realm="fake"'})
                registry.authorized.append(self.path)
                parts = self.path.split("?")[0].strip("/").split("/")
                if parts == ["v2"]:
                    return self.send(200, b"{}", "application/json", head)
                repo, kind, ref = "/".join(parts[1:-2]), parts[-2], parts[-1]
                if repo in registry.repositories and kind == "manifests":
                    return self.send(200, registry.manifest, MANIFEST, head,
                                     {"Docker-Content-Digest": _digest(registry.manifest)})
                if repo in registry.repositories and kind == "blobs" and ref in registry.blobs:
                    return self.send(200, registry.blobs[ref], "application/octet-stream", head,
                                     {"Docker-Content-Digest": ref})
                return self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}', "application/json", head)

            def send(self, code: int, body: bytes, kind: str, head: bool, headers: dict | None = None):
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"localhost:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeRegistry":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def config_json(self, user: str, password: str) -> str:
        auth = base64.b64encode(f"{user}:{password}".encode()).decode()
        return json.dumps({"auths": {self.host: {"auth": auth}}})

    def pulled(self, repository: str) -> bool:
        return any(p.startswith(f"/v2/{repository}/manifests/") for p in self.authorized)
