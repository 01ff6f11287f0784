"""Source locations and diagnostics: the only way the core reports a problem."""

from __future__ import annotations

from typing import NamedTuple

from .records import Record

ERROR = "error"
WARNING = "warning"


# Loc and Diagnostic are NamedTuples (immutable, hashable, cheap to make: the loader makes a Loc
# per YAML value); see records.py for why there are no dataclasses here.
class Loc(NamedTuple):
    """A position in an input file; line and column count from 1."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


class Diagnostic(NamedTuple):
    level: str
    code: str
    message: str
    loc: Loc | None = None
    hint: str | None = None

    def format(self) -> str:
        where = f"{self.loc}: " if self.loc else ""
        text = f"{where}{self.level}[{self.code}]: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def as_dict(self) -> dict:
        loc = self.loc or Loc("")
        return {
            "code": self.code,
            "level": self.level,
            "file": loc.file,
            "line": loc.line,
            "column": loc.col,
            "message": self.message,
            "hint": self.hint,
        }


class Diagnostics(Record):
    """Collects diagnostics while a stage runs; stages never raise for bad input."""

    items: list[Diagnostic] = []

    def error(self, code: str, message: str, loc: Loc | None = None, hint: str | None = None) -> None:
        self.items.append(Diagnostic(ERROR, code, message, loc, hint))

    def warning(self, code: str, message: str, loc: Loc | None = None, hint: str | None = None) -> None:
        self.items.append(Diagnostic(WARNING, code, message, loc, hint))

    @property
    def has_errors(self) -> bool:
        return any(d.level == ERROR for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        def key(d: Diagnostic):
            loc = d.loc or Loc("")
            return (loc.file, loc.line, loc.col, d.code)

        return sorted(self.items, key=key)


class InputError(Exception):
    """Raised inside a stage to abandon it; the stage's caller turns it into a diagnostic."""

    def __init__(self, code: str, message: str, loc: Loc | None = None, hint: str | None = None):
        super().__init__(message)
        self.diagnostic = Diagnostic(ERROR, code, message, loc, hint)
