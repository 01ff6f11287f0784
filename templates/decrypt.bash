# shellcheck shell=bash
# ---------------------------------------------------------------------------------------------
# c2c_decrypt IN OUT KEY_B64 -- decrypt a jet-encrypted file (v1 or codeship:v2) into OUT.
#
# Included verbatim into the generated runner script (which runs under `set -euo pipefail`);
# also works without those options.  Needs only bash, openssl (enc -aes-NNN-cfb) and coreutils
# (base64, od, head, tail, tr, wc, mktemp, mv, md5sum -- or `openssl md5` when md5sum is missing).
#
#   v1: base64( IV[16] || AES-CFB128(key, IV, plaintext) )
#   v2: "codeship:v2\n" + base64( IV[16] || AES-CFB128(key, IV, md5hex(plaintext) || plaintext) )
#
# The header may end in CRLF; whitespace (trailing newline, CR, wrapping) in the base64 body is
# ignored.  KEY_B64 is the base64 project key (16/24/32 bytes -> aes-128/192/256-cfb).
#
# On success OUT holds exactly the plaintext with mode 0600 (written under umask 077, then moved
# into place).  On any failure a message naming IN goes to stderr, the function returns 1 and
# OUT does not exist afterwards (a stale OUT from an earlier run is removed, so a failed decrypt
# can never leave old secrets behind).  A v2 checksum mismatch prints jet's wording:
#   checksum for decrypted data is invalid, corrupt AES key or data: IN
# v1 files carry no checksum: a wrong key yields garbage that is not detected here.
#
# Secrets and the process list: the plaintext only ever lives in files (mode 0600, in a private
# mktemp directory that is removed on return, also on SIGINT/SIGTERM) and the base64 key is only
# passed through pipes from bash builtins.  The one exception is openssl itself: `openssl enc`
# accepts a raw key only as `-K <hex>` on its command line (-pass/-kfile/env: always run a
# password KDF; the stdin "interactive mode" that once hid arguments was removed in OpenSSL 3), so
# the key hex is visible in `ps`/`/proc/PID/cmdline` for the few milliseconds openssl runs.  On
# a shared host, mount /proc with hidepid=2 or decrypt in a single-tenant build container.
# The runner calls c2c_decrypt_private (below), which uses this only when nothing better is at hand.
#
# The body runs in a subshell: umask, cd and the cleanup trap do not leak into the caller.
# Errors are checked explicitly (not via `set -e`, which bash disables when the caller writes
# `if c2c_decrypt ...` or `c2c_decrypt ... || ...`).
# ---------------------------------------------------------------------------------------------
c2c_decrypt() (
  local c2c_in="${1-}" c2c_out="${2-}" c2c_key_b64="${3-}"
  local c2c_tmp="" c2c_first="" c2c_version=1 c2c_key_hex="" c2c_key_len=0 c2c_cipher=""
  local c2c_iv_hex="" c2c_raw_len=0 c2c_ct_len=0 c2c_dec_len=0 c2c_sum="" c2c_calc=""

  if [ "$#" -ne 3 ] || [ -z "$c2c_in" ] || [ -z "$c2c_out" ]; then
    printf '%s\n' "usage: c2c_decrypt IN OUT KEY_B64" >&2
    return 1
  fi
  if [ -e "$c2c_out" ] && [ "$c2c_in" -ef "$c2c_out" ]; then
    printf '%s\n' "c2c_decrypt: IN and OUT are the same file: $c2c_in" >&2
    return 1
  fi
  # From here on, every failure path must not leave OUT behind.
  rm -f -- "$c2c_out" 2>/dev/null || true
  if [ -z "$c2c_key_b64" ]; then
    printf '%s\n' "No AES key provided (empty key) for encrypted file: $c2c_in" >&2
    return 1
  fi
  if [ ! -f "$c2c_in" ] || [ ! -r "$c2c_in" ]; then
    printf '%s\n' "cannot read encrypted file: $c2c_in" >&2
    return 1
  fi
  if ! command -v openssl >/dev/null 2>&1; then
    printf '%s\n' "openssl is required to decrypt $c2c_in but was not found on PATH" >&2
    return 1
  fi

  umask 077
  c2c_tmp=$(mktemp -d "${TMPDIR:-/tmp}/c2c-decrypt.XXXXXX") || {
    printf '%s\n' "cannot create a temporary directory to decrypt $c2c_in" >&2
    return 1
  }
  # Runs when this subshell exits (normal return or fatal signal).
  trap 'rm -rf -- "$c2c_tmp"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  # --- key: base64 -> hex, via a pipe from the printf builtin (never on a command line) -------
  if ! printf '%s' "$c2c_key_b64" | tr -d ' \t\r\n' | base64 -d >"$c2c_tmp/key" 2>/dev/null; then
    printf '%s\n' "invalid AES key (not base64) for encrypted file: $c2c_in" >&2
    return 1
  fi
  c2c_key_len=$(wc -c <"$c2c_tmp/key") || return 1
  c2c_key_len=$((c2c_key_len + 0))
  case "$c2c_key_len" in
    16) c2c_cipher=aes-128-cfb ;;
    24) c2c_cipher=aes-192-cfb ;;
    32) c2c_cipher=aes-256-cfb ;;
    *)
      printf '%s\n' "invalid AES key: $c2c_key_len bytes, expected 16, 24 or 32, for encrypted file: $c2c_in" >&2
      return 1
      ;;
  esac
  c2c_key_hex=$(od -An -v -tx1 <"$c2c_tmp/key" | tr -d ' \n') || return 1
  rm -f -- "$c2c_tmp/key"

  # --- header / version ------------------------------------------------------------------
  IFS= read -r c2c_first <"$c2c_in" || true
  c2c_first="${c2c_first%$'\r'}"
  case "$c2c_first" in
    codeship:v2) c2c_version=2 ;;
    codeship:*)
      printf '%s\n' "unsupported encrypted file format '${c2c_first:0:40}' (only v1 and codeship:v2 are known): $c2c_in" >&2
      return 1
      ;;
    *) c2c_version=1 ;;
  esac

  # --- body: strip whitespace, base64-decode, split IV / ciphertext -------------------------
  if [ "$c2c_version" = 2 ]; then
    tail -n +2 -- "$c2c_in" >"$c2c_tmp/body" || return 1
  else
    cat -- "$c2c_in" >"$c2c_tmp/body" || return 1
  fi
  if ! tr -d ' \t\r\n\v\f' <"$c2c_tmp/body" | base64 -d >"$c2c_tmp/raw" 2>/dev/null; then
    printf '%s\n' "encrypted data is not valid base64: $c2c_in" >&2
    return 1
  fi
  c2c_raw_len=$(wc -c <"$c2c_tmp/raw") || return 1
  c2c_raw_len=$((c2c_raw_len + 0))
  if [ "$c2c_raw_len" -lt 16 ]; then
    printf '%s\n' "encrypted data is too short ($c2c_raw_len bytes, at least 16 needed): $c2c_in" >&2
    return 1
  fi
  c2c_iv_hex=$(head -c 16 "$c2c_tmp/raw" | od -An -v -tx1 | tr -d ' \n') || return 1
  tail -c +17 "$c2c_tmp/raw" >"$c2c_tmp/ct" || return 1
  c2c_ct_len=$((c2c_raw_len - 16))

  # --- decrypt (CFB is a stream mode: output length == input length) ---------------------
  if ! openssl enc -d "-$c2c_cipher" -nopad -K "$c2c_key_hex" -iv "$c2c_iv_hex" \
    -in "$c2c_tmp/ct" -out "$c2c_tmp/dec" 2>"$c2c_tmp/err"; then
    printf '%s\n' "openssl failed to decrypt $c2c_in:" >&2
    cat -- "$c2c_tmp/err" >&2 || true
    return 1
  fi
  c2c_key_hex=""
  c2c_dec_len=$(wc -c <"$c2c_tmp/dec") || return 1
  if [ "$((c2c_dec_len + 0))" -ne "$c2c_ct_len" ]; then
    printf '%s\n' "openssl produced $((c2c_dec_len + 0)) bytes instead of $c2c_ct_len while decrypting $c2c_in" >&2
    return 1
  fi

  # --- v2: verify and strip the md5hex checksum --------------------------------------------
  if [ "$c2c_version" = 2 ]; then
    # Keep only hex digits so garbage (NUL bytes etc.) cannot upset bash; a 32-char match
    # still requires all 32 bytes to have been lowercase hex.
    c2c_sum=$(head -c 32 "$c2c_tmp/dec" | LC_ALL=C tr -cd '0-9a-f') || return 1
    tail -c +33 "$c2c_tmp/dec" >"$c2c_tmp/pt" || return 1
    if command -v md5sum >/dev/null 2>&1; then
      c2c_calc=$(md5sum <"$c2c_tmp/pt") || return 1
    else
      c2c_calc=$(openssl md5 -r <"$c2c_tmp/pt") || return 1
    fi
    c2c_calc="${c2c_calc%% *}"
    if [ "$c2c_dec_len" -lt 32 ] || [ "${#c2c_calc}" -ne 32 ] || [ "$c2c_sum" != "$c2c_calc" ]; then
      printf '%s\n' "checksum for decrypted data is invalid, corrupt AES key or data: $c2c_in" >&2
      return 1
    fi
  else
    mv -f -- "$c2c_tmp/dec" "$c2c_tmp/pt" || return 1
  fi

  if ! mv -f -- "$c2c_tmp/pt" "$c2c_out"; then
    rm -f -- "$c2c_out" 2>/dev/null || true
    printf '%s\n' "cannot write decrypted file $c2c_out (from $c2c_in)" >&2
    return 1
  fi
  chmod 600 -- "$c2c_out" 2>/dev/null || true
  return 0
)

