"""Smaller differences from jet in how the generated script runs steps (issue 12, items 8, 10,
11, 13, 14, 17): what the log and summary say, CI_BUILD_APPROVED, TTYs, and keeping the AES key
off every command line."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from e2e_support import _claim_run, make_project, run_script, script_argv, script_env
from translator import codeship_aes

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "aes"
BUSYBOX = "busybox"


def sh(script: str) -> list[str]:
    return ["sh", "-c", script]


def _echo(name: str, **extra) -> dict:
    return {"name": name, "service": "app", "command": f"echo {name}", **extra}


# ==============================================================================================
# Item 8: steps skipped through a group's tag/exclude are listed and counted
# ==============================================================================================
@pytest.fixture(scope="module")
def group_filter_project(tmp_path_factory) -> Path:
    steps = [
        {"type": "serial", "name": "deploy", "tag": "master", "steps": [
            _echo("migrate"),
            {"type": "parallel", "name": "nested", "steps": [_echo("web"), _echo("worker")]},
        ]},
        {"type": "parallel", "name": "checks", "exclude": "master", "steps": [_echo("lint")]},
        {"type": "manual", "name": "approve", "tag": "release", "steps": [_echo("ship")]},
    ]
    return make_project(tmp_path_factory.mktemp("group-filter"), {"app": {"image": BUSYBOX}}, steps)


def _summary(output: str) -> dict[str, str]:
    """Summary lines `  - NAME   skipped: WHY` → {NAME: WHY}."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^  - (\S+) +skipped: (.*)$", output, re.M)}


def test_a_run_where_every_step_is_filtered_by_groups_lists_each_with_its_reason(group_filter_project):
    # every selected step sits in a group whose tag leaves it out: nothing needs the engine
    run = run_script(group_filter_project, None, "--tag", "nope", "--step", "deploy", "--step", "approve")
    assert run.returncode == 0, run
    assert _summary(run.output) == {
        "migrate": "tag: master does not match 'nope'", "web": "tag: master does not match 'nope'",
        "worker": "tag: master does not match 'nope'", "ship": "tag: release does not match 'nope'"}
    assert re.search(r"^0 passed, 0 failed, 4 skipped in ", run.output, re.M), run
    excluded = run_script(group_filter_project, None, "--tag", "master", "--step", "lint")
    assert excluded.returncode == 0, excluded
    assert _summary(excluded.output) == {"lint": "excluded by exclude: master"}
    assert re.search(r"^0 passed, 0 failed, 1 skipped in ", excluded.output, re.M), excluded


def test_dry_run_counts_steps_skipped_by_a_group_filter(group_filter_project):
    run = run_script(group_filter_project, None, "--dry-run", "--tag", "master")
    assert run.returncode == 0, run
    # migrate, web, worker would run; lint is excluded by its group; ship's group wants "release"
    assert "Dry run: 3 steps would run, 2 skipped; nothing was run." in run.output, run
    untagged = run_script(group_filter_project, None, "--dry-run")
    assert "Dry run: 1 step would run, 4 skipped; nothing was run." in untagged.output, untagged


# ==============================================================================================
# Items 10 and 11: what a failing step prints
# ==============================================================================================
@pytest.fixture(scope="module")
def failing_project(tmp_path_factory) -> Path:
    services = {"app": {"image": BUSYBOX},
                "secret": {"image": BUSYBOX, "encrypted_env_file": "secret.env.encrypted"}}
    steps = [{"name": "fails", "service": "app", "command": sh("echo one; echo; echo two; exit 3")},
             {"name": "needs-key", "service": "secret", "command": "env"}]
    root = tmp_path_factory.mktemp("failing")
    key = codeship_aes.load_key(None, {"CODESHIP_AES_KEY": codeship_aes.generate_key()})
    files = {"secret.env.encrypted": codeship_aes.encrypt(b"S=1\n", key).decode()}
    return make_project(root, services, steps, files)


