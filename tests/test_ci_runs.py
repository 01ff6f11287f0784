"""The generated pipelines run for real on the platforms' local runners, each job in its own
directory on the host, against the real Docker engine: gitlab-ci-local (GitLab CI) and act
(GitHub Actions, with the stand-in actions of tests/ci_actions). Install them with
`scripts/ci-runners.sh install`; without them these tests skip (CI, with
CODESHIP2COMPOSE_REQUIRE_DOCKER=1, fails instead).

One project covers the issue's cases, run on two branches per platform (one with Compose v2, the
other with v1, chosen through C2C_COMPOSE):
- a host volume: a file written in step `write` is read in step `read`, another job;
- an encrypted env var reaching a step, with the AES key from the secret store;
- tag/exclude: `only master` runs on master only, `not master` everywhere else;
- a parallel group of 3 (only on feature/ branches) with one failing branch: its siblings finish,
  the step after the group does not run, the pipeline fails;
- a manual group that does not run without approval (GitLab: a manual job; GitHub: act has no
  environment reviewers, so what is shown is that the job, and the step after it, stay skipped
  until the CODESHIP_APPROVAL_READY variable says reviewers are set up).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from translator import codeship_aes
from translator.cli import main

from conftest import REPO, REQUIRE_DOCKER
from e2e_support import script_env, write_codeship

pytestmark = pytest.mark.docker

RUNNERS = REPO / "scripts" / "ci-runners.sh"
ACTIONS = Path(__file__).resolve().parent / "ci_actions"
TIMEOUT = 420
SECRET = "s3cr3t-value"


def _runner(name: str) -> str:
    if name == "gitlab-ci-local":
        found = subprocess.run([str(RUNNERS), "path"], capture_output=True, text=True).stdout.strip()
        path = os.path.join(found, name)
        if os.access(path, os.X_OK) and shutil.which("rsync"):
            return path
    elif shutil.which(name):
        return shutil.which(name)  # type: ignore[return-value]
    message = f"{name} is not installed (scripts/ci-runners.sh install)"
    if REQUIRE_DOCKER:
        pytest.fail(message + " (CODESHIP2COMPOSE_REQUIRE_DOCKER=1: CI must have it)")
    pytest.skip(message)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def make_repo(root: Path, platform: str) -> tuple[Path, str]:
    """A git repository whose Codeship files (and outputs) are in ci/; returns it and the key."""
    key_b64 = codeship_aes.generate_key()
    key = codeship_aes.load_key(None, {"CODESHIP_AES_KEY": key_b64})
    repo = root / "repo"
    project = repo / "ci"
    sh = ["sh", "-c"]
    write_codeship(project, {
        "app": {"image": "busybox", "volumes": ["./tmp:/data"]},
        "secret": {"image": "busybox", "encrypted_env_file": "secret.env.encrypted"},
    }, [
        {"name": "write", "service": "app", "command": sh + ["echo persisted > /data/file"]},
        {"name": "read", "service": "app", "command": sh + ["echo read: $(cat /data/file)"]},
        {"name": "token", "service": "secret", "command": sh + [f'test "$TOKEN" = {SECRET} && echo token-ok']},
        {"name": "only master", "service": "app", "tag": "master", "command": ["echo", "on-master"]},
        {"name": "not master", "service": "app", "exclude": "^master$", "command": ["echo", "not-master"]},
        {"type": "parallel", "name": "three", "tag": "^feature/", "service": "app", "steps": [
            {"name": "branch a", "command": sh + ["sleep 3; echo a-finished"]},
            {"name": "branch b", "command": sh + ["exit 3"]},
            {"name": "branch c", "command": sh + ["sleep 3; echo c-finished"]},
        ]},
        {"name": "after", "service": "app", "command": ["echo", "after-ran"]},
        {"type": "manual", "name": "approval", "steps": [
            {"name": "deploy", "service": "app", "command": ["echo", "deployed"]}]},
        {"name": "post", "service": "app", "command": ["echo", "post-ran"]},
    ])
    (project / "secret.env.encrypted").write_bytes(codeship_aes.encrypt(f"TOKEN={SECRET}\n".encode(), key))
    (repo / ".gitignore").write_text(".gitlab-ci-local/\nci/tmp/\n")
    _git(repo.parent, "init", "-q", "-b", "master", str(repo))
    result = CliRunner().invoke(main, ["translate", str(project), "--ci", platform], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "c")
    return repo, key_b64


def run_pipeline(argv: list[str], repo: Path, env: dict[str, str]) -> tuple[int, str]:
    proc = subprocess.run(argv, cwd=repo, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=script_env(env), timeout=TIMEOUT)
    print(f"$ {' '.join(argv)}\n(exit {proc.returncode})\n{proc.stdout}")
    return proc.returncode, proc.stdout


def as_shell_executor(repo: Path) -> None:
    """What a shell-executor runner does with the file: it ignores `image:` and `services:` (the
    jobs run on the host, with its engine); C2C_GITLAB_DOCKER=host says so to the jobs. (The file
    as generated, on the docker executor: tests/test_gitlab_docker_executor.py.)"""
    import yaml

    path = repo / ".gitlab-ci.yml"
    doc = yaml.safe_load(path.read_text())
    for key in ("image", "services"):
        doc["default"].pop(key, None)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-am", "shell executor")


def gitlab(repo: Path, key: str, compose: str) -> tuple[int, str]:
    gcl = _runner("gitlab-ci-local")
    as_shell_executor(repo)
    return run_pipeline([gcl, "--shell-isolation", "--no-color", "--variable", f"CODESHIP_AES_KEY={key}",
                         "--variable", "C2C_GITLAB_DOCKER=host", "--variable", f"C2C_COMPOSE={compose}"], repo, {})


def act(repo: Path, key: str, compose: str, tmp: Path, branch: str) -> tuple[int, str]:
    binary = _runner("act")
    store = tmp / f"artifacts-{compose}"  # each run its own artifact store, as each run on GitHub
    store.mkdir(exist_ok=True)
    event = tmp / "push.json"  # act takes the ref from the event (else it may keep the default branch)
    event.write_text(json.dumps({"ref": f"refs/heads/{branch}"}))
    argv = [binary, "push", "-e", str(event), "-P", "ubuntu-latest=-self-hosted", "-s", f"CODESHIP_AES_KEY={key}",
            "--env", f"C2C_TEST_REPO={repo}", "--env", f"C2C_ARTIFACT_STORE={store}",
            "--env", f"C2C_COMPOSE={compose}"]
    for action in ("checkout", "upload-artifact", "download-artifact"):
        argv += ["--local-repository", f"actions/{action}@v4={ACTIONS / action}"]
    return run_pipeline(argv, repo, {})


def _branch(repo: Path, name: str) -> None:
    _git(repo, "checkout", "-q", "-b", name)


def _check_master(code: int, out: str) -> None:
    assert "read: persisted" in out  # the host directory travelled from job `write` to job `read`
    assert "token-ok" in out and SECRET not in out.replace(f"= {SECRET}", "")
    assert "on-master" in out and "not-master" not in out
    assert "a-finished" not in out  # the tagged parallel group is filtered out
    assert "after-ran" in out
    assert "deployed" not in out  # the manual group does not run unapproved


def _check_feature(code: int, out: str) -> None:
    assert code != 0
    assert "read: persisted" in out and "token-ok" in out
    assert "not-master" in out and "on-master" not in out
    assert "a-finished" in out and "c-finished" in out  # siblings of the failing branch finish
    assert "after-ran" not in out and "deployed" not in out  # nothing after the failed group runs


def test_gitlab_ci_local_runs_the_pipeline(tmp_path):
    _runner("gitlab-ci-local")
    repo, key = make_repo(tmp_path, "gitlab")
    code, out = gitlab(repo, key, "v2")
    _check_master(code, out)  # the manual job waits for someone to start it
    # (on GitLab its stages after it wait too, `allow_failure: false`; gitlab-ci-local 4.56.0 does not
    # block later stages on a manual job, so "post" runs here: tested on the YAML in test_ci_pipelines)
    _branch(repo, "feature/x")
    code, out = gitlab(repo, key, "v1")
    _check_feature(code, out)


def test_act_runs_the_workflow(tmp_path):
    _runner("act")
    repo, key = make_repo(tmp_path, "github")
    code, out = act(repo, key, "v1", tmp_path, "master")
    _check_master(code, out)
    assert "post-ran" not in out  # the jobs after the unapproved manual job wait for it
    assert code == 0
    _branch(repo, "feature/x")
    code, out = act(repo, key, "v2", tmp_path, "feature/x")
    _check_feature(code, out)
