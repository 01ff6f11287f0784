"""Shell quoting for everything this tool writes in bash: the script and the CI pipelines' run
lines, and the commands it prints for the user to paste."""

from __future__ import annotations

import re
from collections.abc import Iterable

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_POSIX = {"'": "'\\''", "\\": "'\\\\'"}
_PLAIN = re.compile(r"[A-Za-z0-9_./=:,@%+-]+")


def sq(value: str) -> str:
    """Quote a value for bash so that nothing inside is expanded: '…', or $'…' when it holds
    control characters, which keeps the script printable."""
    value = str(value)
    if not _CONTROL.search(value):
        return "'" + value.replace("'", "'\\''") + "'"
    return "$'" + "".join(_ESCAPES.get(c) or (f"\\x{ord(c):02x}" if _CONTROL.match(c) else c)
                          for c in value) + "'"


def psq(value: str) -> str:
    """Quote a value for a POSIX sh (GitLab's job shell may be busybox ash or dash, which have no
    $'…'): '…' holds every character but `'` as it is, control characters and newlines included.
    A backslash is written outside the quotes (\\\\), where no reader takes it for an escape."""
    return "'" + "".join(_POSIX.get(c, c) for c in str(value)) + "'"


def word(value: str) -> str:
    """A value bare when bash reads it as it is (nothing in it can expand or split), else
    single-quoted (see sq): the pipeline's lines stay readable."""
    value = str(value)
    return value if _PLAIN.fullmatch(value) else sq(value)


def array(values: Iterable[str]) -> str:
    """What goes between a bash array's parentheses: every value quoted (see sq)."""
    return " ".join(sq(v) for v in values)
