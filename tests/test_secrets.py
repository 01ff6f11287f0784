"""Encrypted files in translated builds: decrypted only at run time, never left behind."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from translator import codeship_aes

from helpers import translate, translate_to_disk, write_project

SECRET = "s3cr3t value with $dollar and 'quotes'"


def secret_project(root: Path, with_key: bool = True) -> Path:
    key_b64 = codeship_aes.generate_key()
    key = codeship_aes.load_key(None, {"CODESHIP_AES_KEY": key_b64})
    write_project(root, """\
        app:
          build:
            context: .
            encrypted_args_file: args.encrypted
          environment:
            K: from-environment
            PLAIN: plain
          env_file: plain.env
          encrypted_env_file: secrets.encrypted
        other:
          image: busybox
        """, """\
        - name: public
          service: other
          command: echo public step ran
        - name: show
          service: app
          command: sh -c 'echo "K=$K"; echo "S=$S"; echo "PLAIN=$PLAIN"; cat /build-arg'
        """, **{"plain.env": "K=from-env-file\n",
                "Dockerfile": "FROM busybox\nARG TOKEN\nRUN echo \"token=$TOKEN\" > /build-arg\n"})
    (root / "secrets.encrypted").write_bytes(
        codeship_aes.encrypt(f"# secrets\nK=from-encrypted\nS={SECRET}\n".encode(), key))
    # spelled unlike `{{ .Branch }}`: rendered like a plain build arg all the same
    (root / "args.encrypted").write_bytes(codeship_aes.encrypt(b"TOKEN=tok-{{.Branch  -}} \n", key))
    if with_key:
        (root / "codeship.aes").write_text(key_b64 + "\n")
    return root


def test_translated_files_hold_no_secret(tmp_path):
    secret_project(tmp_path)
    result = translate(tmp_path)
    assert result.ok
    for text in result.outputs.values():
        assert "from-encrypted" not in text and "s3cr3t" not in text and "tok-" not in text
    script = result.outputs[tmp_path / "codeship-steps.sh"]
    assert "C2C_S_ENC_ENV=('file' 'secrets.encrypted')" in script
    assert "C2C_S_ENC_ARGS=('file' 'args.encrypted')" in script


def run_script(project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(project / "codeship-steps.sh"), *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300, env={**os.environ, **(env or {})})


def test_dry_run_and_list_show_no_secret(tmp_path):
    secret_project(tmp_path)
    translate_to_disk(tmp_path)
    for args in (["--list"], ["--dry-run"]):
        out = run_script(tmp_path, *args)
        assert out.returncode == 0, out.stderr
        assert "from-encrypted" not in out.stdout + out.stderr and "s3cr3t" not in out.stdout + out.stderr
    # the dry run shows the run-time override file the decrypted environment will be in
    runs = [line for line in out.stdout.splitlines() if " run " in line and line.endswith("cat\\ /build-arg")]
    assert len(runs) == 1 and re.search(r" -f \S+/compose\.yaml -f \S+/images\.json -f \S+/secrets/app\.json -p ", runs[0]), out.stdout




@pytest.mark.docker
@pytest.mark.parametrize("compose", ["v2", "v1"])
def test_encrypted_env_wins_and_nothing_decrypted_is_left(tmp_path, compose):
    secret_project(tmp_path)
    translate_to_disk(tmp_path)
    private_tmp = tmp_path.parent / f"{tmp_path.name}-tmp"
    private_tmp.mkdir()
    out = run_script(tmp_path, "--compose", compose, "--ci-branch", "main", env={"TMPDIR": str(private_tmp)})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "(service: app) (step: show) K=from-encrypted" in out.stdout  # environment < env_file < encrypted
    assert f"(service: app) (step: show) S={SECRET}" in out.stdout
    assert "(service: app) (step: show) PLAIN=plain" in out.stdout
    assert "(service: app) (step: show) token=tok-main" in out.stdout  # encrypted build arg, rendered
    assert list(private_tmp.iterdir()) == []  # the run's private directory, secrets and all, is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["Dockerfile", "args.encrypted", "codeship-services.yml", "codeship-steps.sh", "codeship-steps.yml",
         "codeship.aes", "compose.yaml", "plain.env", "secrets.encrypted"])



@pytest.mark.docker
def test_encrypted_env_wins_over_an_env_file_created_after_translating(tmp_path):
    # Codeship: environment < env_file < encrypted_env_file. A git-ignored .env that appears after
    # translating reaches the step through a run-time override file; the decrypted one must still win.
    key_b64 = codeship_aes.generate_key()
    key = codeship_aes.load_key(None, {"CODESHIP_AES_KEY": key_b64})
    write_project(tmp_path, """\
        app:
          image: busybox
          environment:
            K: from-environment
          env_file: .env
          encrypted_env_file: secrets.encrypted
        """, """\
        - name: show
          service: app
          command: sh -c 'echo "K=$K"; echo "D=$D"'
        """)
    (tmp_path / "secrets.encrypted").write_bytes(codeship_aes.encrypt(b"K=from-encrypted\n", key))
    (tmp_path / "codeship.aes").write_text(key_b64 + "\n")
    translate_to_disk(tmp_path)  # no .env yet (C2C402)
    (tmp_path / ".env").write_text("K=from-dotenv\nD=from-dotenv\n")
    out = run_script(tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "(service: app) (step: show) D=from-dotenv" in out.stdout  # the .env is read at run time
    assert "(service: app) (step: show) K=from-encrypted" in out.stdout, out.stdout

@pytest.mark.docker
def test_key_from_the_environment_variable(tmp_path):
    secret_project(tmp_path)
    key_b64 = (tmp_path / "codeship.aes").read_text().strip()
    (tmp_path / "codeship.aes").unlink()
    translate_to_disk(tmp_path)
    out = run_script(tmp_path, "--step", "show", env={"CODESHIP_AES_KEY": key_b64})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "K=from-encrypted" in out.stdout


@pytest.mark.docker
def test_without_a_key_the_script_stops_at_the_first_step_that_needs_one(tmp_path):
    secret_project(tmp_path, with_key=False)
    translate_to_disk(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "CODESHIP_AES_KEY"}
    out = subprocess.run([str(tmp_path / "codeship-steps.sh")], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=300, env=env)
    assert out.returncode == 1
    assert "(service: other) (step: public) public step ran" in out.stdout  # needs no secret: ran
    assert "no AES key" in out.stdout and "CODESHIP_AES_KEY" in out.stdout and "--key-path" in out.stdout
    assert "(step: show) error" in out.stdout


@pytest.mark.docker
def test_a_wrong_key_fails_the_step_with_the_checksum_message(tmp_path):
    secret_project(tmp_path)
    (tmp_path / "codeship.aes").write_text(codeship_aes.generate_key())
    translate_to_disk(tmp_path)
    out = run_script(tmp_path, "--step", "show")
    assert out.returncode == 1
    assert "checksum for decrypted data is invalid" in out.stdout + out.stderr


@pytest.mark.docker
def test_a_dockercfg_service_writes_the_push_credentials(tmp_path):
    write_project(tmp_path, """\
        app:
          image: busybox
        gen:
          image: busybox
          entrypoint: ["sh", "-c", "echo generated for \\"$0\\"; echo '{\\"auths\\": {}}' > \\"$0\\""]
        """, """\
        - type: push
          name: push
          service: app
          image_name: localhost:1/team/app
          image_tag: v1
          dockercfg_service: gen
        """)
    translate_to_disk(tmp_path)
    dry = run_script(tmp_path, "--push", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "/codeship-dockercfg gen /codeship-dockercfg/dockercfg" in dry.stdout
    assert "+ docker --config " in dry.stdout and " push localhost:1/team/app:v1" in dry.stdout
    out = run_script(tmp_path, "--push")
    assert out.returncode != 0  # nothing listens on localhost:1
    assert "(service: gen) (step: push) generated for /codeship-dockercfg/dockercfg" in out.stdout
    assert "wrote no credentials" not in out.stdout
    assert "(step: push) error ✗ push failed" in out.stdout
