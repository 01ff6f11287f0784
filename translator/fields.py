"""Typed reads of located YAML values: each returns a clean value or records a diagnostic."""

from __future__ import annotations

from .commands import CommandSyntaxError, split_command
from .diagnostics import Diagnostics, Loc
from .yaml_loader import LMap, LSeq

_TYPE_NAMES = {LMap: "a mapping", LSeq: "a list", bool: "true/false", type(None): "empty"}


def type_name(value) -> str:
    for t, name in _TYPE_NAMES.items():
        if isinstance(value, t):
            return name
    if isinstance(value, (int, float)):
        return "a number"
    return "text"


def is_scalar(value) -> bool:
    return not isinstance(value, (LMap, LSeq)) and value is not None


class Fields:
    """Reads keys of one mapping, reporting wrong types at the value's own location."""

    def __init__(self, mapping: LMap, diags: Diagnostics, where: str):
        self.m = mapping
        self.diags = diags
        self.where = where  # e.g. "service 'web'" — used in messages

    def loc(self, key) -> Loc:
        return self.m.loc_of(key)

    def key_loc(self, key) -> Loc:
        return self.m.key_loc.get(key, self.m.loc)

    def wrong(self, key, expected: str, hint: str | None = None) -> None:
        self.diags.error("C2C110", f"{self.where}: '{key}' must be {expected}, "
                         f"not {type_name(self.m[key])}", self.loc(key), hint)

    def text(self, key) -> str | None:
        if key not in self.m:
            return None
        if not is_scalar(self.m[key]):
            self.wrong(key, "text")
            return None
        return self.m.text_of(key)

    def flag(self, key) -> bool:
        value = self.m.get(key)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if is_scalar(value) and self.m.text_of(key).lower() in ("true", "false"):
            return self.m.text_of(key).lower() == "true"
        self.wrong(key, "true or false")
        return False

    def texts(self, key) -> list[tuple[str, Loc]]:
        """A string or a list of strings (Codeship accepts both for file lists)."""
        value = self.m.get(key)
        if value is None:
            return []
        if is_scalar(value):
            return [(self.m.text_of(key), self.loc(key))]
        if isinstance(value, LSeq):
            out = []
            for i, item in enumerate(value):
                if not is_scalar(item):
                    self.diags.error("C2C110", f"{self.where}: each item of '{key}' must be text, "
                                     f"not {type_name(item)}", value.loc_of(i))
                    continue
                out.append((value.text_of(i), value.loc_of(i)))
            return out
        self.wrong(key, "text or a list of text")
        return []

    def argv(self, key) -> list[str] | None:
        """A command: a string split like jet splits it, or a list used as is."""
        value = self.m.get(key)
        if value is None:
            return None
        if isinstance(value, LSeq):
            items = self.texts(key)
            return [text for text, _ in items]
        if not is_scalar(value):
            self.wrong(key, "text or a list of text")
            return None
        try:
            return split_command(self.m.text_of(key))
        except CommandSyntaxError as exc:
            self.diags.error("C2C111", f"{self.where}: cannot split '{key}' into words: {exc}",
                             self.loc(key), "close the quote, or write the command as a YAML list")
            return None

    def env(self, key) -> tuple[dict[str, str], dict[str, Loc]]:
        """`environment` as a mapping or as a list of KEY=value."""
        value = self.m.get(key)
        env: dict[str, str] = {}
        locs: dict[str, Loc] = {}
        if value is None:
            return env, locs
        if isinstance(value, LMap):
            for name, item in value.items():
                if isinstance(item, (LMap, LSeq)):
                    self.diags.error("C2C110", f"{self.where}: environment variable {name!r} must be "
                                     f"text, not {type_name(item)}", value.loc_of(name))
                    continue
                env[str(name)] = "" if item is None else value.text_of(name)
                locs[str(name)] = value.key_loc.get(name, value.loc)
            return env, locs
        if isinstance(value, LSeq):
            for i, item in enumerate(value):
                if not is_scalar(item):
                    self.diags.error("C2C110", f"{self.where}: each environment item must be "
                                     f"KEY=value text, not {type_name(item)}", value.loc_of(i))
                    continue
                name, _, val = value.text_of(i).partition("=")
                env[name] = val
                locs[name] = value.loc_of(i)
            return env, locs
        self.wrong(key, "a mapping or a list of KEY=value")
        return env, locs
