"""Load YAML or JSON into plain values that remember where each one came from.

The document is built from PyYAML's event stream with an explicit stack rather than with
PyYAML's recursive composer: libyaml's composer crashes the interpreter on deeply nested
input, and alias expansion must be bounded ("billion laughs").
"""

from __future__ import annotations

import re

import yaml

from .diagnostics import InputError, Loc

# libyaml is much faster; fall back to the pure-Python parser where it is missing.
_Parser = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

MAX_DEPTH = 100
_TOO_DEEP_HINT = "flatten the structure; real configurations nest a few levels"
MAX_NODES = 1_000_000  # values after alias expansion; real configs have a few thousand


class LMap(dict):
    """A mapping with the location of itself, of each key and of each value."""

    __slots__ = ("loc", "key_loc", "val_loc", "val_text")

    def __init__(self, loc: Loc):
        super().__init__()
        self.loc = loc
        self.key_loc: dict = {}
        self.val_loc: dict = {}
        self.val_text: dict = {}  # source text of scalar values: 1.10 stays "1.10"

    def loc_of(self, key) -> Loc:
        return self.val_loc.get(key, self.loc)

    def text_of(self, key) -> str:
        """A scalar value as written in the file, which is how Codeship read it."""
        return self.val_text.get(key, _text(self.get(key)))


class LSeq(list):
    """A sequence with the location of itself and of each item."""

    __slots__ = ("loc", "item_loc", "item_text")

    def __init__(self, loc: Loc):
        super().__init__()
        self.loc = loc
        self.item_loc: list[Loc] = []
        self.item_text: list = []

    def loc_of(self, index: int) -> Loc:
        return self.item_loc[index] if index < len(self.item_loc) else self.loc

    def text_of(self, index: int) -> str:
        text = self.item_text[index] if index < len(self.item_text) else None
        return text if text is not None else _text(self[index])


class _Scalars(yaml.SafeLoader):
    """Resolves and constructs single scalars exactly as yaml.safe_load would."""

    def __init__(self):  # no stream: only the resolver and constructor are used
        yaml.resolver.Resolver.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)


_SCALARS = _Scalars()


def _loc(filename: str, mark) -> Loc:
    return Loc(filename, mark.line + 1, mark.column + 1)


def decode(raw: bytes, filename: str) -> str:
    """Bytes to text: UTF-8 (a BOM is allowed), else a diagnostic naming the first bad byte."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            "C2C001",
            f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})",
            Loc(filename, line, col),
            "save the file as UTF-8",
        ) from None
    if "\x00" in text:
        off = text.index("\x00")
        line = text.count("\n", 0, off) + 1
        col = off - (text.rfind("\n", 0, off) + 1) + 1
        raise InputError("C2C001", "the file contains a NUL byte", Loc(filename, line, col),
                         "remove the NUL byte; a configuration file is plain text")
    return text


def load(text: str, filename: str):
    """Parse one YAML (or JSON) document; returns None for an empty document."""
    try:
        return _compose(text, filename)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if mark and _parser_nesting_limit(exc):
            _raise_too_deep(text[:mark.index], filename, mark)
        loc = _loc(filename, mark) if mark else Loc(filename)
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        hint = "fix the YAML syntax at this position"
        if mark and _char_at(text, mark.line, mark.column) == "\t":
            hint = "indent with spaces: YAML does not allow tabs for indentation"
        elif mark and (dash := _dash_without_space(text, mark.line)) is not None:
            line, written = dash
            raise InputError("C2C002", f"YAML syntax error: '{written}' has no space after its '-', so it is "
                             "not a list item", Loc(filename, line + 1, 1),
                             f"write `- {written.lstrip()[1:]}`: a list item starts with '- '") from None
        raise InputError("C2C002", f"YAML syntax error: {problem}", loc, hint) from None
    except yaml.YAMLError as exc:
        raise InputError("C2C002", f"YAML syntax error: {exc}", Loc(filename),
                         "fix the YAML syntax") from None


def _parser_nesting_limit(exc: yaml.MarkedYAMLError) -> bool:
    """libyaml >= 0.2.5 (PyYAML 6.0.4's wheels) stops at its own nesting limit (1,000 levels)."""
    return "maximum nesting depth" in (exc.problem or "")


def _raise_too_deep(prefix: str, filename: str, mark) -> None:
    """Report the parser's nesting limit as ours: C2C004 where the document passes MAX_DEPTH.

    In flow style libyaml scans ahead to its own limit before it yields the first event, so our
    depth check never ran. The text before that point nests past MAX_DEPTH but within libyaml's
    limit: composing it finds the level that is too deep, whatever PyYAML is installed.
    """
    try:
        _compose(prefix, filename)
    except InputError as err:
        if err.diagnostic.code == "C2C004":
            raise
    except yaml.YAMLError:
        pass
    raise InputError("C2C004", f"the document nests deeper than {MAX_DEPTH} levels",
                     _loc(filename, mark), _TOO_DEEP_HINT) from None


_DASH_KEY = re.compile(r"^\s*-[A-Za-z_][\w-]*:(\s|$)")


def _dash_without_space(text: str, error_line: int) -> tuple[int, str] | None:
    """The last line up to the error that reads like a list item without the space after its
    '-' (`-type: serial`): the YAML error shows further down, the mistake is there."""
    lines = text.split("\n")[: error_line + 1]
    for number in range(len(lines) - 1, -1, -1):
        if _DASH_KEY.match(lines[number]):
            return number, lines[number].strip()
    return None


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column:column + 1] if line < len(lines) else ""


