"""The GitLab-only parts of .gitlab-ci.yml that hold whatever the job layout: the runner set-up
(GitLab.com's docker executor with Docker-in-Docker over TLS, or the runner's own engine with
C2C_GITLAB_DOCKER=host), cancelling and time limits, and the environments of manual and
decrypting jobs. (On gitlab-ci-local's docker executor: test_gitlab_docker_executor.py; the
rules: test_gitlab_rules.py.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml
from conftest import GOLDEN

from translator.api import translate

STEP_KINDS = GOLDEN / "step-kinds" / "input"


def gitlab(directory: Path, fanout: bool = False) -> dict:
    result = translate(directory, ci=("gitlab",), ci_fanout=fanout)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    return yaml.safe_load(next(t for p, t in result.outputs.items() if p.name == ".gitlab-ci.yml"))


def jobs(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if isinstance(v, dict) and "script" in v}


def test_docker_in_docker_over_tls_as_gitlab_documents_it():
    doc = gitlab(STEP_KINDS)
    v = doc["variables"]
    assert v["DOCKER_HOST"] == "tcp://docker:2376" and v["DOCKER_TLS_CERTDIR"] == "/certs"
    assert v["DOCKER_TLS_VERIFY"] == "1" and v["DOCKER_CERT_PATH"] == "$DOCKER_TLS_CERTDIR/client"
    assert doc["default"]["image"] == "$C2C_GITLAB_IMAGE" and v["C2C_GITLAB_IMAGE"] == "docker:27-cli"
    assert doc["default"]["services"] == [{"name": "$C2C_GITLAB_DIND", "alias": "docker"}]
    assert v["C2C_GITLAB_DIND"] == "docker:27-dind" and v["C2C_GITLAB_DOCKER"] == "dind"


def _before(tmp_path: Path, env: dict[str, str], engine_answers: bool = True) -> tuple[int, str]:
    """The docker set-up lines of before_script under dash, with stand-ins for docker and apk that
    say what they were asked (and with which DOCKER_HOST)."""
    doc = gitlab(STEP_KINDS)
    lines = [line for line in doc["default"]["before_script"] if "docker" in line.lower() or "apk" in line]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "docker").write_text('#!/bin/sh\necho "docker $* at ${DOCKER_HOST:-socket} tls=${DOCKER_TLS_VERIFY:-}" >> "$LOG"\n'
                                    f"exit {0 if engine_answers else 1}\n")
    (bin_dir / "apk").write_text('#!/bin/sh\necho "apk $*" >> "$LOG"\n')
    (bin_dir / "sleep").write_text("#!/bin/sh\n")
    for name in ("docker", "apk", "sleep"):
        os.chmod(bin_dir / name, 0o755)
    log = tmp_path / "log"
    log.write_text("")
    base = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LOG": str(log), **{k: str(x) for k, x in doc["variables"].items()}}
    base["DOCKER_CERT_PATH"] = "/certs/client"  # as GitLab expands $DOCKER_TLS_CERTDIR/client
    proc = subprocess.run(["dash", "-e", "-c", "\n".join(lines)], env={**base, **env}, capture_output=True, text=True)
    return proc.returncode, log.read_text() + proc.stderr


def test_dind_mode_talks_to_the_service_over_tls(tmp_path):
    code, log = _before(tmp_path, {})
    assert code == 0 and "docker info at tcp://docker:2376 tls=1" in log


def test_host_mode_uses_the_runners_engine_and_keeps_a_docker_host_the_team_set(tmp_path):
    code, log = _before(tmp_path, {"C2C_GITLAB_DOCKER": "host"})
    assert code == 0 and "docker info at socket tls=" in log
    code, log = _before(tmp_path, {"C2C_GITLAB_DOCKER": "host", "DOCKER_HOST": "unix:///run/user/1000/docker.sock"})
    assert code == 0 and "docker info at unix:///run/user/1000/docker.sock tls=\n" in log
    remote = {"C2C_GITLAB_DOCKER": "host", "DOCKER_HOST": "tcp://builder:2376", "DOCKER_CERT_PATH": "/etc/builder"}
    code, log = _before(tmp_path, remote)  # a remote engine with its own certificates: kept as set
    assert code == 0 and "docker info at tcp://builder:2376 tls=1" in log


def test_no_engine_is_a_clear_failure_that_names_the_variable(tmp_path):
    code, log = _before(tmp_path, {}, engine_answers=False)
    assert code != 0 and "no Docker engine answers at tcp://docker:2376" in log
    assert "C2C_GITLAB_DOCKER=host" in log


def test_bash_and_openssl_are_added_only_where_missing(tmp_path):
    _, log = _before(tmp_path, {})
    assert "apk add" not in log  # this host has both
    doc = gitlab(STEP_KINDS)
    assert "apk add --no-cache bash openssl git" in doc["default"]["before_script"][0]


def test_every_job_has_a_timeout_and_only_non_deploying_jobs_are_interruptible():
    doc = gitlab(STEP_KINDS, fanout=True)
    assert doc["variables"]["RUNNER_SCRIPT_TIMEOUT"] == "1h"  # the default limit; a CI/CD variable overrides it
    all_jobs = jobs(doc)
    assert all(job["timeout"] == "3h" for job in all_jobs.values())
    assert all_jobs["s01-unit"]["interruptible"] is True
    for deploying in ("s07-only-master", "s09-release", "s10-deploy-approval"):  # tag filter, push, manual
        assert all_jobs[deploying]["interruptible"] is False, deploying
    one_runner = jobs(gitlab(STEP_KINDS))  # the build holds deploying steps: it is never cancelled midway
    assert list(one_runner) == ["s01-build", "s02-deploy-approval"]
    assert all(job["timeout"] == "3h" and job["interruptible"] is False for job in one_runner.values())


def test_a_deploy_behind_a_filter_inside_a_group_is_never_cancelled_midway(tmp_path):
    """A master-only deploy nested in a group: the job (GitLab) and the run (GitHub) that hold it
    may be deploying, whatever the layout; the filter is not the top-level step's own."""
    (tmp_path / "codeship-services.yml").write_text("app:\n  image: busybox\n")
    (tmp_path / "codeship-steps.yml").write_text(
        "- {name: tests, service: app, command: 'true'}\n"
        "- type: serial\n  name: ship\n  steps:\n"
        "  - {name: deploy, service: app, command: ./deploy.sh, tag: master}\n")
    for fanout in (False, True):
        result = translate(tmp_path, ci=("gitlab", "github"), ci_fanout=fanout)
        texts = {p.name: yaml.safe_load(t) for p, t in result.outputs.items() if p.suffix == ".yml"}
        gl = jobs(texts[".gitlab-ci.yml"])
        holding = [job for job in gl.values() if any("--step 'ship'" in line for line in job["script"])]
        assert holding and all(job["interruptible"] is False for job in holding), (fanout, gl)
        gh = texts["codeship.yml"]
        assert gh["concurrency"]["cancel-in-progress"] is not True, fanout


