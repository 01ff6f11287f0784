"""The package's exceptions: one base carrying a message and a hint.

Like copier's errors: every exception this package raises on purpose derives from `UserError`,
a problem with the user's input or surroundings that the CLI reports as `error: MESSAGE` with a
`hint:` line, never as a traceback. Anything else that escapes is a bug in codeship2compose.
The subclasses stay as names so that callers can catch one kind.
"""

from __future__ import annotations


class UserError(Exception):
    """A user-facing problem: `message` says what went wrong, `hint` what to do about it (may be
    empty)."""

    def __init__(self, message: str, hint: str | None = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or ""

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message
