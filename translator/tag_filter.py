"""Codeship step ``tag:`` / ``exclude:`` filters.

A filter value is compared with the build tag (branch or git tag name):

* a value without ``^`` and ``$`` is a plain string and must equal the whole tag;
* a value containing ``^`` or ``$`` anywhere is a Go (RE2) regular expression that is
  searched for in the tag, unanchored except for the anchors written;
* jet 0.9.5: an exact string comparison is tried first, and a regex that Go rejects
  never errors, it simply never matches.

The generated runner script does the matching at run time with bash
``[[ $tag =~ $re ]]`` (POSIX ERE through the system ``regcomp``).  This module converts
an RE2 pattern into an equivalent, portable POSIX ERE (:func:`to_bash_ere`) and gives
the reference semantics in Python (:func:`python_matches`, :func:`regex_search`).

How it works: the pattern is parsed the way Go's ``regexp/syntax`` parses it (Perl
flags, as ``regexp.Compile`` does), including Go's error rules, into a small syntax
tree in which every character class, literal and ``.`` is an explicit set of code
points (shorthands, POSIX classes, negation and ``(?i)`` case folding are resolved at
parse time, like RE2 does).  The tree is then printed as a POSIX ERE using only portable
syntax (bracket expressions listing ASCII characters and ``0-9``/``A-Z``/``a-z`` ranges,
``* + ? {n,m}``, ``|``, groups, ``^``/``$``), or run directly by a small NFA simulation
(linear time, like RE2) for the Python reference semantics.

The ERE is exact (same yes/no answer as RE2) for every tag when bash runs in a UTF-8
locale such as ``C.UTF-8``; for ASCII-only tags it is exact in any locale whose
collation keeps ``0-9``, ``A-Z`` and ``a-z`` contiguous (C/POSIX, C.UTF-8, any glibc
since 2.28).  It may contain raw control characters (RE2 ``.`` excludes a newline,
``\\s`` is tab/newline/FF/CR/space), so write it into a script with :func:`bash_quote`.

Decisions:

* ``(?i)`` is supported anywhere, scoped like RE2 (``(?i)``, ``(?i:...)``, ``(?-i)``):
  ASCII letters become ``[Aa]``-style classes, plus RE2's extra folds k/K/U+212A and
  s/S/U+017F.  Case folding of other non-ASCII letters is refused (UnsupportedRegex).
  ``(?s)`` and ``(?U)`` are supported; ``(?m)`` only when no ``^``/``$`` is in its scope.
* ``(?P<name>...)`` becomes a plain group, ``\\Q...\\E`` literal text, lazy quantifiers
  greedy ones; ``(?<name>...)`` is rejected like the Go regexp jet was built with.
* Counts above 255 (the POSIX minimum RE_DUP_MAX) are split: ``a{300}`` -> ``a{255}a{45}``.
* A star over a nullable group is simplified (``(([/-]?|k)*)*`` -> ``([/-]|k)*``): glibc
  regexec can spin on the former.  Anchors in the middle of a pattern are rewritten so
  that no ``^`` follows and no ``$`` precedes a consumed character: glibc lets a
  consumed newline satisfy them (``.^b`` matches "a\\nb").
* \\b, \\B, \\p classes and multi-line anchors have no portable ERE: UnsupportedRegex
  with ``re2_valid=True``.  Patterns Go's regexp rejects raise with ``re2_valid=False``.

Pure module: no printing, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "UnsupportedRegex",
    "bash_quote",
    "is_regex",
    "python_matches",
    "regex_search",
    "to_bash_ere",
]

MAX_RUNE = 0x10FFFF
_MAX_REPEAT = 1000  # Go: counts above 1000 are "invalid repeat count"
_ERE_DUP_MAX = 255  # _POSIX_RE_DUP_MAX: the largest count every regcomp must accept
_MAX_LISTED_NON_ASCII = 512  # non-ASCII characters listed one by one in a bracket


def is_regex(value: str) -> bool:
    """True iff a Codeship ``tag``/``exclude`` value is a regex (contains ``^`` or ``$``)."""
    return "^" in value or "$" in value


class UnsupportedRegex(Exception):
    """A filter regex that cannot be converted to a POSIX ERE (or that RE2 rejects).

    Attributes:
        construct: the offending text as written, e.g. ``(?=``, ``\\b``, ``(?m)``.
        offset: index of ``construct`` in the pattern (Python string index).
        message: what cannot be converted, why, and a suggestion.
        re2_valid: False when RE2 (Go regexp, as used by jet) itself rejects the pattern;
            jet then silently never matches, so a caller may just warn.  True when RE2
            accepts it but it has no portable ERE (or Python) equivalent here.
        pattern: the whole pattern.
    """

    def __init__(self, construct: str, offset: int, message: str, *, re2_valid: bool, pattern: str = ""):
        super().__init__(message)
        self.construct = construct
        self.offset = offset
        self.message = message
        self.re2_valid = re2_valid
        self.pattern = pattern

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # keep picklable despite keyword-only arguments
        return (_rebuild_unsupported, (self.construct, self.offset, self.message, self.re2_valid, self.pattern))


def _rebuild_unsupported(construct, offset, message, re2_valid, pattern):
    return UnsupportedRegex(construct, offset, message, re2_valid=re2_valid, pattern=pattern)


def _invalid(pattern: str, construct: str, offset: int, why: str, suggestion: str = "") -> UnsupportedRegex:
    msg = (
        f"cannot convert `{construct}` at offset {offset} of regex `{pattern}`: RE2 (Go regexp, used by jet) "
        f"rejects it: {why}. jet never errors on an invalid regex; the filter simply never matches."
    )
    if suggestion:
        msg += f" Suggestion: {suggestion}"
    return UnsupportedRegex(construct, offset, msg, re2_valid=False, pattern=pattern)


def _unsupported(pattern: str, construct: str, offset: int, why: str, suggestion: str) -> UnsupportedRegex:
    msg = (
        f"cannot convert `{construct}` at offset {offset} of regex `{pattern}` to a POSIX ERE for bash "
        f"[[ =~ ]]: {why}. Suggestion: {suggestion}"
    )
    return UnsupportedRegex(construct, offset, msg, re2_valid=True, pattern=pattern)


# ---------------------------------------------------------------------------
# Character sets: tuples of disjoint, sorted, non-adjacent (lo, hi) code point ranges.

_FULL = ((0, MAX_RUNE),)


def _norm(ranges) -> tuple:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1][1] = hi
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


def _negate(rs) -> tuple:
    out = []
    nxt = 0
    for lo, hi in rs:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_RUNE:
        out.append((nxt, MAX_RUNE))
    return tuple(out)


def _intersect(a, b) -> tuple:
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _minus(a, b) -> tuple:
    return _intersect(a, _negate(b))


def _r(*spec: str) -> tuple:
    """Build a set from 'a-z' style range strings and single characters."""
    out = []
    for s in spec:
        if len(s) == 3 and s[1] == "-":
            out.append((ord(s[0]), ord(s[2])))
        else:
            out.extend((ord(c), ord(c)) for c in s)
    return _norm(out)


_PERL_CLASSES = {  # RE2/Go Perl classes are ASCII-only
    "d": _r("0-9"),
    "s": _r("\t\n\f\r "),
    "w": _r("0-9", "A-Z", "a-z", "_"),
}

_POSIX_CLASSES = {  # Go regexp/syntax posixGroup (ASCII)
    "alnum": _r("0-9", "A-Z", "a-z"),
    "alpha": _r("A-Z", "a-z"),
    "ascii": ((0, 0x7F),),
    "blank": _r("\t "),
    "cntrl": ((0, 0x1F), (0x7F, 0x7F)),
    "digit": _r("0-9"),
    "graph": ((0x21, 0x7E),),
    "lower": _r("a-z"),
    "print": ((0x20, 0x7E),),
    "punct": _r("!-/", ":-@", "[-`", "{-~"),
    "space": _r("\t\n\v\f\r "),
    "upper": _r("A-Z"),
    "word": _r("0-9", "A-Z", "a-z", "_"),
    "xdigit": _r("0-9", "A-F", "a-f"),
}

# Unicode general categories known to Go's regexp (\pL, \p{Lu}, ...).
_UNICODE_CATEGORIES = frozenset(
    "C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs".split()
)

# Simple case folding (Go unicode.SimpleFold orbits) that touches ASCII letters.
_KELVIN, _LONG_S = 0x212A, 0x17F
_FOLD_EXTRA = {
    ord("k"): (_KELVIN,),
    ord("K"): (_KELVIN,),
    _KELVIN: (ord("k"), ord("K")),
    ord("s"): (_LONG_S,),
    ord("S"): (_LONG_S,),
    _LONG_S: (ord("s"), ord("S")),
}
_MAX_FOLD = 0x1E943  # Go regexp/syntax maxFold: no code point above folds


def _is_cased(cp: int) -> bool:
    ch = chr(cp)
    return ch.lower() != ch or ch.upper() != ch or ch.casefold() != ch


def _fold(rs) -> tuple[tuple, int | None]:
    """Close a set under RE2 simple case folding.

    Returns (folded set, None), or (unchanged set, code point) when the set holds a
    cased non-ASCII character other than the Kelvin sign / long s: Go's orbit for such a
    character cannot be reproduced reliably from Python's tables, so it is refused.
    """
    out = list(rs)
    for lo, hi in rs:
        for a, b, delta in ((0x41, 0x5A, 0x20), (0x61, 0x7A, -0x20)):
            l, h = max(lo, a), min(hi, b)
            if l <= h:
                out.append((l + delta, h + delta))
        for cp, extra in _FOLD_EXTRA.items():
            if lo <= cp <= hi:
                out.extend((e, e) for e in extra)
    for lo, hi in rs:
        l, h = max(lo, 0x80), min(hi, _MAX_FOLD)
        if l > h or (l == 0x80 and h == _MAX_FOLD):
            continue  # nothing non-ASCII, or every non-ASCII folding orbit is already inside
        for cp in range(l, h + 1):
            if cp not in (_KELVIN, _LONG_S) and _is_cased(cp):
                return tuple(rs), cp
    return _norm(out), None


# ---------------------------------------------------------------------------
# Syntax tree.  Nodes are tuples:
#   ("chars", ranges, offset, text)        one character out of a set
#   ("empty",)                             empty string
#   ("assert", kind, offset, text, m_origin)  kind: bot eot bol eol wb nwb
#   ("concat", (nodes...))
#   ("alt", (nodes...))
#   ("repeat", node, min, max_or_None, is_brace)


@dataclass(frozen=True)
class _Flags:
    fold: bool = False
    multiline: bool = False
    dotnl: bool = False
    ungreedy: bool = False
    m_origin: tuple | None = None  # (offset, text) of the flag group that turned on (?m)


_EMPTY = ("empty",)

_INVALID_ESCAPE_HINTS = {
    "Z": ("RE2 has no `\\Z`", "use `$` or `\\z` (end of text)"),
    "G": ("RE2 has no `\\G`", "anchor with `^` instead"),
    "K": ("RE2 has no `\\K`", "drop it; the match position does not matter for a filter"),
    "R": ("RE2 has no `\\R`", "use `\\n` or `[\\r\\n]`"),
    "X": ("RE2 has no `\\X`", "use `.`"),
    "h": ("RE2 has no `\\h`", "use `[ \\t]`"),
    "e": ("RE2 has no `\\e`", "use `\\x1b`"),
    "c": ("RE2 has no control escapes `\\cX`", "use `\\xHH`"),
    "u": ("RE2 has no `\\uHHHH`", "use `\\x{HHHH}`"),
    "U": ("RE2 has no `\\U`", "use `\\x{HHHHHH}`"),
    "N": ("RE2 has no `\\N`", "use `[^\\n]` or `.`"),
    "g": ("RE2 has no backreferences", "match the text explicitly"),
    "k": ("RE2 has no named backreferences", "match the text explicitly"),
    "b": ("`\\b` is not allowed inside a character class in RE2", "use `\\x08` for a backspace"),
    "B": ("`\\B` is not allowed inside a character class in RE2", "remove it"),
    "A": ("`\\A` is not allowed inside a character class in RE2", "move it outside the brackets"),
    "z": ("`\\z` is not allowed inside a character class in RE2", "move it outside the brackets"),
    "Q": ("`\\Q...\\E` is not allowed inside a character class in RE2", "escape the characters one by one"),
}


_REPEAT_BRACES = re.compile(r"\{([0-9]+)(?:(,)([0-9]*))?\}")


class _Parser:
    """Recursive-descent twin of Go's regexp/syntax parser (syntax.Perl flags)."""

    def __init__(self, pattern: str):
        self.p = pattern
        self.n = len(pattern)
        self.i = 0
        self.flags = _Flags()
        self.issues: list[UnsupportedRegex] = []

    # -- errors -------------------------------------------------------------
    def invalid(self, construct, offset, why, suggestion=""):
        raise _invalid(self.p, construct, offset, why, suggestion)

    def issue(self, construct, offset, why, suggestion):
        self.issues.append(_unsupported(self.p, construct, offset, why, suggestion))

    # -- entry ------------------------------------------------------------------
    def parse(self):
        for k, ch in enumerate(self.p):
            if 0xD800 <= ord(ch) <= 0xDFFF:
                self.invalid(ch, k, "the pattern is not valid UTF-8 (lone surrogate)")
        node = self.parse_alt()
        if self.i < self.n:  # only a ')' stops parse_alt early
            self.invalid(")", self.i, "unexpected `)` (unbalanced parentheses)", "remove it or add the matching `(`")
        return node

    def parse_alt(self):
        branches = [self.parse_concat()]
        while self.i < self.n and self.p[self.i] == "|":
            self.i += 1
            branches.append(self.parse_concat())
        return branches[0] if len(branches) == 1 else ("alt", tuple(branches))

    def parse_concat(self):
        p, n = self.p, self.n
        items: list = []
        last_repeat = None  # offset of the repetition operator just before, if any
        while self.i < n:
            c = p[self.i]
            if c in "|)":
                break
            start = self.i
            this_repeat = None
            if c == "(":
                node = self.parse_paren()
                if node is not None:
                    items.append(node)
            elif c == "[":
                items.append(self.parse_class())
            elif c in "*+?":
                self.i += 1
                lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
                self.apply_repeat(items, lo, hi, start, last_repeat, brace=False)
                this_repeat = start
            elif c == "{":
                rep = self.parse_repeat_braces(start)
                if rep is None:  # not a valid {n,m}: a literal {
                    self.i += 1
                    items.append(self.literal(ord("{"), start, "{"))
                else:
                    lo, hi, end = rep
                    if lo < 0 or lo > _MAX_REPEAT or (hi is not None and (hi > _MAX_REPEAT or lo > hi)):
                        self.invalid(
                            p[start:end], start,
                            f"invalid repeat count (counts must be at most {_MAX_REPEAT} and min <= max)",
                            "use a smaller count or `+`/`*`",
                        )
                    self.i = end
                    self.apply_repeat(items, lo, hi, start, last_repeat, brace=True)
                    this_repeat = start
            elif c == "\\":
                node = self.parse_backslash()
                if node is not None:
                    items.extend(node)
            elif c == "^":
                self.i += 1
                items.append(self.anchor("bol" if self.flags.multiline else "bot", start, "^"))
            elif c == "$":
                self.i += 1
                items.append(self.anchor("eol" if self.flags.multiline else "eot", start, "$"))
            elif c == ".":
                self.i += 1
                rs = _FULL if self.flags.dotnl else _negate(((10, 10),))
                items.append(("chars", rs, start, "."))
            else:
                self.i += 1
                items.append(self.literal(ord(c), start, c))
            last_repeat = this_repeat
        if not items:
            return _EMPTY
        return items[0] if len(items) == 1 else ("concat", tuple(items))

    # -- pieces -------------------------------------------------------------
    def anchor(self, kind, offset, text):
        return ("assert", kind, offset, text, self.flags.m_origin if kind in ("bol", "eol") else None)

    def literal(self, cp, offset, text):
        return ("chars", self.fold_set(((cp, cp),), offset, text), offset, text)

    def fold_set(self, rs, offset, text):
        if not self.flags.fold:
            return rs
        folded, bad = _fold(rs)
        if bad is not None:
            self.issue(
                text, offset,
                f"case-insensitive matching ((?i)) of the non-ASCII character {chr(bad)!r} (U+{bad:04X}) is not "
                "supported (its RE2 case-folding orbit is not reproduced here)",
                "list the case variants explicitly, e.g. `[éÉ]`, and drop (?i) for that part",
            )
        return folded

    def apply_repeat(self, items, lo, hi, start, last_repeat, brace):
        p = self.p
        if self.i < self.n and p[self.i] == "?":
            self.i += 1  # lazy: same yes/no answer as greedy
        if last_repeat is not None:
            self.invalid(
                p[last_repeat:self.i], last_repeat,
                "invalid nested repetition operator (RE2 does not allow stacking `**`, `+*`, `*+`, `{n}{m}`...; "
                "possessive quantifiers do not exist in RE2)",
                "keep one operator, or group first: `(?:a*)*`",
            )
        if not items:
            self.invalid(p[start:self.i], start, "missing argument to repetition operator", f"escape it: `\\{p[start]}`")
        node = ("repeat", items[-1], lo, hi, brace)
        if brace and (lo >= 2 or (hi is not None and hi >= 2)) and not _repeat_is_valid(node, _MAX_REPEAT):
            self.invalid(
                p[start:self.i], start,
                f"invalid repeat count: nested repetitions multiply to more than {_MAX_REPEAT}",
                "use smaller counts",
            )
        items[-1] = node

    def parse_repeat_braces(self, start):
        """Go parseRepeat: {n} {n,} {n,m}; returns (min, max, end) or None (then `{` is literal)."""
        m = _REPEAT_BRACES.match(self.p, start)
        if not m:
            return None
        a, comma, b = m.group(1), m.group(2), m.group(3)
        if len(a) > 1 and a[0] == "0" or (b and len(b) > 1 and b[0] == "0"):
            return None  # Go disallows leading zeros: the text is then literal
        lo = int(a) if len(a) <= 8 else -1
        if comma is None:
            hi = lo
        elif b == "":
            hi = None
        else:
            hi = int(b) if len(b) <= 8 else _MAX_REPEAT + 1
        return lo, hi, m.end()

    def parse_paren(self):
        p, n, start = self.p, self.n, self.i
        if not p.startswith("(?", start):
            self.i += 1
            return self.group_body(start)
        t = p[start:]
        if t.startswith("(?P<") and len(t) > 4:
            end = p.find(">", start)
            if end < 0:
                self.invalid(p[start:], start, "invalid named capture (missing `>`)", "write `(?P<name>...)`")
            name = p[start + 4:end]
            if not name or not all(ch == "_" or (ch.isascii() and ch.isalnum()) for ch in name):
                self.invalid(p[start:end + 1], start, "invalid named capture name (must be [A-Za-z0-9_]+)",
                             "use an ASCII name or a plain group `(...)`")
            self.i = end + 1
            return self.group_body(start)
        if t.startswith(("(?=", "(?!")):
            self.invalid(t[:3], start, "lookahead assertions do not exist in RE2",
                         "express the condition with a separate `tag`/`exclude` value (exclude wins over tag)")
        if t.startswith(("(?<=", "(?<!")):
            self.invalid(t[:4], start, "lookbehind assertions do not exist in RE2",
                         "express the condition with a separate `tag`/`exclude` value (exclude wins over tag)")
        if t.startswith("(?<"):
            self.invalid("(?<", start, "the `(?<name>...)` named-group syntax is not accepted by the Go regexp "
                         "jet was built with (only Go 1.22+ accepts it)", "write `(?P<name>...)` or a plain group")
        if t.startswith(("(?P=", "(?P>")):
            self.invalid(t[:4], start, "named backreferences / recursion do not exist in RE2", "match the text explicitly")
        # Flags: (?flags) or (?flags:re), flags from i m s U, optionally negated after '-'.
        j = start + 2
        fl = dict(fold=self.flags.fold, multiline=self.flags.multiline, dotnl=self.flags.dotnl,
                  ungreedy=self.flags.ungreedy)
        sign, saw = 1, False
        names = {"i": "fold", "m": "multiline", "s": "dotnl", "U": "ungreedy"}
        while j < n:
            c = p[j]
            j += 1
            if c in names:
                fl[names[c]] = sign > 0
                saw = True
            elif c == "-":
                if sign < 0:
                    break
                sign, saw = -1, False
            elif c in ":)":
                if sign < 0 and not saw:
                    break
                text = p[start:j]
                m_origin = self.flags.m_origin
                if fl["multiline"] and not self.flags.multiline:
                    m_origin = (start, text)
                new = _Flags(m_origin=m_origin if fl["multiline"] else None, **fl)
                self.i = j
                if c == ")":
                    self.flags = new  # lasts to the end of the enclosing group
                    return None
                saved = self.flags
                self.flags = new
                node = self.group_body(start, saved=saved)
                return node
            else:
                break
        construct = p[start:j]
        if construct.startswith("(?#"):
            why, sug = "comments `(?#...)` do not exist in RE2", "remove the comment"
        elif construct.startswith("(?>"):
            why, sug = "atomic groups do not exist in RE2", "use a plain group `(?:...)`"
        elif len(construct) >= 3 and construct[2].isalpha() and construct[2] not in "imsU":
            why, sug = f"unknown flag `{construct[2]}` (RE2 flags are i, m, s, U)", "remove the flag"
        else:
            why, sug = "invalid or unsupported Perl syntax", "use `(?:...)` for a group, `(?i)` etc. for flags"
        self.invalid(construct, start, why, sug)

    def group_body(self, start, saved=None):
        saved = self.flags if saved is None else saved
        body = self.parse_alt()
        if self.i >= self.n or self.p[self.i] != ")":
            self.invalid(self.p[start], start, "missing closing `)` (unbalanced parentheses)", "add the `)`")
        self.i += 1
        self.flags = saved  # Go restores the flags at the closing parenthesis
        return body

    def parse_backslash(self):
        """Top-level escape. Returns a list of nodes (\\Q..\\E gives several) or None."""
        p, start = self.p, self.i
        if start + 1 >= self.n:
            self.invalid("\\", start, "trailing backslash at end of expression", "escape it as `\\\\`")
        d = p[start + 1]
        if d == "A":
            self.i += 2
            return [("assert", "bot", start, "\\A", None)]
        if d == "z":
            self.i += 2
            return [("assert", "eot", start, "\\z", None)]
        if d in "bB":
            self.i += 2
            return [("assert", "wb" if d == "b" else "nwb", start, "\\" + d, None)]
        if d == "C":
            self.invalid("\\C", start, "`\\C` (any byte) is not supported by Go's regexp", "use `.`")
        if d == "Q":
            end = p.find("\\E", start + 2)
            lit_end = self.n if end < 0 else end
            self.i = self.n if end < 0 else end + 2
            return [self.literal(ord(ch), start + 2 + k, ch) for k, ch in enumerate(p[start + 2:lit_end])]
        if d in "pP":
            return [self.parse_unicode_class()]
        if d in "dDsSwW":
            self.i += 2
            return [("chars", self.perl_class(d, start), start, p[start:start + 2])]
        cp = self.parse_escape(in_class=False)
        return [self.literal(cp, start, p[start:self.i])]

    def perl_class(self, d, offset):
        rs = self.fold_set(_PERL_CLASSES[d.lower()], offset, "\\" + d)
        return _negate(rs) if d.isupper() else rs

    def parse_unicode_class(self):
        """\\pN, \\p{Name}, \\PN, \\p{^Name}: valid RE2 when Name is known, but not converted."""
        p, start = self.p, self.i
        if start + 2 >= self.n:
            self.invalid(p[start:], start, "invalid character class range (`\\p` needs a name)")
        if p[start + 2] == "{":
            end = p.find("}", start)
            if end < 0:
                self.invalid(p[start:], start, "invalid character class range (missing `}`)")
            seq, name = p[start:end + 1], p[start + 3:end]
        else:
            seq, name = p[start:start + 3], p[start + 2]
        self.i = start + len(seq)
        bare = name[1:] if name.startswith("^") else name
        if not bare or (len(name) == 1 and bare not in _UNICODE_CATEGORIES):
            self.invalid(seq, start, f"invalid character class range (unknown Unicode class `{bare}`)")
        self.issue(seq, start, "Unicode classes (`\\pL`, `\\p{Greek}`, ...) have no portable POSIX ERE "
                   "(or Python re) equivalent",
                   "use an explicit ASCII class such as `[A-Za-z]` or `[0-9]`")
        return ("chars", (), start, seq)

    def parse_escape(self, in_class):
        """Go parseEscape: a single-character escape. Advances self.i, returns the code point."""
        p, start = self.p, self.i
        if start + 1 >= self.n:
            self.invalid("\\", start, "trailing backslash at end of expression", "escape it as `\\\\`")
        c = p[start + 1]
        j = start + 2
        if c.isascii() and not c.isalnum():
            self.i = j
            return ord(c)
        if c in "1234567" and not (j < self.n and p[j] in "01234567"):
            self.invalid(p[start:j], start, "backreferences do not exist in RE2",
                         "match the text explicitly (an octal escape needs two or more digits, e.g. `\\101`)")
        if c in "01234567":
            v = int(c)
            k = 1
            while k < 3 and j < self.n and p[j] in "01234567":
                v = v * 8 + int(p[j])
                j += 1
                k += 1
            self.i = j
            return v
        if c in "89":
            self.invalid(p[start:j], start, "invalid escape sequence (backreferences do not exist in RE2)",
                         "match the text explicitly")
        if c == "x":
            if j < self.n and p[j] == "{":
                end = p.find("}", j)
                digits = p[j + 1:end] if end >= 0 else ""
                if end < 0 or not digits or not all(ch in "0123456789abcdefABCDEF" for ch in digits) \
                        or int(digits, 16) > MAX_RUNE:
                    self.invalid(p[start:(end + 1) if end >= 0 else self.n], start,
                                 "invalid escape sequence (`\\x{...}` needs 1+ hex digits up to 10FFFF)")
                self.i = end + 1
                return int(digits, 16)
            digits = p[j:j + 2]
            if len(digits) < 2 or not all(ch in "0123456789abcdefABCDEF" for ch in digits):
                self.invalid(p[start:j + 2], start, "invalid escape sequence (`\\x` needs two hex digits)")
            self.i = j + 2
            return int(digits, 16)
        simple = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
        if c in simple:
            self.i = j
            return simple[c]
        construct = p[start:j]
        if c in _INVALID_ESCAPE_HINTS and (in_class or c not in "bBAzQ"):
            why, sug = _INVALID_ESCAPE_HINTS[c]
        else:
            why, sug = "not a valid RE2 escape sequence", "remove the backslash or use `\\xHH`"
        self.invalid(construct, start, "invalid escape sequence: " + why, sug)

    def parse_class(self):
        """Go parseClass: [...], [^...], with ranges, \\d-style escapes and [:name:] inside."""
        p, n, start = self.p, self.n, self.i
        i = start + 1
        negated = False
        if i < n and p[i] == "^":
            negated = True
            i += 1
        parts: list = []
        first = True
        while i >= n or p[i] != "]" or first:
            if i >= n:
                self.invalid("[", start, "missing closing `]`", "close the bracket or escape `[` as `\\[`")
            first = False
            if p.startswith("[:", i) and i + 2 < n:
                end = p.find(":]", i + 2)
                if end >= 0:
                    name = p[i + 2:end]
                    neg = name.startswith("^")
                    cls = _POSIX_CLASSES.get(name[1:] if neg else name)
                    if cls is None:
                        self.invalid(p[i:end + 2], i, "invalid character class range (unknown POSIX class)",
                                     "use one of alnum alpha ascii blank cntrl digit graph lower print punct "
                                     "space upper word xdigit")
                    rs = self.fold_set(cls, i, p[i:end + 2])
                    parts.extend(_negate(rs) if neg else rs)
                    i = end + 2
                    continue
            if p.startswith(("\\p", "\\P"), i):
                self.i = i
                self.parse_unicode_class()
                i = self.i
                continue
            if p[i] == "\\" and i + 1 < n and p[i + 1] in "dDsSwW":
                parts.extend(self.perl_class(p[i + 1], i))
                i += 2
                continue
            rng_start = i
            self.i = i
            lo = self.class_char()
            hi = lo
            i = self.i
            if i + 1 < n and p[i] == "-" and p[i + 1] != "]":
                self.i = i + 1
                hi = self.class_char()
                i = self.i
                if hi < lo:
                    self.invalid(p[rng_start:i], rng_start, "invalid character class range (end before start)",
                                 "swap the ends, or escape `-` as `\\-` for a literal dash")
            parts.extend(self.fold_set(((lo, hi),), rng_start, p[rng_start:i]))
        self.i = i + 1
        rs = _norm(parts)
        if negated:
            rs = _negate(rs)
        return ("chars", rs, start, p[start:self.i])

    def class_char(self):
        p, i = self.p, self.i
        if i >= self.n:
            self.invalid("[", i, "missing closing `]`")
        if p[i] == "\\":
            return self.parse_escape(in_class=True)
        self.i = i + 1
        return ord(p[i])


def _repeat_is_valid(node, n: int) -> bool:
    """Go repeatIsValid: nested {n,m} counts may not multiply to more than n."""
    kind = node[0]
    if kind == "repeat":
        _, sub, lo, hi, brace = node
        if brace:
            m = hi
            if m == 0:
                return True
            if m is None:
                m = lo
            if m > n:
                return False
            if m > 0:
                n //= m
        return _repeat_is_valid(sub, n)
    if kind in ("concat", "alt"):
        return all(_repeat_is_valid(s, n) for s in node[1])
    return True


@lru_cache(maxsize=2048)
def _parse(pattern: str):
    """(tree, issues). Raises UnsupportedRegex(re2_valid=False) when RE2 rejects the pattern."""
    parser = _Parser(pattern)
    tree = parser.parse()
    return tree, tuple(parser.issues)


def _is_zero_width(node) -> bool:
    kind = node[0]
    if kind in ("assert", "empty"):
        return True
    if kind in ("concat", "alt"):
        return all(_is_zero_width(s) for s in node[1])
    if kind == "repeat":
        return node[3] == 0 or _is_zero_width(node[1])
    return False


def _nullable(node) -> bool:
    kind = node[0]
    if kind == "chars":
        return False
    if kind in ("empty", "assert"):
        return True
    if kind == "concat":
        return all(_nullable(s) for s in node[1])
    if kind == "alt":
        return any(_nullable(s) for s in node[1])
    return node[2] == 0 or node[3] == 0 or _nullable(node[1])


def _has_assert(node) -> bool:
    kind = node[0]
    if kind == "assert":
        return True
    if kind in ("concat", "alt"):
        return any(_has_assert(s) for s in node[1])
    if kind == "repeat":
        return _has_assert(node[1])
    return False


_NOTHING = ("chars", (), -1, "")


def _star_body(node):
    """A node Y with Y* == node* (same language), made non-nullable where possible.

    glibc's regexec (bash asks it for submatches to fill BASH_REMATCH) can loop for a very
    long time on a star over a nullable group, e.g. ``(([/-]?|k?)*)*``; ``([/-]|k)*`` is
    equivalent and harmless.  Uses: (X*)* = X*, (A|B?)* = (A|B)*, (A?B?)* = (A|B)*, and
    an empty-width branch adds nothing under a star.
    """
    if not _nullable(node):
        return node
    kind = node[0]
    if kind in ("empty", "assert"):
        return _NOTHING
    if kind == "repeat":
        return _NOTHING if node[3] == 0 else _star_body(node[1])
    if kind == "alt":
        return ("alt", tuple(_star_body(s) for s in node[1]))
    # concat of nullable pieces: (AB)* == (A|B)*, unless an anchor ties the pieces together
    if _has_assert(node):
        return node
    return ("alt", tuple(_star_body(s) for s in node[1]))


# -- anchors in the middle of a pattern -----------------------------------------------
# glibc's regexec treats a newline consumed next to a mid-pattern anchor as a line boundary
# even without REG_NEWLINE (`.^b` matches "a\nb", `a$.` matches "a\n").  RE2's `^`/`$` only
# match at the ends of the text, so a path that consumes a character before `^` or after `$`
# is dead: rewrite the tree so that no `^` can follow and no `$` can precede a consumed
# character.  Ordinary patterns (`^...$`) are left as they are.

def _has_kind(node, kind: str) -> bool:
    k = node[0]
    if k == "assert":
        return node[1] == kind
    if k in ("concat", "alt"):
        return any(_has_kind(s, kind) for s in node[1])
    if k == "repeat":
        return _has_kind(node[1], kind)
    return False


def _without(node, kind: str):
    """node with every path through an assertion of `kind` removed."""
    k = node[0]
    if k == "assert":
        return _NOTHING if node[1] == kind else node
    if k in ("concat", "alt"):
        return (k, tuple(_without(s, kind) for s in node[1]))
    if k == "repeat":
        return ("repeat", _without(node[1], kind)) + node[2:]
    return node


def _eps(node):
    """The empty-string paths of node (a zero-width node; _NOTHING if there is none)."""
    k = node[0]
    if k == "chars":
        return _NOTHING
    if k in ("empty", "assert"):
        return node
    if k in ("concat", "alt"):
        return (k, tuple(_eps(s) for s in node[1]))
    _, sub, lo, hi, _brace = node
    return _EMPTY if lo == 0 or hi == 0 else _eps(sub)


def _seq(a, b):
    """a followed by b, rewritten so that no `^` follows and no `$` precedes consumption."""
    terms = [(a, b)]
    if _has_kind(b, "bot") and not _is_zero_width(a):
        terms = [(_eps(a), b), (a, _without(b, "bot"))]
    out = []
    for x, y in terms:
        if _has_kind(x, "eot") and not _is_zero_width(y):
            out += [(x, _eps(y)), (_without(x, "eot"), y)]
        else:
            out.append((x, y))
    nodes = [("concat", (x, y)) for x, y in out]
    return nodes[0] if len(nodes) == 1 else ("alt", tuple(nodes))


_MAX_ANCHORED_REPEAT = 16


def _fix_anchors(node, pattern: str):
    k = node[0]
    if k == "alt":
        return ("alt", tuple(_fix_anchors(s, pattern) for s in node[1]))
    if k == "concat":
        items = [_fix_anchors(s, pattern) for s in node[1]]
        acc = items[0]
        for item in items[1:]:
            acc = _seq(acc, item)
        return acc
    if k != "repeat":
        return node
    _, sub, lo, hi, brace = node
    x = _fix_anchors(sub, pattern)
    if not (_has_kind(x, "bot") or _has_kind(x, "eot")) or _is_zero_width(x) or hi == 0:
        return ("repeat", x, lo, hi, brace)
    if max(lo, hi or 0) > _MAX_ANCHORED_REPEAT:
        raise _unsupported(
            pattern, pattern, 0,
            f"a group holding `^`/`$` is repeated more than {_MAX_ANCHORED_REPEAT} times; the ERE would have "
            "to spell every repetition out",
            "move the anchors out of the repeated group",
        )
    if hi is None:
        # Under a star, empty iterations only add conditions and can be dropped; a non-empty
        # iteration may keep `^` only if it is the first one and `$` only if it is the last.
        middle = ("repeat", _without(_without(x, "bot"), "eot"), 0, None, False)
        several = _seq(_seq(_without(x, "eot"), middle), _without(x, "bot"))
        plus = ("alt", (x, several))
        if lo <= 1:
            return ("alt", (_EMPTY, plus)) if lo == 0 else plus
        acc = x
        for _ in range(lo - 2):
            acc = _seq(acc, x)
        return _seq(acc, plus)
    acc = _EMPTY
    tail = _EMPTY
    for _ in range(hi - lo):  # x{0,n} = (x(x(...)?)?)?
        tail = ("alt", (_EMPTY, _seq(x, tail)))
    for _ in range(lo):
        acc = _seq(acc, x)
    return _seq(acc, tail)


# ---------------------------------------------------------------------------
# POSIX ERE back end.

_ATOM, _SEQ, _ALT = 3, 2, 1  # precedence of an emitted piece


@dataclass(frozen=True)
class _Ere:
    text: str
    prec: int
    zero_width: bool = False


_E_EMPTY = "EMPTY"  # matches the empty string only
_E_NOMATCH = "NOMATCH"  # matches nothing

_ERE_BRACKETED = set(".[*+?(){|$\\")
_UNEMITTABLE = ((0, 0), (0xD800, 0xDFFF))  # NUL and surrogates can never occur in a bash string
_ANY_EMITTABLE = _minus(_FULL, _UNEMITTABLE)


def _ere_literal(cp: int) -> str:
    ch = chr(cp)
    if ch == "^":
        return "\\^"
    if ch in _ERE_BRACKETED:
        return "[" + ch + "]"  # backslash too: POSIX brackets take `\` literally
    return ch


def _segment(cp: int) -> int:
    if 0x30 <= cp <= 0x39:
        return 1
    if 0x41 <= cp <= 0x5A:
        return 2
    if 0x61 <= cp <= 0x7A:
        return 3
    return 0


def _bracket_body(rs, negated: bool) -> str | None:
    """Items of a POSIX bracket expression for the set rs (None: too many non-ASCII chars)."""
    specials = {}
    others: list[str] = []
    non_ascii: list[str] = []
    for lo, hi in rs:
        if hi > 0x7F:
            l = max(lo, 0x80)
            if hi - l + 1 > _MAX_LISTED_NON_ASCII - len(non_ascii):
                return None
            # Ranges with non-ASCII ends are rejected by glibc regcomp in C.UTF-8 and depend on
            # collation elsewhere: list the characters.
            non_ascii.extend(chr(c) for c in range(l, hi + 1))
        cp = lo
        top = min(hi, 0x7F)
        while cp <= top:
            ch = chr(cp)
            if ch in "]^-[":
                specials[ch] = True
                cp += 1
                continue
            seg = _segment(cp)
            end = cp
            if seg:
                while end + 1 <= top and _segment(end + 1) == seg:
                    end += 1
            if end - cp >= 2:
                others.append(f"{ch}-{chr(end)}")
            else:
                others.extend(chr(c) for c in range(cp, end + 1))
            cp = end + 1
    items = (["]"] if "]" in specials else []) + others + non_ascii
    items += (["["] if "[" in specials else []) + (["^"] if "^" in specials else [])
    if "-" in specials:
        if not negated and items and items[0] == "^":
            items.insert(0, "-")  # "[^-]" would be a negation: write "[-^]"
        else:
            items.append("-")
    return "".join(items)


def _ere_set(node, pattern: str):
    _, rs, offset, text = node
    rs = _minus(rs, _UNEMITTABLE)
    if not rs:
        return _E_NOMATCH
    if rs == _ANY_EMITTABLE:
        return _Ere(".", _ATOM)
    if len(rs) == 1 and rs[0][0] == rs[0][1]:
        return _Ere(_ere_literal(rs[0][0]), _ATOM)
    candidates = []
    body = _bracket_body(rs, negated=False)
    if body is not None:
        candidates.append("[" + body + "]")
    comp = _minus(_negate(rs), _UNEMITTABLE)
    body = _bracket_body(comp, negated=True)
    if body is not None:
        candidates.append("[^" + body + "]")
    if not candidates:
        raise _unsupported(
            pattern, text, offset,
            "the character class covers a large range of non-ASCII characters, which a portable bracket "
            "expression can only list one by one",
            "restrict the class to ASCII characters, or negate a small set instead (`[^...]`)",
        )
    return _Ere(min(candidates, key=len), _ATOM)


def _quantifier(lo: int, hi: int | None) -> str:
    if (lo, hi) == (0, None):
        return "*"
    if (lo, hi) == (1, None):
        return "+"
    if (lo, hi) == (0, 1):
        return "?"
    if hi is None:
        return "{%d,}" % lo
    if lo == hi:
        return "" if lo == 1 else "{%d}" % lo
    return "{%d,%d}" % (lo, hi)


def _ere_repeat_text(atom: str, lo: int, hi: int | None) -> tuple[str, int]:
    """atom repeated lo..hi times with every count <= 255 (split into a concatenation if needed)."""
    pieces = []
    while lo > _ERE_DUP_MAX:
        pieces.append(atom + "{%d}" % _ERE_DUP_MAX)
        lo -= _ERE_DUP_MAX
        if hi is not None:
            hi -= _ERE_DUP_MAX
    if hi is None or hi <= _ERE_DUP_MAX:
        pieces.append(atom + _quantifier(lo, hi))
    else:
        if lo:
            pieces.append(atom + _quantifier(lo, lo))
        extra = hi - lo
        while extra > 0:
            step = min(extra, _ERE_DUP_MAX)
            pieces.append(atom + _quantifier(0, step))
            extra -= step
    if len(pieces) == 1 and pieces[0] == atom:
        return atom, _ATOM
    return "".join(pieces), _SEQ


class _EreEmitter:
    def __init__(self, pattern: str):
        self.pattern = pattern

    def top(self, tree) -> str:
        res = self.emit(tree)
        if res is _E_EMPTY:
            return "^"  # the empty regex matches every tag
        if res is _E_NOMATCH:
            return "x^"  # a start anchor after a consumed "x": never matches (not `$.`, see _seq)
        return res.text

    def emit(self, node):
        kind = node[0]
        if kind == "chars":
            return _ere_set(node, self.pattern)
        if kind == "empty":
            return _E_EMPTY
        if kind == "assert":
            return self.emit_assert(node)
        if kind == "concat":
            parts = []
            for sub in node[1]:
                res = self.emit(sub)
                if res is _E_NOMATCH:
                    return _E_NOMATCH
                if res is not _E_EMPTY:
                    parts.append(res)
            if not parts:
                return _E_EMPTY
            if len(parts) == 1:
                return parts[0]
            text = "".join("(" + r.text + ")" if r.prec == _ALT else r.text for r in parts)
            return _Ere(text, _SEQ, all(r.zero_width for r in parts))
        if kind == "alt":
            parts, has_empty = [], False
            for sub in node[1]:
                res = self.emit(sub)
                if res is _E_EMPTY:
                    has_empty = True
                elif res is not _E_NOMATCH:
                    if res not in parts:
                        parts.append(res)
            if not parts:
                return _E_EMPTY if has_empty else _E_NOMATCH
            res = parts[0] if len(parts) == 1 else _Ere(
                "|".join(r.text for r in parts), _ALT, all(r.zero_width for r in parts))
            if has_empty:
                return self.repeat(res, 0, 1)
            return res
        if kind == "repeat":
            _, sub, lo, hi, _brace = node
            if hi == 0:
                return _E_EMPTY
            if _nullable(sub) and not _is_zero_width(sub):
                if hi is None:  # X{n,} == X* == Y* for a nullable X
                    sub, lo = _star_body(sub), 0
                elif (lo, hi) == (0, 1):  # X? == X for a nullable X
                    return self.emit(sub)
            res = self.emit(sub)
            if res is _E_EMPTY:
                return _E_EMPTY
            if res is _E_NOMATCH:
                return _E_EMPTY if lo == 0 else _E_NOMATCH
            return self.repeat(res, lo, hi)
        raise AssertionError(kind)  # pragma: no cover

    @staticmethod
    def repeat(res: _Ere, lo: int, hi: int | None):
        if res.zero_width:
            # A zero-width piece repeated is itself (>= 1 time) or nothing (0 times); POSIX
            # leaves a quantified anchor undefined, so never write one.
            return _E_EMPTY if lo == 0 else res
        atom = res.text if res.prec == _ATOM else "(" + res.text + ")"
        text, prec = _ere_repeat_text(atom, lo, hi)
        return _Ere(text, prec)

    def emit_assert(self, node):
        _, kind, offset, text, m_origin = node
        if kind == "bot":
            return _Ere("^", _ATOM, True)
        if kind == "eot":
            return _Ere("$", _ATOM, True)
        if kind in ("bol", "eol"):
            m_off, m_text = m_origin
            raise _unsupported(
                self.pattern, m_text, m_off,
                f"multi-line mode makes `{text}` at offset {offset} match at line boundaries (after/before a "
                "newline); a POSIX ERE without REG_NEWLINE has no such anchor",
                "remove the `m` flag: a build tag is a single line",
            )
        raise _unsupported(
            self.pattern, text, offset,
            "word-boundary assertions (`\\b`, `\\B`) are not part of POSIX ERE (`\\b`, `\\<`, `\\>` are GNU "
            "extensions that other regcomp implementations lack)",
            "spell the boundary out, e.g. `(^|[^0-9A-Za-z_])word([^0-9A-Za-z_]|$)` for `\\bword\\b`",
        )


@lru_cache(maxsize=2048)
def to_bash_ere(pattern: str) -> str:
    """Convert an RE2 (Go regexp) filter pattern into an equivalent POSIX ERE for bash ``=~``.

    The result gives the same yes/no answer as RE2's unanchored search (lazy quantifiers
    become greedy, groups become plain groups, ``\\A``/``\\z`` become ``^``/``$``, classes
    are spelled with portable bracket expressions).  Use it unquoted on the right of
    ``=~`` from a variable: ``re=...; [[ $tag =~ $re ]]``.

    Raises UnsupportedRegex (``re2_valid=False`` if RE2 rejects the pattern).
    """
    tree, issues = _parse(pattern)
    if issues:
        raise issues[0]
    return _EreEmitter(pattern).top(_fix_anchors(tree, pattern))


# ---------------------------------------------------------------------------
# Reference matcher: a Thompson NFA simulation over the syntax tree (linear in the tag
# length like RE2 itself, so no catastrophic backtracking, and independent of both
# Python's re dialect and the ERE back end).

_WORD = _PERL_CLASSES["w"]


def _in_set(rs, cp: int) -> bool:
    lo_i, hi_i = 0, len(rs)
    while lo_i < hi_i:
        mid = (lo_i + hi_i) // 2
        lo, hi = rs[mid]
        if cp < lo:
            hi_i = mid
        elif cp > hi:
            lo_i = mid + 1
        else:
            return True
    return False


class _Program:
    """States: ("char", set, next) | ("split", a, b) | ("assert", kind, next) | ("match",)."""

    def __init__(self, tree):
        self.states: list = [("match",)]
        self.start = self.compile(tree, 0)

    def add(self, state) -> int:
        self.states.append(state)
        return len(self.states) - 1

    def compile(self, node, nxt: int) -> int:
        kind = node[0]
        if kind == "chars":
            return self.add(("char", node[1], nxt))
        if kind == "empty":
            return nxt
        if kind == "assert":
            return self.add(("assert", node[1], nxt))
        if kind == "concat":
            for sub in reversed(node[1]):
                nxt = self.compile(sub, nxt)
            return nxt
        if kind == "alt":
            starts = [self.compile(sub, nxt) for sub in node[1]]
            state = starts[-1]
            for other in reversed(starts[:-1]):
                state = self.add(("split", other, state))
            return state
        if kind == "repeat":
            _, sub, lo, hi, _brace = node
            if hi is None:
                loop = self.add(None)
                self.states[loop] = ("split", self.compile(sub, loop), nxt)
                tail = loop
            else:
                tail = nxt
                for _ in range(hi - lo):
                    tail = self.add(("split", self.compile(sub, tail), tail))
            for _ in range(lo):
                tail = self.compile(sub, tail)
            return tail
        raise AssertionError(kind)  # pragma: no cover

    @staticmethod
    def assertion(kind: str, text: str, pos: int) -> bool:
        n = len(text)
        if kind == "bot":
            return pos == 0
        if kind == "eot":
            return pos == n
        if kind == "bol":
            return pos == 0 or text[pos - 1] == "\n"
        if kind == "eol":
            return pos == n or text[pos] == "\n"
        before = pos > 0 and _in_set(_WORD, ord(text[pos - 1]))
        after = pos < n and _in_set(_WORD, ord(text[pos]))
        return (before != after) == (kind == "wb")

    def closure(self, seeds, text: str, pos: int, out: set) -> bool:
        """Add the epsilon closure of seeds at pos to out; True if the match state is reached."""
        states = self.states
        stack = list(seeds)
        while stack:
            s = stack.pop()
            if s in out:
                continue
            out.add(s)
            st = states[s]
            kind = st[0]
            if kind == "match":
                return True
            if kind == "split":
                stack.append(st[2])
                stack.append(st[1])
            elif kind == "assert" and self.assertion(st[1], text, pos):
                stack.append(st[2])
        return False

    def search(self, text: str) -> bool:
        current: set = set()
        if self.closure([self.start], text, 0, current):
            return True
        for pos, ch in enumerate(text):
            cp = ord(ch)
            seeds = [st[2] for st in (self.states[s] for s in current) if st[0] == "char" and _in_set(st[1], cp)]
            seeds.append(self.start)  # unanchored: a match may start at every position
            current = set()
            if self.closure(seeds, text, pos + 1, current):
                return True
        return False


@lru_cache(maxsize=2048)
def _program(pattern: str) -> _Program:
    tree, issues = _parse(pattern)
    if issues:
        raise issues[0]
    return _Program(tree)


def regex_search(pattern: str, tag: str) -> bool:
    """RE2 semantics of an unanchored search of ``pattern`` in ``tag``.

    Computed by simulating the parsed pattern as an NFA (linear time, like RE2; Python's
    backtracking ``re`` could hang on patterns such as ``(a+)+b``).  Raises UnsupportedRegex
    when RE2 rejects the pattern (``re2_valid=False``) or when it uses something not
    emulated here (``\\p`` classes, (?i) on non-ASCII letters).
    """
    return _program(pattern).search(tag)


def python_matches(value: str, tag: str) -> bool:
    """Does a Codeship ``tag:`` value select a build whose tag is ``tag`` (jet semantics)?

    * exact string equality is tried first (jet 0.9.5), for plain and regex values alike;
    * a plain value (no ``^``/``$``) matches only by equality;
    * a regex value is searched for unanchored with RE2 semantics; a regex RE2 rejects
      never matches.

    For ``exclude:`` the step is skipped when this returns True.  Raises UnsupportedRegex
    (re2_valid=True) only for valid RE2 constructs that are not emulated (see regex_search).
    """
    if value == tag:
        return True
    if not is_regex(value):
        return False
    try:
        return regex_search(value, tag)
    except UnsupportedRegex as exc:
        if not exc.re2_valid:
            return False
        raise


# ---------------------------------------------------------------------------

_BASH_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\f": "\\f", "\v": "\\v",
                 "\a": "\\a", "\b": "\\b"}


def bash_quote(s: str) -> str:
    """Quote ``s`` as one bash word: ``'...'``, or ``$'...'`` when it holds control characters.

    Handy for writing a :func:`to_bash_ere` result (which may contain a raw newline or tab)
    into a generated script while keeping the script printable.
    """
    if not any(ord(c) < 0x20 or ord(c) == 0x7F for c in s):
        return "'" + s.replace("'", "'\\''") + "'"
    out = []
    for c in s:
        if c in _BASH_ESCAPES:
            out.append(_BASH_ESCAPES[c])
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append("\\x%02x" % ord(c))
        else:
            out.append(c)
    return "$'" + "".join(out) + "'"
