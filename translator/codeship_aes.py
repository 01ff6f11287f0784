"""jet-compatible encryption of Codeship Pro secrets (``codeship.aes``, ``*.encrypted``).

Formats:

* key file: standard base64 of a raw 16/24/32-byte AES key, optional trailing newline.
* v1 (jet < 2.6.0): ``base64( IV[16] || AES-CFB128(key, IV, plaintext) )``, no header.
* v2 (jet >= 2.6.0): ``"codeship:v2\\n" + base64( IV[16] || AES-CFB128(key, IV, md5hex(pt) || pt) )``
  where ``md5hex`` is the 32-character lowercase hex MD5 of the plaintext.

Reading is a little more tolerant than jet writes: the header may end in CRLF, and ASCII whitespace
(trailing newline, CR, line wrapping) anywhere in the base64 body is ignored, as Go's base64 decoder
ignores CR/LF.

This module is a pure core: it never prints or exits, every user-facing failure is an
:class:`AesError` carrying a ``message`` and a ``hint``.  ``cryptography`` and ``hashlib`` are
imported lazily inside the functions so that importing this module (and the CLI) stays cheap.
"""

from __future__ import annotations

import binascii
import os
import re
from typing import TYPE_CHECKING

from .errors import UserError

if TYPE_CHECKING:  # annotations only (postponed by `from __future__ import annotations`)
    from collections.abc import Mapping

__all__ = [
    "AesError",
    "ENV_VAR",
    "V2_HEADER",
    "CHECKSUM_ERROR",
    "load_key",
    "require_cryptography",
    "decrypt",
    "decrypt_checked",
    "encrypt",
    "generate_key",
    "detect_version",
    "looks_like_env_file",
]

#: Environment variable that, when set, holds the base64 key and takes precedence over the key file.
ENV_VAR = "CODESHIP_AES_KEY"
#: Header line of the v2 ("signed") format, as written by jet >= 2.6.0.
V2_HEADER = b"codeship:v2\n"
#: jet's own wording for a v2 checksum mismatch.
CHECKSUM_ERROR = "checksum for decrypted data is invalid, corrupt AES key or data"

_IV_LEN = 16
_SUM_LEN = 32
_KEY_LENGTHS = (16, 24, 32)
_HEADER_PREFIX = b"codeship:"
_WS = re.compile(rb"[ \t\r\n\v\f]+")


class AesError(UserError):
    """A user-facing encryption/decryption problem.

    ``message`` says what went wrong (naming the file or variable involved), ``hint`` says what the
    user should do about it (may be empty).
    """


# --------------------------------------------------------------------------------------------
# helpers


def _cfb_mode():
    """Return the CFB (128-bit feedback) mode class without triggering a deprecation warning.

    cryptography >= 48 moved CFB to ``hazmat.decrepit.ciphers.modes`` (the old attribute warns and
    is removed in 49); older releases only have ``hazmat.primitives.ciphers.modes.CFB``.
    """
    try:
        from cryptography.hazmat.decrepit.ciphers.modes import CFB
    except ImportError:
        import warnings

        from cryptography.hazmat.primitives.ciphers import modes

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            CFB = modes.CFB
    return CFB


def require_cryptography() -> None:
    """Raise an :class:`AesError` saying how to install ``cryptography`` when it is missing: it is
    an optional dependency (the ``crypto`` extra), as only encrypting and decrypting need it."""
    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise AesError("encrypting and decrypting need the Python package 'cryptography', which is not "
                       "installed", "install it with: pip install 'codeship2compose[crypto]'") from None