_ScalarEvent, _AliasEvent = yaml.ScalarEvent, yaml.AliasEvent
_STARTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_ENDS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_new_tuple = tuple.__new__  # Loc(...) without NamedTuple's Python-level __new__: one per value


def _compose(text: str, filename: str):
    parser = _Parser(text)
    get_event = parser.get_event
    anchors: dict[str, tuple[object, int]] = {}
    # Each frame: [container, size, pending_key, pending_key_loc, anchor, is_map, merges]
    stack: list[list] = []
    root = None
    total = 0
    documents = 0
    try:
        while True:
            event = get_event()
            if event is None:
                break
            kind = event.__class__  # dispatch on the exact class: scalars first, they are most events
            if kind is _ScalarEvent:
                mark = event.start_mark
                loc = _new_tuple(Loc, (filename, mark.line + 1, mark.column + 1))
                value, size, source = _scalar(event), 1, event.value
                total += 1
                if event.anchor:
                    anchors[event.anchor] = (value, size)
            elif kind in _STARTS:
                mark = event.start_mark
                loc = _new_tuple(Loc, (filename, mark.line + 1, mark.column + 1))
                if len(stack) >= MAX_DEPTH:
                    raise InputError("C2C004", f"the document nests deeper than {MAX_DEPTH} levels",
                                     loc, _TOO_DEEP_HINT)
                is_map = kind is _STARTS[0]
                stack.append([LMap(loc) if is_map else LSeq(loc), 1, _NO_KEY, None,
                              event.anchor, is_map, []])
                total += 1
                continue
            elif kind in _ENDS:
                frame = stack.pop()
                value, size, source = frame[0], frame[1], None
                loc = value.loc  # where the mapping or list starts, not where it ends
                if frame[5] and frame[6]:
                    _apply_merges(value, frame[6])
                if frame[4]:
                    anchors[frame[4]] = (value, size)
            elif kind is _AliasEvent:
                loc = _loc(filename, event.start_mark)
                if event.anchor not in anchors:
                    raise InputError("C2C002", f"YAML syntax error: unknown alias *{event.anchor}",
                                     loc, "define the anchor (&name) before using it")
                value, size = anchors[event.anchor]
                source = None
                total += size  # an alias repeats everything under its anchor
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise InputError("C2C003", "the file holds more than one YAML document",
                                     _loc(filename, event.start_mark),
                                     "keep a single document: remove the extra '---' section")
                continue
            elif kind is yaml.StreamEndEvent:
                break
            else:  # stream start, document end
                continue
            if total > MAX_NODES:
                raise InputError("C2C005", f"the document expands to more than {MAX_NODES} values "
                                 "(YAML aliases repeating aliases?)", loc,
                                 "remove the repeated aliases; the file looks like an alias bomb")
            if not stack:
                root = value
                continue
            _add(stack[-1], value, size, loc, source)
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose:
            dispose()
    return root


class _NoKey:
    pass