def test_manual_jobs_deploy_to_the_approval_environment_and_only_decrypting_jobs_get_the_key(tmp_path):
    (tmp_path / "codeship-services.yml").write_text(
        "app:\n  image: busybox\nsecret:\n  image: busybox\n  encrypted_env_file: env.encrypted\n"
        "linked:\n  image: busybox\n  depends_on: [secret]\n")
    (tmp_path / "codeship-steps.yml").write_text(
        "- {name: plain, service: app, command: 'true'}\n"
        "- {name: decrypts, service: secret, command: 'true'}\n"
        "- {name: starts a secret service, service: linked, command: 'true'}\n"
        "- type: manual\n  name: ship\n  steps:\n  - {name: deploy, service: app, command: 'true'}\n")
    (tmp_path / "env.encrypted").write_text("x")
    all_jobs = jobs(gitlab(tmp_path, fanout=True))
    assert "environment" not in all_jobs["s01-plain"]
    secrets = {"name": "codeship-secrets", "action": "access"}  # the key's CI/CD variable is scoped to it
    assert all_jobs["s02-decrypts"]["environment"] == secrets
    assert all_jobs["s03-starts-a-secret-service"]["environment"] == secrets
    assert all_jobs["s04-ship"]["environment"] == "codeship-approval"
    one_runner = jobs(gitlab(tmp_path))  # the build decrypts; the manual group is the approval job
    assert one_runner["s01-build"]["environment"] == secrets
    assert one_runner["s02-ship"]["environment"] == "codeship-approval"


def test_a_step_name_with_a_nul_character_is_refused(tmp_path):
    from helpers import run_cli

    (tmp_path / "codeship-services.yml").write_text("app:\n  image: busybox\n")
    (tmp_path / "codeship-steps.yml").write_text('- name: "a\\0b"\n  service: app\n  command: "true"\n')
    result = run_cli("translate", ".", "--ci", "gitlab", cwd=tmp_path)
    assert result.exit_code == 1
    assert "codeship-steps.yml:1:3: error[C2C730]" in result.stderr and "NUL" in result.stderr
    assert not (tmp_path / ".gitlab-ci.yml").exists()


def test_a_manual_group_inside_a_group_still_waits_for_approval_in_ci(tmp_path):
    """The script skips a nested manual group unless --manual; the CI files offered no way to
    approve it (no manual job on GitLab, no approval in GitHub's settings step): its deploy could
    never run, and the build showed green. The top-level step holding it waits for approval."""
    (tmp_path / "codeship-services.yml").write_text("app:\n  image: busybox\n")
    (tmp_path / "codeship-steps.yml").write_text(
        "- {name: tests, service: app, command: 'true'}\n"
        "- type: serial\n  name: ship\n  steps:\n"
        "  - type: manual\n    name: approve\n    steps:\n"
        "    - {name: deploy, service: app, command: ./deploy.sh}\n")
    result = translate(tmp_path, ci=("gitlab", "github"))
    texts = {p.name: yaml.safe_load(t) for p, t in result.outputs.items() if p.suffix == ".yml"}
    gl = jobs(texts[".gitlab-ci.yml"])
    holding = [job for job in gl.values() if any("--step 'ship'" in line for line in job["script"])]
    assert holding and holding[0]["rules"][0]["when"] == "manual" and holding[0]["interruptible"] is False
    gh = texts["codeship.yml"]
    settings = gh["jobs"]["build"]["steps"][1]
    assert "C2C_ASKED_APPROVAL" in settings["env"] and "--manual" in settings["run"]
    ship = next(s for s in gh["jobs"]["build"]["steps"] if s.get("name") == "ship")
    assert ship["if"] == "${{ env.C2C_APPROVED == 'true' }}"
    assert gh["concurrency"]["cancel-in-progress"] is not True
