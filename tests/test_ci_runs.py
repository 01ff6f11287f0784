"""The generated pipelines run for real on the platforms' local runners, each job in its own
directory on the host, against the real Docker engine: gitlab-ci-local (GitLab CI) and act
(GitHub Actions, with the stand-in actions of tests/ci_actions). Install them with
`scripts/ci-runners.sh install`; without them these tests skip (CI, with
CODESHIP2COMPOSE_REQUIRE_DOCKER=1, fails instead).

One project covers the issue's cases, translated in the default layout (one runner per build)
and with --ci-fanout (a job per step), run on two branches (Compose v2 and v1, via C2C_COMPOSE):
- what steps write into the mounted project folder (`./:/code`) and into two host directories
  reaches later steps: on the same runner, and across jobs (fan-out; GitLab's manual job) where
  a later job reads the second directory;
- an encrypted env var reaching a step, with the AES key from the secret store;
- tag/exclude: `only master` runs on master only, `not master` everywhere else, and a pull
  request's build (act: the push job under a `pull_request` event from a fork, head `master`;
  GitLab: a merge request pipeline) runs neither;
- a parallel group of 3 (only on feature/ branches) with one failing branch: its siblings finish,
  the step after the group does not run, the pipeline fails;
- a manual group that does not run without approval, and runs once approved (GitHub: the
  workflow run again through workflow_dispatch with `approve`; GitLab: the manual job started).
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


def make_repo(root: Path, platform: str, *options: str) -> tuple[Path, str]:
    """A git repository whose Codeship files (and outputs) are in ci/; returns it and the key."""
    key_b64 = codeship_aes.generate_key()
    key = codeship_aes.load_key(None, {"CODESHIP_AES_KEY": key_b64})
    repo = root / "repo"
    project = repo / "ci"
    sh = ["sh", "-c"]
    write_codeship(project, {
        "app": {"image": "busybox", "volumes": ["./tmp:/data", "./tmp2:/data2", "./:/code"]},
        "secret": {"image": "busybox", "encrypted_env_file": "secret.env.encrypted"},
    }, [
        {"name": "write", "service": "app", "command": sh + [
            "echo persisted > /data/file && echo second > /data2/file && mkdir -p /code/deps && echo dep > /code/deps/d"]},
        {"name": "read", "service": "app",
         "command": sh + ["echo read: $(cat /data2/file) $(cat /code/deps/d) commit=$CI_COMMIT_ID"]},
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
            {"name": "deploy", "service": "app", "command": sh + ["echo deployed: $(cat /data2/file)"]}]},
        {"name": "post", "service": "app", "command": ["echo", "post-ran"]},
    ])
    (project / "secret.env.encrypted").write_bytes(codeship_aes.encrypt(f"TOKEN={SECRET}\n".encode(), key))
    (repo / ".gitignore").write_text(".gitlab-ci-local/\nci/tmp/\nci/tmp2/\nci/deps/\n")
    _git(repo.parent, "init", "-q", "-b", "master", str(repo))
    _git(repo, "remote", "add", "origin", "https://github.com/org/repo.git")  # act's github.repository
    result = CliRunner().invoke(main, ["translate", str(project), "--ci", platform, *options], catch_exceptions=False)
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


def gitlab(repo: Path, key: str, compose: str, *args: str) -> tuple[int, str]:
    gcl = _runner("gitlab-ci-local")
    as_shell_executor(repo)
    return run_pipeline([gcl, "--shell-isolation", "--no-color", "--variable", f"CODESHIP_AES_KEY={key}",
                         "--variable", "C2C_GITLAB_DOCKER=host", "--variable", f"C2C_COMPOSE={compose}", *args], repo, {})


def act(repo: Path, key: str, compose: str, tmp: Path, branch: str, event: str = "push",
        payload: dict | None = None, *args: str) -> tuple[int, str]:
    binary = _runner("act")
    store = tmp / f"artifacts-{compose}-{event}"  # each run its own artifact store, as each run on GitHub
    store.mkdir(exist_ok=True)
    event_file = tmp / f"{event}.json"  # act takes the ref from the event (else it may keep the default branch)
    event_file.write_text(json.dumps(payload or {"ref": f"refs/heads/{branch}"}))
    argv = [binary, event, "-e", str(event_file), "-P", "ubuntu-latest=-self-hosted", "-s", f"CODESHIP_AES_KEY={key}",
            "--env", f"C2C_TEST_REPO={repo}", "--env", f"C2C_ARTIFACT_STORE={store}",
            "--env", f"C2C_COMPOSE={compose}", *args]
    for action in ("checkout", "upload-artifact", "download-artifact"):
        argv += ["--local-repository", f"actions/{action}@v4={ACTIONS / action}"]
    return run_pipeline(argv, repo, {})


def _branch(repo: Path, name: str) -> None:
    _git(repo, "checkout", "-q", "-b", name)


def _head(repo: Path) -> str:
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()


def _check_master(code: int, out: str, repo: Path | None = None) -> None:
    assert "read: second dep" in out  # the second host directory and the project folder reached `read`
    if repo is not None:  # CI_COMMIT_ID is the commit the job checked out
        assert f"commit={_head(repo)}" in out
    assert "token-ok" in out and SECRET not in out.replace(f"= {SECRET}", "")
    assert "on-master" in out and "not-master" not in out
    assert "a-finished" not in out  # the tagged parallel group is filtered out
    assert "after-ran" in out
    assert "deployed" not in out  # the manual group does not run unapproved


def _check_feature(code: int, out: str) -> None:
    assert code != 0
    assert "read: second dep" in out and "token-ok" in out
    assert "not-master" in out and "on-master" not in out
    assert "a-finished" in out and "c-finished" in out  # siblings of the failing branch finish
    assert "after-ran" not in out and "deployed" not in out  # nothing after the failed group runs


def test_gitlab_ci_local_runs_the_pipeline(tmp_path):
    _runner("gitlab-ci-local")
    repo, key = make_repo(tmp_path, "gitlab")
    code, out = gitlab(repo, key, "v2")
    _check_master(code, out, repo)  # the manual job waits for someone to start it
    # (on GitLab its stages after it wait too, `allow_failure: false`; gitlab-ci-local 4.56.0 does not
    # block later stages on a manual job, so "post" runs here: tested on the YAML in test_ci_pipelines)
    code, out = gitlab(repo, key, "v2", "--manual", "s02-approval")
    assert code == 0 and "deployed: second" in out  # started: the second directory reached its new runner
    # a merge request pipeline of master runs no filtered step (and pushes nothing)
    code, out = gitlab(repo, key, "v2", "--variable", "CI_PIPELINE_SOURCE=merge_request_event",
                       "--variable", "CI_MERGE_REQUEST_IID=7")
    assert code == 0 and "token-ok" in out and "on-master" not in out and "not-master" not in out
    _branch(repo, "feature/x")
    code, out = gitlab(repo, key, "v1")
    _check_feature(code, out)


def test_gitlab_ci_local_fanout_carries_the_checkout(tmp_path):
    _runner("gitlab-ci-local")
    repo, key = make_repo(tmp_path, "gitlab", "--ci-fanout")
    code, out = gitlab(repo, key, "v2")
    _check_master(code, out)  # `read` is a job of its own: the directories came as an artifact


def test_act_runs_the_workflow(tmp_path):
    _runner("act")
    repo, key = make_repo(tmp_path, "github")
    code, out = act(repo, key, "v1", tmp_path, "master")
    _check_master(code, out, repo)
    assert "post-ran" not in out  # the steps after the unapproved manual group wait for it
    assert code == 0
    # the approval: the build again, through workflow_dispatch with approve
    code, out = act(repo, key, "v2", tmp_path, "master", "workflow_dispatch",  # GitHub's payload: inputs as text
                    {"ref": "refs/heads/master", "inputs": {"approve": "true"}})
    assert code == 0 and "deployed: second" in out and "post-ran" in out
    # the push job under a pull_request event from a fork, head master: no master-only step
    fork = {"pull_request": {"number": 7, "head": {"ref": "master", "sha": "0" * 40, "repo": {"full_name": "fork/repo"}},
                             "base": {"ref": "production", "repo": {"full_name": "org/repo"}}},
            "repository": {"full_name": "org/repo"}}
    code, out = act(repo, key, "v2", tmp_path, "master", "pull_request", fork)
    assert code == 0 and "token-ok" in out and "gives it no secrets" in out
    assert "on-master" not in out and "not-master" not in out
    # a pull request from a branch of this repository: its push built it, no second run
    same = {**fork, "pull_request": {**fork["pull_request"],
                                     "head": {**fork["pull_request"]["head"], "repo": {"full_name": "org/repo"}}}}
    code, out = act(repo, key, "v2", tmp_path, "master", "pull_request", same)
    assert code == 0 and "token-ok" not in out
    _branch(repo, "feature/x")
    code, out = act(repo, key, "v2", tmp_path, "feature/x")
    _check_feature(code, out)


def test_act_fanout_carries_the_checkout(tmp_path):
    _runner("act")
    repo, key = make_repo(tmp_path, "github", "--ci-fanout")
    code, out = act(repo, key, "v2", tmp_path, "master")
    _check_master(code, out)  # `read` is a job of its own: the directories came as an artifact
    assert code == 0