def _between(lines: list[str], first: str, last_prefix: str) -> list[str]:
    start = lines.index(first)
    end = next(i for i in range(start, len(lines)) if lines[i].startswith(last_prefix))
    return lines[start + 1:end]


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_a_failing_step_prints_exactly_its_own_output(failing_project, compose):
    run = run_script(failing_project, compose, "--step", "fails")
    assert run.returncode == 3, run
    assert _between(run.lines, "(step: fails)", "(step: fails) error") == [
        "(service: app) (step: fails) one", "(service: app) (step: fails) ",
        "(service: app) (step: fails) two"]
    assert re.search(r"^\(step: fails\) error ✗ container exited with a 3 code \(", run.output, re.M)


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_without_a_key_the_step_names_the_encrypted_file(failing_project, compose):
    env = {k: v for k, v in script_env().items() if k != "CODESHIP_AES_KEY"}
    run = run_script(failing_project, compose, "--step", "needs-key", env=env)
    assert run.returncode == 1, run
    assert "could not remove" not in run.output  # nothing was created
    said = _between(run.lines, "(step: needs-key)", "(step: needs-key) error")
    assert any("no AES key" in line and "secret.env.encrypted" in line for line in said), said
    assert any("--key-path" in line for line in said) and any("CODESHIP_AES_KEY" in line for line in said)
    assert re.search(r"^\(step: needs-key\) error ✗ could not decrypt secret\.env\.encrypted \(", run.output, re.M)
    assert "container exited" not in run.output
    assert re.search(r"^  ✗ needs-key +\S+  could not decrypt secret\.env\.encrypted$", run.output, re.M)


# ==============================================================================================
# Item 13: CI_BUILD_APPROVED
# ==============================================================================================
@pytest.fixture(scope="module")
def manual_project(tmp_path_factory) -> Path:
    show = sh('echo "approved=${CI_BUILD_APPROVED-unset}"')
    steps = [{"name": "test", "service": "app", "command": show},
             {"type": "manual", "name": "gate", "steps": [{"name": "deploy", "service": "app", "command": show}]}]
    return make_project(tmp_path_factory.mktemp("manual"), {"app": {"image": BUSYBOX}}, steps)


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_ci_build_approved(manual_project, compose):
    # like Codeship: false until the build is approved; the approved run (--manual) has true everywhere
    run = run_script(manual_project, compose)
    assert run.returncode == 0, run
    assert run.said("test") == ["approved=false"] and "deploy" not in run.started()
    approved = run_script(manual_project, compose, "--manual")
    assert approved.returncode == 0, approved
    assert approved.said("test") == ["approved=true"] and approved.said("deploy") == ["approved=true"]


# ==============================================================================================
# Item 14: a TTY for the step when the script runs in a terminal
# ==============================================================================================
@pytest.fixture(scope="module")
def tty_project(tmp_path_factory) -> Path:
    steps = [{"type": "parallel", "name": "both", "steps": [
        {"name": "alone", "service": "app", "command": sh("[ -t 1 ] && echo out-tty || echo out-no-tty")},
        {"name": "beside", "service": "app", "command": sh("[ -t 1 ] && echo out-tty || echo out-no-tty")}]}]
    return make_project(tmp_path_factory.mktemp("tty"), {"app": {"image": BUSYBOX}}, steps)