# ---------------------------------------------------------------------------------------------
# c2c_decrypt_private IN OUT KEY_B64 -- c2c_decrypt with the key kept off every command line.
#
# `openssl enc` takes a raw key only as `-K HEX` on its command line, where every user of the
# host can read it (ps, /proc/PID/cmdline) while openssl runs. Where a decryptor that takes the
# key privately is at hand, it is used instead, with the key in its environment (readable only
# by this user): this package's own `codeship2compose decrypt`, else a python3 that can import
# `cryptography`. openssl stays the fallback, said once per run (C2C_STATE, when set, holds the
# mark). C2C_DECRYPTOR caches the choice: codeship2compose | python3 | openssl.
# Same contract as c2c_decrypt: messages naming IN on stderr, OUT (0600) only on success.
# ---------------------------------------------------------------------------------------------
c2c_decrypt_private() {
  local c2c_in="${1-}" c2c_out="${2-}" c2c_err="" c2c_status=0 c2c_py
  if [ -z "${C2C_DECRYPTOR:-}" ]; then
    if codeship2compose decrypt --help >/dev/null 2>&1; then
      C2C_DECRYPTOR=codeship2compose
    elif python3 -c 'import cryptography' >/dev/null 2>&1; then
      C2C_DECRYPTOR=python3
    else
      C2C_DECRYPTOR=openssl
    fi
  fi
  case $C2C_DECRYPTOR in
    codeship2compose)
      rm -f -- "$c2c_out" 2>/dev/null || true
      c2c_err=$(CODESHIP_AES_KEY="${3-}" codeship2compose decrypt --force -- "$c2c_in" "$c2c_out" 2>&1 >/dev/null) ||
        c2c_status=$?
      if [ "$c2c_status" != 0 ]; then
        rm -f -- "$c2c_out" 2>/dev/null || true
        case $c2c_err in
          *"'cryptography'"*)  # installed without its crypto extra: the next decryptor does it
            if python3 -c 'import cryptography' >/dev/null 2>&1; then C2C_DECRYPTOR=python3; else C2C_DECRYPTOR=openssl; fi
            c2c_decrypt_private "$@"
            return ;;
        esac
        printf '%s\n' "${c2c_err:-codeship2compose decrypt failed on $c2c_in}" >&2
        return 1
      fi ;;
    python3)
      c2c_py='