_NO_KEY = _NoKey()
_MERGE_TAG = "tag:yaml.org,2002:merge"


_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"


# Plain scalars repeat a lot (keys, service names): their resolved tag and constructed value are
# remembered, up to a bound. The values are immutable (numbers, booleans, dates, None).
_RESOLVED: dict[tuple[str, object], str] = {}
_CONSTRUCTED: dict[tuple[str, str], object] = {}
_CACHE_LIMIT = 10_000


def _scalar(event) -> object:
    tag, value = event.tag, event.value
    if tag is None or tag == "!":
        if event.style:  # quoted or block text is always a string
            return value
        key = (value, event.implicit)
        tag = _RESOLVED.get(key)
        if tag is None:
            tag = _SCALARS.resolve(yaml.ScalarNode, value, event.implicit)
            if len(_RESOLVED) < _CACHE_LIMIT:
                _RESOLVED[key] = tag
    if tag == _STR_TAG:
        return value
    if tag == _MERGE_TAG:
        return _MergeKey()
    key = (tag, value)
    if key in _CONSTRUCTED:
        return _CONSTRUCTED[key]
    node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
    try:
        result = _SCALARS.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError:
        result = value  # unknown tag (e.g. !Ref): keep the text, like a plain string
    except Exception:  # noqa: BLE001 - `!!int abc`, `!!timestamp x`: PyYAML raises ValueError, AttributeError…
        if tag == _INT_TAG and event.tag in (None, "!"):
            return value  # a plain number of over 4,300 digits (int() refuses it): text, as Go's yaml reads it
        shown = value if len(value) <= 40 else f"{value[:30]}…({len(value)} characters)"
        raise yaml.constructor.ConstructorError(None, None, f"{shown!r} is not a valid {tag.rsplit(':', 1)[-1]}",
                                                event.start_mark) from None
    finally:
        _SCALARS.constructed_objects.clear()  # the shared constructor would keep every node
    if len(_CONSTRUCTED) < _CACHE_LIMIT:
        _CONSTRUCTED[key] = result
    return result


class _MergeKey:
    __slots__ = ()

    def __hash__(self):
        return 0

    def __eq__(self, other):
        return isinstance(other, _MergeKey)


def _add(frame: list, value, size: int, loc: Loc, text: str | None) -> None:
    """Puts a value into the open mapping or list; `text` is a scalar's source text."""
    container = frame[0]
    frame[1] += size
    if not frame[5]:
        container.append(value)
        container.item_loc.append(loc)
        container.item_text.append(text)
        return
    if frame[2] is _NO_KEY:
        if isinstance(value, _MergeKey):
            frame[2], frame[3] = value, loc
            return
        if isinstance(value, (LMap, LSeq)):
            raise InputError("C2C002", "YAML syntax error: a mapping or list cannot be a key", loc,
                             "use a plain text key")
        key = value if isinstance(value, str) else _key_text(value)
        if key in container:
            first = container.key_loc[key]
            raise InputError("C2C006", f"duplicate key {key!r} (first defined at line {first.line})",
                             loc, "remove one of the two; YAML keeps only the last and Compose rejects it")
        frame[2], frame[3] = key, loc
        return
    key = frame[2]
    frame[2] = _NO_KEY
    if isinstance(key, _MergeKey):
        sources = value if isinstance(value, LSeq) else [value]
        if not all(isinstance(s, LMap) for s in sources):
            raise InputError("C2C002", "YAML merge key '<<' needs a mapping or a list of mappings",
                             loc, "merge an anchored mapping: '<<: *name'")
        frame[6].extend(sources)
        return
    container[key] = value
    container.key_loc[key] = frame[3]
    container.val_loc[key] = loc
    if text is not None:
        container.val_text[key] = text


def _apply_merges(mapping: LMap, sources: list[LMap]) -> None:
    # Explicit keys win over merged ones; earlier merge sources win over later ones.
    for source in sources:
        for key, value in source.items():
            if key not in mapping:
                mapping[key] = value
                mapping.key_loc[key] = source.key_loc.get(key, source.loc)
                mapping.val_loc[key] = source.val_loc.get(key, source.loc)
                if key in source.val_text:
                    mapping.val_text[key] = source.val_text[key]


def _text(value) -> str:
    return value if isinstance(value, str) else _key_text(value)


def _key_text(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
