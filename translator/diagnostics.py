"""Source locations and diagnostics: the only way the core reports a problem."""

from __future__ import annotations

from typing import NamedTuple

from .catalogue import CATALOGUE, ERROR, WARNING, Level
from .errors import UserError
from .records import Record

__all__ = ["ERROR", "WARNING", "Diagnostic", "Diagnostics", "InputError", "Level", "Loc"]


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
    level: Level
    code: str
    message: str
    loc: Loc | None = None
    hint: str | None = None

    @classmethod
    def of(cls, code: str, message: str, loc: Loc | None = None, hint: str | None = None) -> Diagnostic:
        """A diagnostic with the level the catalogue gives its code."""
        return cls(CATALOGUE[code].level, code, message, loc, hint)

    # No `format`/`__str__` here: the reporters render a diagnostic (reporters.diagnostic_text).


class Diagnostics(Record):
    """Collects diagnostics while a stage runs; stages never raise for bad input."""

    items: list[Diagnostic] = []

    def add(self, code: str, message: str, loc: Loc | None = None, hint: str | None = None) -> None:
        """Record a diagnostic; its level is the catalogue's (translator/catalogue.py)."""
        self.items.append(Diagnostic.of(code, message, loc, hint))

    # The call sites say which level they expect; tests/test_catalogue.py checks that each agrees
    # with the catalogue, which alone decides.
    error = add
    warning = add

    @property
    def has_errors(self) -> bool:
        return any(d.level == ERROR for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        def key(d: Diagnostic):
            loc = d.loc or Loc("")
            return (loc.file, loc.line, loc.col, d.code)

        return sorted(self.items, key=key)


class InputError(UserError):
    """Raised inside a stage to abandon it; the stage's caller turns it into a diagnostic."""

    def __init__(self, code: str, message: str, loc: Loc | None = None, hint: str | None = None):
        super().__init__(message, hint)
        self.diagnostic = Diagnostic.of(code, message, loc, hint)