import base64, binascii, hashlib, os, sys, tempfile
src, out = sys.argv[1], sys.argv[2]
def fail(message):
    sys.stderr.write(message + ": " + src + "\n")
    sys.exit(1)
try:
    key = base64.b64decode("".join(os.environ.pop("C2C_AES_KEY", "").split()), validate=True)
except (binascii.Error, ValueError):
    fail("invalid AES key (not base64) for encrypted file")
if len(key) not in (16, 24, 32):
    fail("invalid AES key: %d bytes, expected 16, 24 or 32, for encrypted file" % len(key))
try:
    with open(src, "rb") as fh:
        data = fh.read()
except OSError:
    fail("cannot read encrypted file")
head, _, rest = data.partition(b"\n")
head = head.rstrip(b"\r")
if head == b"codeship:v2":
    version, body = 2, rest
elif head.startswith(b"codeship:"):
    fail("unsupported encrypted file format (only v1 and codeship:v2 are known)")
else:
    version, body = 1, data
try:
    raw = base64.b64decode(b"".join(body.split()), validate=True)
except (binascii.Error, ValueError):
    fail("encrypted data is not valid base64")
if len(raw) < 16:
    fail("encrypted data is too short (%d bytes, at least 16 needed)" % len(raw))
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
try:
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:
    from cryptography.hazmat.primitives.ciphers.modes import CFB
dec = Cipher(algorithms.AES(key), CFB(raw[:16])).decryptor()
plain = dec.update(raw[16:]) + dec.finalize()
if version == 2:
    checksum, plain = plain[:32], plain[32:]
    if len(checksum) < 32 or checksum != hashlib.md5(plain).hexdigest().encode():
        fail("checksum for decrypted data is invalid, corrupt AES key or data")
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(out)))
with os.fdopen(fd, "wb") as fh:
    fh.write(plain)
os.replace(tmp, out)
'
      rm -f -- "$c2c_out" 2>/dev/null || true
      if ! C2C_AES_KEY="${3-}" python3 -c "$c2c_py" "$c2c_in" "$c2c_out"; then
        rm -f -- "$c2c_out" 2>/dev/null || true
        return 1
      fi ;;
    *)
      if [ -z "${C2C_STATE:-}" ] || mkdir "$C2C_STATE/openssl-noted" 2>/dev/null; then
        printf '%s\n' "note: decrypting with openssl: the AES key is on openssl's command line while it runs" \
          "  (other users of this host can read it with ps); install codeship2compose, or python3 with" \
          "  the cryptography package, to keep it private"
      fi
      c2c_decrypt "$c2c_in" "$c2c_out" "${3-}" ;;
  esac
}
