"""Step commands: split like jet does, never through a shell.

jet splits `command` into words honouring quotes and backslashes and executes them directly:
`&&`, `|`, `>` and `$VAR` are literal words. POSIX shell-word rules without expansion are
exactly what `shlex.split(posix=True)` implements (single quotes literal; in double quotes a
backslash escapes only `"` and `\\`; outside quotes it escapes any character).
"""

from __future__ import annotations

import shlex

from .errors import UserError


class CommandSyntaxError(UserError):
    pass


def split_command(command: str) -> list[str]:
    if not any(c in command for c in "'\"\\"):
        return command.split()  # nothing to honour: plain whitespace splitting is the same
    lexer = shlex.shlex(command, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""  # '#' is an ordinary character for jet
    try:
        return list(lexer)
    except ValueError as exc:  # "No closing quotation" / "No escaped character"
        reason = str(exc).lower()
        if "quotation" in reason:
            raise CommandSyntaxError("a quote is not closed") from None
        raise CommandSyntaxError("a backslash at the end escapes nothing") from None
