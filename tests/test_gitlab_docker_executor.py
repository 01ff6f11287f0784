"""The generated .gitlab-ci.yml, unedited, on gitlab-ci-local's docker executor — the way
GitLab.com's hosted runners run it: every job in the `docker:27-cli` image (busybox sh as the job
shell until before_script adds bash), a `docker:27-dind` service beside it, and the Docker CLI
reaching it at tcp://docker:2376 with the TLS client certificates under /certs/client.

The images are the stand-ins of tests/gitlab_images.py (nothing can be pulled here). The dind
stand-in serves this host's engine over TLS (privileged containers cannot start here), mounted
at /c2c-engine.sock, a path the job's own Docker CLI does not look at: a job that reaches an
engine reached it through DOCKER_HOST, TLS and the service's alias. Only GitLab.com itself proves
a daemon inside the service: the privileged start, and bind mounts of the build directory (the
host's engine cannot see the job's /builds), so the project here has no host volume.

Also run: `C2C_GITLAB_DOCKER=host` (socket binding, as GitLab documents it for runners without
privileged mode), and a merge-request pipeline, in which no master-only step runs."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import gitlab_images
from conftest import REQUIRE_DOCKER
from e2e_support import write_codeship
from test_ci_runs import SECRET, _git, _runner, run_pipeline

from translator import codeship_aes
from translator.cli import main

pytestmark = pytest.mark.docker

ENGINE = "/c2c-engine.sock"


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    why = gitlab_images.available()
    if why:
        if REQUIRE_DOCKER:
            pytest.fail(why)
        pytest.skip(why)
    gitlab_images.build(tmp_path_factory.mktemp("images"))


# (No backquote: gitlab-ci-local echoes each command inside "…" escaping only \\, " and $, so its own
# echo would run `…`; GitLab's runner echoes commands safely. The job's shell gets backquotes as data:
# test_injection.py::test_gitlab_job_shells_read_every_step_name_as_data.)
HOSTILE_NAME = "it's \"quoted\" $(echo INJ\"\"ECTED) ${HOME} \\ and\ta tab"
HOSTILE_FILTER = "x' || '1' == '1' || '\""  # would make the rule always true if pasted into a string
HOSTILE_REGEX = "^(master|$(echo INJ''ECTED))$"  # RE2: master, or an end followed by a group


def make_repo(root: Path, hostile: bool = False) -> tuple[Path, str]:
    key_b64 = codeship_aes.generate_key()
    key = codeship_aes.load_key(None, {"CODESHIP_AES_KEY": key_b64})
    repo = root / "repo"
    project = repo / "ci"
    write_codeship(project, {
        "app": {"build": {"image": "example/gl-app", "dockerfile": "Dockerfile"}},
        "secret": {"image": "busybox", "encrypted_env_file": "secret.env.encrypted"},
    }, [
        {"name": "built", "service": "app", "command": ["cat", "/built.txt"]},
        {"name": "token", "service": "secret", "command": ["sh", "-c", f'test "$TOKEN" = {SECRET} && echo token-ok']},
        {"name": "only master", "service": "app", "tag": "master", "command": ["echo", "deploying-master"]},
        {"name": "not master", "service": "app", "exclude": "^master$", "command": ["echo", "not-master"]},
        *([{"name": HOSTILE_NAME, "service": "app", "command": ["echo", "hostile-name-ran"]},
           {"name": "hostile filter", "service": "app", "tag": HOSTILE_FILTER, "command": ["echo", "filter-broke"]},
           {"name": "hostile regex", "service": "app", "tag": HOSTILE_REGEX, "command": ["echo", "regex-ran"]}]
          if hostile else []),
        {"type": "manual", "name": "approval", "steps": [
            {"name": "deploy", "service": "app", "command": ["echo", "deployed"]}]},
    ], files={"Dockerfile": "FROM busybox\nRUN echo built-in-image > /built.txt\n"})
    (project / "secret.env.encrypted").write_bytes(codeship_aes.encrypt(f"TOKEN={SECRET}\n".encode(), key))
    (repo / ".gitignore").write_text(".gitlab-ci-local/\n")
    _git(repo.parent, "init", "-q", "-b", "master", str(repo))
    result = CliRunner().invoke(main, ["translate", str(project), "--ci", "gitlab"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "c")
    return repo, key_b64


def gitlab(repo: Path, key: str, *extra: str) -> tuple[int, str]:
    """The file as generated, on the docker executor (no --shell-isolation: jobs have an image).
    /certs is a volume the service writes and the job reads, as GitLab.com's runners configure it."""
    gcl = _runner("gitlab-ci-local")
    certs = f"c2c-gcl-certs-{uuid.uuid4().hex[:8]}"
    try:
        return run_pipeline([gcl, "--no-color", "--pull-policy", "if-not-present", "--concurrency", "1",
                             "--volume", f"/var/run/docker.sock:{ENGINE}", "--volume", f"{certs}:/certs",
                             "--variable", f"C2C_ENGINE_SOCKET={ENGINE}",
                             "--variable", f"CODESHIP_AES_KEY={key}", *extra], repo, {})
    finally:
        subprocess.run(["docker", "volume", "rm", "-f", certs], capture_output=True)


def test_the_generated_file_runs_on_the_docker_executor_with_dind_over_tls(tmp_path, images):
    """With hostile step names and filters: busybox sh hands the script the name as it is, and
    the rules keep filter text as data."""
    repo, key = make_repo(tmp_path, hostile=True)
    doc = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())
    assert doc["variables"]["C2C_GITLAB_IMAGE"] == gitlab_images.JOB_IMAGE
    assert doc["variables"]["C2C_GITLAB_DIND"] == gitlab_images.DIND_IMAGE
    code, out = gitlab(repo, key)
    assert "Installing bash" in out  # the job image had no bash: before_script added it
    assert "started service image: docker:27-dind" in out
    assert "built-in-image" in out  # an image built through the TLS endpoint, then run
    assert "token-ok" in out  # decrypted with the job image's openssl
    assert "deploying-master" in out and "not-master" not in out
    assert "deployed" not in out  # the manual job waits
    assert "hostile-name-ran" in out and "INJECTED" not in out
    assert "filter-broke" not in out and "regex-ran" in out
    assert code == 0


def test_a_merge_request_pipeline_runs_no_master_only_step(tmp_path, images):
    """gitlab-ci-local ignores `workflow: rules` (GitLab would start no pipeline at all: see
    tests/test_gitlab_rules.py); the jobs' own rules keep the filtered ones out."""
    repo, key = make_repo(tmp_path)
    code, out = gitlab(repo, key, "--variable", "CI_PIPELINE_SOURCE=merge_request_event",
                       "--variable", "CI_MERGE_REQUEST_IID=7", "--unset-variable", "CI_COMMIT_BRANCH")
    assert "deploying-master" not in out and "not-master" not in out
    assert "built-in-image" in out  # the unfiltered steps do run
    assert code == 0


def test_host_mode_uses_the_runners_engine(tmp_path, images):
    """C2C_GITLAB_DOCKER=host, set as a CI/CD variable: the job talks to the engine whose socket
    the runner binds in (GitLab's socket-binding set-up), not to tcp://docker:2376."""
    repo, key = make_repo(tmp_path)
    sock = "--volume", "/var/run/docker.sock:/var/run/docker.sock"
    code, out = gitlab(repo, key, *sock, "--variable", "C2C_GITLAB_DOCKER=host",
                       "--variable", "C2C_ENGINE_SOCKET=/nonexistent.sock")  # the dind stand-in answers nothing
    assert "built-in-image" in out and "token-ok" in out
    assert code == 0