def run_in_pty(argv: list[str], env: dict[str, str], timeout: float = 240) -> tuple[int, str]:
    """Run argv with a new pseudo-terminal as its controlling terminal, stdin and stdout (what a
    terminal session gives it); returns the exit status and what it wrote."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    _claim_run(pid)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            out += data
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = out.decode("utf-8", "replace").replace("\r", "")
    print(f"$ {' '.join(argv)} (in a pty)\n{text}")
    return os.waitstatus_to_exitcode(status), text


def _said(text: str, step: str) -> list[str]:
    return re.findall(rf"^\(service: app\) \(step: {step}\) (.*)$", text, re.M)


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_a_step_gets_a_tty_in_a_terminal_and_none_otherwise(tty_project, compose):
    argv = script_argv(tty_project, compose)
    status, text = run_in_pty(argv, script_env())
    assert status == 0, text
    assert _said(text, "alone") == ["out-tty"] and _said(text, "beside") == ["out-tty"]
    status, text = run_in_pty(argv + ["--no-tty"], script_env())  # jet's -T
    assert status == 0 and _said(text, "alone") == ["out-no-tty"], text
    status, text = run_in_pty(argv, script_env({"CI": "true"}))  # on a CI host: never
    assert status == 0 and _said(text, "alone") == ["out-no-tty"], text
    # a background job of a terminal session
    status, text = run_in_pty(["bash", "-c", 'set -m; "$@" & wait $!', "bash", *argv], script_env())
    assert status == 0 and _said(text, "alone") == ["out-no-tty"], text
    run = run_script(tty_project, compose)  # no terminal at all
    assert run.returncode == 0 and run.said("alone") == ["out-no-tty"], run


# ==============================================================================================
# Item 17: the AES key never on a command line
# ==============================================================================================
VECTORS = [("codeship.aes", "env.v2.encrypted", "env.plain"),
           ("aes128.key", "binary.v2.encrypted", "binary.plain")]

# What every wrapper records before it runs the real program: its own arguments and every
# process's command line at that moment.
RECORD = '{ printf "argv:"; printf " %s" "$@"; echo; ps -A -o args=; } >>"$C2C_TEST_RECORD"\n'


def decryptor_path(tmp_path: Path, which: str) -> str:
    """A PATH on which the chosen decryptor is the best one at hand; each wrapper records."""
    bin_dir = tmp_path / f"bin-{which}"
    bin_dir.mkdir()

    def wrapper(name: str, body: str) -> None:
        path = bin_dir / name
        path.write_text("#!/bin/bash\n" + RECORD + body)
        path.chmod(0o755)

    if which == "codeship2compose":
        wrapper("codeship2compose", f'PYTHONPATH={REPO} exec {sys.executable} -m translator "$@"\n')
        wrapper("python3", f'exec {sys.executable} "$@"\n')
    elif which == "python3":
        wrapper("python3", f'exec {sys.executable} "$@"\n')
    elif which == "codeship2compose-without-crypto":  # installed without its crypto extra
        wrapper("codeship2compose", '[[ ${2-} == --help ]] && exit 0\necho "error: encrypting and decrypting '
                "need the Python package 'cryptography', which is not installed\" >&2\nexit 1\n")
        wrapper("python3", f'exec {sys.executable} "$@"\n')
    else:  # a python3 without cryptography
        wrapper("python3", 'for a; do [[ $a == *cryptography* ]] && exit 1; done\nexec /usr/bin/python3 "$@"\n')
    wrapper("openssl", f'exec {shutil.which("openssl")} "$@"\n')
    # the rest of PATH holds neither codeship2compose nor pyenv's shims
    return f"{bin_dir}:/usr/bin:/bin"


def key_forms(key_b64: str) -> list[str]:
    key = codeship_aes.load_key(None, {"CODESHIP_AES_KEY": key_b64})
    return [key_b64.strip(), key.hex()]


@pytest.mark.parametrize("which", ["codeship2compose", "codeship2compose-without-crypto", "python3", "openssl"])
@pytest.mark.parametrize("key_file,enc_file,plain_file", VECTORS)
def test_decryption_keeps_the_key_off_command_lines(tmp_path, which, key_file, enc_file, plain_file):
    record = tmp_path / "record"
    record.touch()
    out = tmp_path / "out"
    state = tmp_path / "state"
    state.mkdir()
    key_b64 = (DATA / key_file).read_text()
    script = ('set -euo pipefail; source "$1"; C2C_STATE=$2; '
              'c2c_decrypt_private "$3" "$4" "$(cat "$5")"; c2c_decrypt_private "$3" "$4" "$(cat "$5")"')
    env = {"PATH": decryptor_path(tmp_path, which), "HOME": os.environ.get("HOME", "/root"),
           "C2C_TEST_RECORD": str(record)}
    proc = subprocess.run(["bash", "-c", script, "t",
                           str(REPO / "templates" / "decrypt.bash"), str(state), str(DATA / enc_file),
                           str(out), str(DATA / key_file)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out.read_bytes() == (DATA / plain_file).read_bytes()
    recorded = record.read_text()
    leaked = [form for form in key_forms(key_b64) if form in recorded]
    if which == "openssl":
        # the fallback: openssl takes the key only as -K HEX, and says so once in the log
        assert leaked == [key_forms(key_b64)[1]], "the recording should have seen openssl's -K"
        assert (proc.stdout + proc.stderr).count("the AES key is on openssl's command line") == 1
    else:
        # the private decryptor did the work (the wrapper recorded its arguments)
        assert ("argv: decrypt --force --" if which == "codeship2compose" else "argv: -c") in recorded, recorded
        assert leaked == [], f"the key was on a command line:\n{recorded}"
        assert "openssl" not in proc.stdout + proc.stderr
        assert "-K" not in recorded


@pytest.mark.parametrize("which", ["codeship2compose", "python3"])
def test_private_decryptors_report_a_wrong_key_and_leave_nothing(tmp_path, which):
    out = tmp_path / "out"
    out.write_text("OLD=stale\n")
    state = tmp_path / "state"
    state.mkdir()
    (tmp_path / "record").touch()
    env = {"PATH": decryptor_path(tmp_path, which), "HOME": os.environ.get("HOME", "/root"),
           "C2C_TEST_RECORD": str(tmp_path / "record")}
    script = 'source "$1"; C2C_STATE=$2; c2c_decrypt_private "$3" "$4" "$5"'
    proc = subprocess.run(["bash", "-c", script, "t", str(REPO / "templates" / "decrypt.bash"), str(state), str(DATA / "env.v2.encrypted"),
                           str(out), codeship_aes.generate_key()], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 1
    assert "checksum for decrypted data is invalid" in proc.stderr and "env.v2.encrypted" in proc.stderr
    assert not out.exists()


@pytest.fixture(scope="module")
def keyed_project(tmp_path_factory) -> Path:
    key_b64 = codeship_aes.generate_key()
    key = codeship_aes.load_key(None, {"CODESHIP_AES_KEY": key_b64})
    services = {"app": {"image": BUSYBOX, "encrypted_env_file": "secret.env.encrypted"}}
    steps = [{"name": "show", "service": "app", "command": sh('echo "S=$S"')}]
    files = {"secret.env.encrypted": codeship_aes.encrypt(b"S=decrypted privately\n", key).decode(),
             "codeship.aes": key_b64 + "\n"}
    return make_project(tmp_path_factory.mktemp("keyed"), services, steps, files)


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
@pytest.mark.parametrize("which", ["codeship2compose", "openssl"])
def test_a_run_decrypts_with_the_key_off_command_lines(keyed_project, compose, which, tmp_path):
    record = tmp_path / "record"
    record.touch()
    path = decryptor_path(tmp_path, which)
    run = run_script(keyed_project, compose, env={"PATH": path, "C2C_TEST_RECORD": str(record)})
    assert run.returncode == 0, run
    assert run.said("show") == ["S=decrypted privately"]
    recorded = record.read_text()
    leaked = [form for form in key_forms((keyed_project / "codeship.aes").read_text()) if form in recorded]
    if which == "openssl":  # the fallback, said once; the recording sees the key (the check works)
        assert run.output.count("the AES key is on openssl's command line") == 1 and leaked, run
    else:
        assert "argv: decrypt --force --" in recorded and leaked == [], recorded
        assert "openssl" not in run.output