def _aes_cfb(key: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

    cipher = Cipher(algorithms.AES(key), _cfb_mode()(iv))
    ctx = cipher.encryptor() if encrypt else cipher.decryptor()
    return ctx.update(data) + ctx.finalize()


def _md5_hex(data: bytes) -> bytes:
    import hashlib

    # usedforsecurity=False: jet's checksum is an integrity check, not a security primitive, and
    # this keeps MD5 usable on FIPS-restricted Pythons.
    try:
        digest = hashlib.md5(data, usedforsecurity=False)
    except TypeError:  # pragma: no cover - very old/odd builds without the keyword
        digest = hashlib.md5(data)
    return digest.hexdigest().encode("ascii")


def _b64decode_strict(text: bytes) -> bytes:
    """Decode standard base64 after removing ASCII whitespace; raise binascii.Error/ValueError."""
    import base64

    return base64.b64decode(_WS.sub(b"", text), validate=True)


def _check_key(key: bytes, what: str = "AES key") -> None:
    if not isinstance(key, (bytes, bytearray)):
        raise TypeError(f"key must be bytes, not {type(key).__name__}")
    if len(key) not in _KEY_LENGTHS:
        raise AesError(
            f"invalid {what}: decodes to {len(key)} bytes, expected 16, 24 or 32",
            "use the project's AES key from Codeship (Project Settings > General), saved as "
            "base64 text in codeship.aes",
        )


# --------------------------------------------------------------------------------------------
# keys


def load_key(
    key_path: str | os.PathLike | None,
    env: Mapping[str, str] = os.environ,
) -> bytes:
    """Return the raw AES key.

    ``env[CODESHIP_AES_KEY]`` (base64 text) wins when the variable is set, even if ``key_path`` is
    given; an empty value is an error rather than a silent fallback.  Otherwise the key file at
    ``key_path`` is read (base64, surrounding whitespace/newline ignored).
    """
    if ENV_VAR in env:
        value = env[ENV_VAR]
        source = f"environment variable {ENV_VAR}"
        if not value.strip():
            raise AesError(
                f"{source} is set but empty",
                f"set {ENV_VAR} to the base64 project key, or unset it to use the key file",
            )
        try:
            raw = value.encode("ascii")
        except UnicodeEncodeError:
            raise AesError(
                f"{source} is not valid base64 (contains non-ASCII characters)",
                f"set {ENV_VAR} to the base64 project key exactly as shown by Codeship",
            ) from None
        hint = f"set {ENV_VAR} to the base64 project key exactly as shown by Codeship"
    elif key_path is None:
        raise AesError(
            "No AES key provided",
            f"save the project key as codeship.aes (or pass --key-path), or set {ENV_VAR}",
        )
    else:
        path = os.fspath(key_path)
        source = f"key file {path}"
        hint = (
            f"put the base64 project key (Project Settings > General) into {path}, "
            f"or set {ENV_VAR}"
        )
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except FileNotFoundError:
            raise AesError(f"AES key file not found: {path}", hint) from None
        except IsADirectoryError:
            raise AesError(f"AES key path is a directory, not a file: {path}", hint) from None
        except OSError as exc:
            raise AesError(f"cannot read AES key file {path}: {exc.strerror or exc}", hint) from None
        if not raw.strip():
            raise AesError(f"AES key file is empty: {path}", hint)

    try:
        key = _b64decode_strict(raw)
    except (binascii.Error, ValueError):
        raise AesError(f"{source} does not contain valid base64", hint) from None
    if len(key) not in _KEY_LENGTHS:
        raise AesError(
            f"{source} decodes to {len(key)} bytes, but an AES key must be 16, 24 or 32 bytes",
            hint,
        )
    return key


def generate_key() -> str:
    """Return a new random AES-256 key as base64 text (the content of a ``codeship.aes`` file)."""
    import base64

    return base64.b64encode(os.urandom(32)).decode("ascii")


# --------------------------------------------------------------------------------------------
# format detection, decrypt, encrypt


def _split(data: bytes) -> tuple[int, bytes]:
    """Return (version, base64 body) of an encrypted file's content."""
    if data.startswith(_HEADER_PREFIX):
        first, sep, body = data.partition(b"\n")
        header = first.rstrip(b"\r")
        if header + b"\n" != V2_HEADER:
            shown = header.decode("ascii", "replace")[:40]
            raise AesError(
                f"unsupported encrypted file format {shown!r} (only v1 and codeship:v2 are known)",
                "re-encrypt the file with jet encrypt or codeship2compose encrypt",
            )
        return 2, body
    return 1, data


def detect_version(data: bytes) -> int:
    """Return 2 for a ``codeship:v2`` file, 1 otherwise (v1 has no header)."""
    return _split(data)[0]


def decrypt(data: bytes, key: bytes) -> bytes:
    """Decrypt the content of a v1 or v2 encrypted file (the version is detected from the header).

    v2 checksums are verified; v1 has no checksum, so a wrong key returns garbage -- callers that
    check the result should use :func:`decrypt_checked`.
    """
    _check_key(key)
    version, body = _split(bytes(data))
    hint_reencrypt = "check that the file was produced by jet encrypt and was not truncated or edited"
    try:
        raw = _b64decode_strict(body)
    except (binascii.Error, ValueError):
        raise AesError(
            "encrypted data is not valid base64" + (" after the codeship:v2 header" if version == 2 else ""),
            hint_reencrypt,
        ) from None
    if len(raw) < _IV_LEN:
        raise AesError(
            f"encrypted data is too short ({len(raw)} bytes decoded, at least {_IV_LEN} needed)",
            hint_reencrypt,
        )
    plaintext = _aes_cfb(key, raw[:_IV_LEN], raw[_IV_LEN:], encrypt=False)
    if version == 1:
        return plaintext
    checksum, plaintext = plaintext[:_SUM_LEN], plaintext[_SUM_LEN:]
    if len(checksum) < _SUM_LEN or checksum != _md5_hex(plaintext):
        raise AesError(
            CHECKSUM_ERROR,
            "use the project's own AES key (Project Settings > General) or CODESHIP_AES_KEY, "
            "and check that the encrypted file is intact",
        )
    return plaintext


def decrypt_checked(data: bytes, key: bytes, source: str | None = None) -> bytes:
    """Decrypt an encrypted file and reject v1 results that are clearly not what Codeship encrypts.

    v2 is protected by its checksum; for v1 a wrong key shows up as bytes that are neither
    ``KEY=value`` lines (env and args files) nor JSON (a dockercfg), reported as an
    :class:`AesError` instead of returning garbage.
    """
    plaintext = decrypt(data, key)
    if detect_version(data) == 1 and not looks_like_env_file(plaintext) and not _is_json(plaintext):
        what = source if source else "encrypted file"
        raise AesError(
            f"{what} decrypts to data that is neither KEY=value lines nor JSON: wrong AES key? "
            "(v1 files carry no checksum, so a wrong key yields garbage)",
            "use the AES key of the project that encrypted the file (Project Settings > General) "
            "or CODESHIP_AES_KEY; re-encrypting with jet >= 2.6 adds a checksum",
        )
    return plaintext


def _is_json(data: bytes) -> bool:
    import json

    try:
        json.loads(data)
    except ValueError:
        return False
    return True


def encrypt(plaintext: bytes, key: bytes, version: int = 2) -> bytes:
    """Encrypt like ``jet encrypt``: v2 (default, with MD5 checksum) or v1 (legacy, for tests)."""
    import base64

    _check_key(key)
    if version not in (1, 2):
        raise ValueError(f"unsupported format version {version!r} (use 1 or 2)")
    plaintext = bytes(plaintext)
    payload = _md5_hex(plaintext) + plaintext if version == 2 else plaintext
    iv = os.urandom(_IV_LEN)
    body = base64.b64encode(iv + _aes_cfb(key, iv, payload, encrypt=True))
    return V2_HEADER + body if version == 2 else body


# --------------------------------------------------------------------------------------------
# wrong-key heuristic for v1


_ENV_LINE = re.compile(r"(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_.\-]*[ \t]*=(?P<value>.*)\Z", re.S)
_BAD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def looks_like_env_file(data: bytes) -> bool:
    """Heuristic: is ``data`` plausibly a Docker/Compose env file (``KEY=value`` lines)?

    Returns False when the bytes are not UTF-8, contain control characters (other than tab/CR/LF),
    or have a non-empty, non-comment line without ``KEY=`` shape.  A quoted value may span lines
    (Compose allows it).  An empty plaintext counts as an env file.  Random bytes from decrypting a
    v1 file with the wrong key fail this test with overwhelming probability for realistic sizes.
    """
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return False
    if text.startswith("\ufeff"):
        text = text[1:]
    if _BAD_CONTROL.search(text):
        return False
    open_quote: str | None = None
    for line in text.splitlines():
        if open_quote is not None:  # inside a multi-line quoted value
            if open_quote in line:
                open_quote = None
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ENV_LINE.match(stripped)
        if match is None:
            return False
        value = match.group("value").lstrip(" \t")
        if value[:1] in ("'", '"') and value[0] not in value[1:]:
            open_quote = value[0]
    return True
