"""Tests for translator/codeship_aes.py and templates/decrypt.bash (jet-compatible AES)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from translator import codeship_aes as aes
from translator.codeship_aes import AesError

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "aes"
BASH_LIB = REPO / "templates" / "decrypt.bash"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
EXAMPLES = CORPUS / "codeship__codeship-tool-examples"
AES_EXAMPLE = EXAMPLES / "11.encrypted-aes"
BUILD_ARGS = EXAMPLES / "20.build-args"

needs_corpus = pytest.mark.skipif(
    not AES_EXAMPLE.is_dir(),
    reason=f"shared corpus not found at {CORPUS} (the repo must be checked out next to shared/)",
)
needs_bash_openssl = pytest.mark.skipif(
    shutil.which("bash") is None or shutil.which("openssl") is None,
    reason="bash and openssl are needed to test templates/decrypt.bash",
)

KEY32 = bytes(range(32))
KEYS = {16: bytes(range(16)), 24: bytes(range(24)), 32: KEY32}
PLAINTEXTS = [
    b"",
    b"A",
    b"FOO=bar\n",
    b"X" * 15,
    b"Y" * 16,
    b"Z" * 17,
    b"# comment\nFOO=bar\nBAZ=bat\n",
    bytes(range(256)) * 4 + b"\x00\r\n",
]


def official_key() -> bytes:
    return aes.load_key(AES_EXAMPLE / "codeship.aes", env={})


# ------------------------------------------------------------------------------------------
# official example (v1)


@needs_corpus
def test_official_key_file_format():
    raw = (AES_EXAMPLE / "codeship.aes").read_bytes()
    # 44 base64 chars, no trailing newline, decodes to an AES-256 key
    assert len(raw) == 44 and not raw.endswith(b"\n")
    assert official_key() == base64.b64decode(raw)
    assert len(official_key()) == 32


@needs_corpus
def test_official_v1_file_decrypts_byte_exactly():
    data = (AES_EXAMPLE / "environment.encrypted").read_bytes()
    # v1: a single base64 line, no header, no trailing newline
    assert b"\n" not in data and not data.startswith(b"codeship:")
    assert aes.detect_version(data) == 1

    plaintext = aes.decrypt(data, official_key())
    published = (AES_EXAMPLE / "environment").read_bytes()

    # README: the plaintext is `environment` apart from the first comment line; the encrypted
    # plaintext has its own comment line.  Check exactly that.
    pub_first, pub_rest = published.split(b"\n", 1)
    dec_first, dec_rest = plaintext.split(b"\n", 1)
    assert pub_first == b"# jet encrypt environment environment.encrypted"
    assert dec_first == b"# jet encrypt --key-path=key.key environment environment.encrypted"
    assert dec_rest == pub_rest == b"FOO=bar\nBAZ=bat\n"
    assert plaintext == dec_first + b"\n" + pub_rest
    assert len(plaintext) == len(base64.b64decode(data)) - 16  # CFB: no padding

    assert aes.looks_like_env_file(plaintext)
    assert aes.decrypt_checked(data, official_key()) == plaintext


@needs_corpus
@pytest.mark.parametrize(
    "path",
    [AES_EXAMPLE / "environment.encrypted.ci", BUILD_ARGS / "build_args.encrypted"],
    ids=["environment.encrypted.ci", "build_args.encrypted"],
)
def test_wrong_key_v1_files_give_error_not_garbage(path):
    data = path.read_bytes()
    assert aes.detect_version(data) == 1
    garbage = aes.decrypt(data, official_key())  # v1 has no checksum: decrypt "succeeds"
    assert len(garbage) == len(base64.b64decode(data)) - 16
    assert not aes.looks_like_env_file(garbage)
    with pytest.raises(AesError) as info:
        aes.decrypt_checked(data, official_key(), source=str(path))
    assert "wrong AES key" in info.value.message
    assert str(path) in info.value.message
    assert info.value.hint


def test_v1_json_is_accepted_like_env_lines():
    # a v1 encrypted dockercfg is JSON, not KEY=value lines
    dockercfg = b'{"auths": {"registry.example.com": {"auth": "dXNlcjpwdw=="}}}\n'
    assert aes.decrypt_checked(aes.encrypt(dockercfg, KEY32, version=1), KEY32) == dockercfg


@needs_corpus
def test_wrong_key_inline_encrypted_args():
    services = (BUILD_ARGS / "codeship-services.yml").read_text()
    value = re.search(r"encrypted_args:\s*(\S+)", services).group(1)
    with pytest.raises(AesError, match="wrong AES key"):
        aes.decrypt_checked(value.encode(), official_key())


# ------------------------------------------------------------------------------------------
# checked-in own v2 vectors


@pytest.mark.parametrize(
    "key_file,enc_file,plain_file",
    [
        ("codeship.aes", "env.v2.encrypted", "env.plain"),
        ("aes128.key", "binary.v2.encrypted", "binary.plain"),
    ],
)
def test_checked_in_v2_vectors(key_file, enc_file, plain_file):
    key = aes.load_key(DATA / key_file, env={})
    data = (DATA / enc_file).read_bytes()
    assert data.startswith(aes.V2_HEADER) and not data.endswith(b"\n")
    assert aes.detect_version(data) == 2
    assert aes.decrypt(data, key) == (DATA / plain_file).read_bytes()


def test_checked_in_env_vector_is_env_file():
    key = aes.load_key(DATA / "codeship.aes", env={})
    plaintext = aes.decrypt_checked((DATA / "env.v2.encrypted").read_bytes(), key)
    assert aes.looks_like_env_file(plaintext)


# ------------------------------------------------------------------------------------------
# round trips and format


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("key_len", sorted(KEYS))
@pytest.mark.parametrize("plaintext", PLAINTEXTS, ids=lambda p: f"len{len(p)}")
def test_round_trip(version, key_len, plaintext):
    key = KEYS[key_len]
    data = aes.encrypt(plaintext, key, version=version)
    assert aes.detect_version(data) == version
    assert aes.decrypt(data, key) == plaintext


def test_default_version_is_v2_and_layout():
    plaintext = b"FOO=bar\n"
    data = aes.encrypt(plaintext, KEY32)
    assert data.startswith(b"codeship:v2\n")
    body = data[len(b"codeship:v2\n"):]
    assert b"\n" not in body  # one line, no trailing newline
    raw = base64.b64decode(body, validate=True)
    assert len(raw) == 16 + 32 + len(plaintext)
    # independent check of the layout (hashlib, not the module): read as v1, the v2 body
    # decrypts to md5hex(plaintext) || plaintext
    expected = hashlib.md5(plaintext).hexdigest().encode() + plaintext
    assert aes.decrypt(base64.b64encode(raw), KEY32) == expected  # read as v1 == raw payload


def test_v1_layout():
    data = aes.encrypt(b"FOO=bar\n", KEY32, version=1)
    assert not data.startswith(b"codeship:") and b"\n" not in data
    assert len(base64.b64decode(data, validate=True)) == 16 + 8


def test_random_iv():
    a1 = aes.encrypt(b"same", KEY32)
    a2 = aes.encrypt(b"same", KEY32)
    assert a1 != a2
    assert base64.b64decode(a1[12:])[:16] != base64.b64decode(a2[12:])[:16]


def test_encrypt_rejects_bad_version_and_key():
    with pytest.raises(ValueError):
        aes.encrypt(b"x", KEY32, version=3)
    with pytest.raises(AesError, match="16, 24 or 32"):
        aes.encrypt(b"x", b"short")
    with pytest.raises(AesError, match="16, 24 or 32"):
        aes.decrypt(aes.encrypt(b"x", KEY32), b"k" * 20)


@pytest.mark.parametrize("version", [1, 2])
def test_tolerates_newlines_crlf_and_wrapping(version):
    plaintext = b"FOO=bar\n"
    data = aes.encrypt(plaintext, KEY32, version=version)
    variants = [
        data + b"\n",
        data + b"\r\n",
        data + b"  \n\n",
        data.replace(b"\n", b"\r\n") + b"\r\n",
    ]
    body_start = len(aes.V2_HEADER) if version == 2 else 0
    body = data[body_start:]
    wrapped = b"\n".join(body[i:i + 20] for i in range(0, len(body), 20)) + b"\n"
    variants.append(data[:body_start] + wrapped)
    for variant in variants:
        assert aes.decrypt(variant, KEY32) == plaintext, variant


def test_tampered_v2_gives_checksum_error():
    data = bytearray(aes.encrypt(b"FOO=bar\nBAZ=bat\n", KEY32))
    raw = bytearray(base64.b64decode(bytes(data[12:])))
    raw[-1] ^= 0x01  # flip one plaintext bit (CFB: only that bit changes in the last block)
    tampered = aes.V2_HEADER + base64.b64encode(bytes(raw))
    with pytest.raises(AesError) as info:
        aes.decrypt(tampered, KEY32)
    assert info.value.message == aes.CHECKSUM_ERROR
    assert info.value.message == "checksum for decrypted data is invalid, corrupt AES key or data"
    assert info.value.hint


def test_wrong_key_v2_gives_checksum_error():
    data = aes.encrypt(b"FOO=bar\n", KEY32)
    with pytest.raises(AesError, match="checksum for decrypted data is invalid"):
        aes.decrypt(data, bytes(32))
    with pytest.raises(AesError, match="checksum for decrypted data is invalid"):
        aes.decrypt_checked(data, bytes(32))


def test_truncated_v2_shorter_than_checksum():
    raw = os.urandom(16 + 10)
    with pytest.raises(AesError, match="checksum"):
        aes.decrypt(aes.V2_HEADER + base64.b64encode(raw), KEY32)


@pytest.mark.parametrize(
    "data,pattern",
    [
        (b"not base64 !!!", "not valid base64"),
        (b"codeship:v2\n%%%%", "not valid base64 after the codeship:v2 header"),
        (b"QUJD", "too short"),
        (b"", "too short"),
        (b"codeship:v2\n", "too short"),
        (b"codeship:v3\nQUJD", "unsupported encrypted file format 'codeship:v3'"),
    ],
)
def test_malformed_input(data, pattern):
    with pytest.raises(AesError, match=pattern) as info:
        aes.decrypt(data, KEY32)
    assert info.value.hint


def test_v1_iv_only_is_empty_plaintext():
    assert aes.decrypt(base64.b64encode(bytes(16)), KEY32) == b""


# ------------------------------------------------------------------------------------------
# keys


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_load_key_file_whitespace_and_pathlike(tmp_path):
    b64 = base64.b64encode(KEY32)
    for content in (b64, b64 + b"\n", b64 + b"\r\n", b"  " + b64 + b"\n\n"):
        path = write(tmp_path / "codeship.aes", content)
        assert aes.load_key(path, env={}) == KEY32
        assert aes.load_key(str(path), env={}) == KEY32
    for n in (16, 24):
        path = write(tmp_path / f"k{n}", base64.b64encode(KEYS[n]))
        assert aes.load_key(path, env={}) == KEYS[n]


def test_env_var_takes_precedence(tmp_path):
    path = write(tmp_path / "codeship.aes", base64.b64encode(KEY32))
    other = bytes(range(100, 132))
    env = {"CODESHIP_AES_KEY": base64.b64encode(other).decode() + "\n"}
    assert aes.load_key(path, env=env) == other
    assert aes.load_key(None, env=env) == other
    assert aes.load_key(tmp_path / "missing.aes", env=env) == other


def test_env_var_default_is_os_environ(tmp_path, monkeypatch):
    other = bytes(range(50, 66))
    monkeypatch.setenv("CODESHIP_AES_KEY", base64.b64encode(other).decode())
    assert aes.load_key(tmp_path / "missing.aes") == other
    monkeypatch.delenv("CODESHIP_AES_KEY")
    with pytest.raises(AesError, match="not found"):
        aes.load_key(tmp_path / "missing.aes")


@pytest.mark.parametrize(
    "value,pattern",
    [
        ("", "CODESHIP_AES_KEY is set but empty"),
        ("   ", "CODESHIP_AES_KEY is set but empty"),
        ("not-base64!", "CODESHIP_AES_KEY does not contain valid base64"),
        ("grüße", "CODESHIP_AES_KEY is not valid base64"),
        (base64.b64encode(b"x" * 20).decode(), "CODESHIP_AES_KEY decodes to 20 bytes"),
    ],
)
def test_bad_env_key(tmp_path, value, pattern):
    good = write(tmp_path / "codeship.aes", base64.b64encode(KEY32))
    with pytest.raises(AesError, match=pattern) as info:
        aes.load_key(good, env={"CODESHIP_AES_KEY": value})
    assert "CODESHIP_AES_KEY" in info.value.hint


def test_no_key_at_all():
    with pytest.raises(AesError, match="No AES key provided") as info:
        aes.load_key(None, env={})
    assert "CODESHIP_AES_KEY" in info.value.hint


@pytest.mark.parametrize(
    "content,pattern",
    [
        (None, "AES key file not found: {path}"),
        (b"", "AES key file is empty: {path}"),
        (b"\n\n", "AES key file is empty: {path}"),
        (b"@@@@not base64@@@@\n", "key file {path} does not contain valid base64"),
        (b"\xff\xfe\n", "key file {path} does not contain valid base64"),
        (base64.b64encode(b"k" * 31) + b"\n", "key file {path} decodes to 31 bytes"),
        (base64.b64encode(b"k" * 33), "key file {path} decodes to 33 bytes"),
    ],
)
def test_bad_key_file(tmp_path, content, pattern):
    path = tmp_path / "codeship.aes"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AesError) as info:
        aes.load_key(path, env={})
    assert info.value.message.startswith(pattern.format(path=path))
    assert str(path) in info.value.message
    assert str(path) in info.value.hint


def test_key_path_is_directory(tmp_path):
    with pytest.raises(AesError, match="is a directory"):
        aes.load_key(tmp_path, env={})


def test_generate_key():
    k1, k2 = aes.generate_key(), aes.generate_key()
    assert k1 != k2 and len(k1) == 44
    assert len(base64.b64decode(k1, validate=True)) == 32
    assert aes.decrypt(aes.encrypt(b"A=1\n", base64.b64decode(k1)), base64.b64decode(k1)) == b"A=1\n"


def test_aes_error_attributes():
    err = AesError("something broke", "do this")
    assert err.message == "something broke" and err.hint == "do this"
    assert "something broke" in str(err)
    assert isinstance(err, Exception)


# ------------------------------------------------------------------------------------------
# looks_like_env_file


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n\n",
        b"# only a comment\n",
        b"FOO=bar\nBAZ=bat\n",
        b"FOO=bar",
        b"export FOO=bar\r\nEMPTY=\r\n",
        b"  INDENTED = spaced\n",
        "UNICODE=grüße\n".encode(),
        b"\xef\xbb\xbfBOM=1\n",
        b'MULTI="line one\nline two"\nNEXT=1\n',
        b"lower.case-name=1\n",
    ],
)
def test_looks_like_env_file_true(data):
    assert aes.looks_like_env_file(data)


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe\x00garbage",
        b"FOO=bar\njust some words\n",
        b"=novar\n",
        b"1ABC=x\n",
        b"FOO=bar\x00\n",
        b"FOO=\x1b[31m\n",
        b"FOO\n",
    ],
)
def test_looks_like_env_file_false(data):
    assert not aes.looks_like_env_file(data)


def test_random_bytes_rarely_look_like_env_files():
    hits = sum(aes.looks_like_env_file(os.urandom(24)) for _ in range(2000))
    assert hits == 0


# ------------------------------------------------------------------------------------------
# import hygiene


def run_python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )


def test_cryptography_is_imported_lazily():
    proc = run_python(
        "import sys, translator.codeship_aes\n"
        "bad = [m for m in ('cryptography', 'hashlib') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    assert proc.returncode == 0, proc.stderr


def test_no_deprecation_warning_from_cfb():
    proc = run_python(
        "import warnings\n"
        "warnings.simplefilter('error')\n"
        "from translator import codeship_aes as a\n"
        "k = bytes(32)\n"
        "assert a.decrypt(a.encrypt(b'x=1', k), k) == b'x=1'\n"
    )
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------------------------------
# templates/decrypt.bash


def bash_decrypt(src: Path, out: Path, key_b64: str, *, strict: bool = True, cwd: Path | None = None):
    script = ('set -euo pipefail; ' if strict else '') + 'source "$1"; c2c_decrypt "$2" "$3" "$4"'
    return subprocess.run(
        ["bash", "-c", script, "c2c-test", str(BASH_LIB), str(src), str(out), key_b64],
        capture_output=True, timeout=60, cwd=cwd,
    )


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


@needs_bash_openssl
@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("key_len", sorted(KEYS))
@pytest.mark.parametrize("plaintext", [PLAINTEXTS[0], PLAINTEXTS[2], PLAINTEXTS[5], PLAINTEXTS[-1]],
                         ids=lambda p: f"len{len(p)}")
def test_bash_decrypts_python_output(tmp_path, version, key_len, plaintext):
    key = KEYS[key_len]
    src = write(tmp_path / "in.encrypted", aes.encrypt(plaintext, key, version=version))
    out = tmp_path / "out"
    proc = bash_decrypt(src, out, b64(key))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"" and proc.stderr == b""
    assert out.read_bytes() == plaintext
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.encrypted", "out"]


@needs_bash_openssl
@pytest.mark.parametrize(
    "key_file,enc_file,plain_file",
    [
        ("codeship.aes", "env.v2.encrypted", "env.plain"),
        ("aes128.key", "binary.v2.encrypted", "binary.plain"),
    ],
)
def test_bash_checked_in_v2_vectors(tmp_path, key_file, enc_file, plain_file):
    out = tmp_path / "out with space"
    proc = bash_decrypt(DATA / enc_file, out, (DATA / key_file).read_text())
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (DATA / plain_file).read_bytes()


@needs_bash_openssl
@needs_corpus
def test_bash_official_v1_example(tmp_path):
    out = tmp_path / "environment"
    proc = bash_decrypt(AES_EXAMPLE / "environment.encrypted", out,
                        (AES_EXAMPLE / "codeship.aes").read_text())
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == aes.decrypt((AES_EXAMPLE / "environment.encrypted").read_bytes(),
                                           official_key())


@needs_bash_openssl
def test_bash_tolerates_crlf_and_trailing_newline(tmp_path):
    for version in (1, 2):
        data = aes.encrypt(b"FOO=bar\n", KEY32, version=version)
        src = write(tmp_path / "in", data.replace(b"\n", b"\r\n") + b"\r\n")
        out = tmp_path / "out"
        proc = bash_decrypt(src, out, b64(KEY32) + "\n")
        assert proc.returncode == 0, proc.stderr
        assert out.read_bytes() == b"FOO=bar\n"


@needs_bash_openssl
@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("stale_out", [False, True])
def test_bash_checksum_failure_leaves_no_output(tmp_path, strict, stale_out):
    data = aes.encrypt(b"FOO=bar\nBAZ=bat\n", KEY32)
    raw = bytearray(base64.b64decode(data[12:]))
    raw[-1] ^= 0x01
    src = write(tmp_path / "tampered.encrypted", aes.V2_HEADER + base64.b64encode(bytes(raw)))
    out = tmp_path / "out"
    if stale_out:
        out.write_bytes(b"OLD=secret\n")
    proc = bash_decrypt(src, out, b64(KEY32), strict=strict)
    assert proc.returncode == 1
    assert proc.stderr.decode() == (
        f"checksum for decrypted data is invalid, corrupt AES key or data: {src}\n"
    )
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tampered.encrypted"]


@needs_bash_openssl
def test_bash_wrong_key_v2_fails(tmp_path):
    src = write(tmp_path / "in", aes.encrypt(b"FOO=bar\n", KEY32))
    proc = bash_decrypt(src, tmp_path / "out", b64(bytes(32)))
    assert proc.returncode == 1
    assert b"checksum for decrypted data is invalid" in proc.stderr
    assert not (tmp_path / "out").exists()


@needs_bash_openssl
def test_bash_failure_under_set_e_in_if(tmp_path):
    """Caller idiom in the runner: `if ! c2c_decrypt ...; then ...` must see the failure."""
    src = write(tmp_path / "in", aes.encrypt(b"FOO=bar\n", KEY32))
    script = (
        'set -euo pipefail; source "$1"; '
        'if c2c_decrypt "$2" "$3" "$4"; then echo ok; else echo "failed $?"; fi; echo after'
    )
    proc = subprocess.run(
        ["bash", "-c", script, "t", str(BASH_LIB), str(src), str(tmp_path / "out"), b64(bytes(32))],
        capture_output=True, timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stdout == b"failed 1\nafter\n"
    assert not (tmp_path / "out").exists()


@needs_bash_openssl
@pytest.mark.parametrize(
    "content,key,message",
    [
        (b"codeship:v3\nQUJD", b64(KEY32), "unsupported encrypted file format 'codeship:v3'"),
        (b"%%%% not base64", b64(KEY32), "not valid base64"),
        (b"QUJD", b64(KEY32), "too short"),
        (None, b64(KEY32), "cannot read encrypted file"),
        (b"QUJD", "", "No AES key provided"),
        (b"QUJD", "@@not-base64@@", "invalid AES key (not base64)"),
        (b"QUJD", b64(b"x" * 20), "invalid AES key: 20 bytes"),
    ],
)
def test_bash_errors(tmp_path, content, key, message):
    src = tmp_path / "in"
    if content is not None:
        src.write_bytes(content)
    out = tmp_path / "out"
    proc = bash_decrypt(src, out, key)
    assert proc.returncode == 1
    assert message in proc.stderr.decode()
    assert str(src) in proc.stderr.decode()
    assert not out.exists()


@needs_bash_openssl
def test_bash_refuses_same_in_and_out(tmp_path):
    data = aes.encrypt(b"FOO=bar\n", KEY32)
    src = write(tmp_path / "in", data)
    proc = bash_decrypt(src, src, b64(KEY32))
    assert proc.returncode == 1
    assert src.read_bytes() == data


@needs_bash_openssl
def test_bash_does_not_leak_umask_or_names(tmp_path):
    src = write(tmp_path / "in", aes.encrypt(b"FOO=bar\n", KEY32))
    script = (
        'set -euo pipefail; umask 022; source "$1"; c2c_decrypt "$2" "$3" "$4"; umask; '
        'echo "vars:$(compgen -v c2c_ | tr "\\n" " ")"; '
        'echo "cwd:$PWD"; declare -F | sed "s/^declare -f //" | tr "\\n" " "'
    )
    proc = subprocess.run(
        ["bash", "-c", script, "t", str(BASH_LIB), str(src), str(tmp_path / "out"), b64(KEY32)],
        capture_output=True, timeout=60, text=True, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "0022"
    assert lines[1] == "vars:"
    assert lines[2] == f"cwd:{tmp_path}"
    assert lines[3].split() == ["c2c_decrypt", "c2c_decrypt_private"]


def test_bash_lib_names_are_prefixed():
    text = BASH_LIB.read_text()
    functions = re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\(\)", text, re.M)
    assert functions == ["c2c_decrypt", "c2c_decrypt_private"]
    for line in text.splitlines():
        m = re.match(r"\s*local\s+(.*)", line)
        if m:
            for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", m.group(1)):
                assert name.startswith("c2c_"), name


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_bash_lib_is_shellcheck_clean():
    proc = subprocess.run(["shellcheck", "-s", "bash", str(BASH_LIB)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
