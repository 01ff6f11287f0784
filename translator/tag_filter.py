"""Codeship `tag` / `exclude` filters: which build tags (branch or git tag names) select a step.

A value without `^` and `$` must equal the whole tag. A value with either is a Go (RE2) regex
searched for in the tag; jet compares the whole text first, and a regex Go rejects never
matches. The generated script matches with bash `[[ $tag =~ $ere ]]` (POSIX ERE), so
`to_bash_ere` converts the RE2 that people write for branch names: literals, `.`, escapes
(`\\d \\w \\s` and their negations, escaped punctuation, `\\t`, `\\x41`, `\\Q…\\E`), bracket
classes (ranges, negation, `[:alpha:]` names), groups (`(…)`, `(?:…)`, `(?P<name>…)`), `|`,
quantifiers (`* + ? {n,m}`, lazy or not: the yes/no answer is the same), anchors
(`^ $ \\A \\z`) and flags `(?i)` / `(?s)` at the start (after `^` at most). Anything else raises
UnsupportedRegex naming the construct and its offset; `re2_valid` tells a pattern Go rejects
(jet: it never matches) from valid RE2 that has no portable ERE.

Branch and tag names never contain a newline (git refuses control characters in ref names), so
RE2's `.` (anything but a newline) is written `.`. The tests hold a full RE2 reference matcher
(tests/re2_reference.py) that checks these conversions.
"""

from __future__ import annotations

import re

from .errors import UserError

_ERE_SPECIAL = set("^.[$()|*+?{\\")  # escaped with a backslash when literal
_REPEAT = re.compile(r"\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}")  # else `{` is a literal, as in Go
_ERE_DUP_MAX = 255  # the largest count every regcomp must accept
_RE2_MAX_REPEAT = 1000
_MAX_LISTED = 512  # non-ASCII characters a bracket lists one by one
_ASCII = frozenset(range(128))
_DIGIT = frozenset(range(48, 58))
_UPPER, _LOWER = frozenset(range(65, 91)), frozenset(range(97, 123))
_WORD = _DIGIT | _UPPER | _LOWER | {95}
_SPACE = frozenset(map(ord, "\t\n\f\r "))
_SHORTHANDS = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
_NAMED = {  # RE2's ASCII [:name:] classes
    "alnum": _DIGIT | _UPPER | _LOWER, "alpha": _UPPER | _LOWER, "ascii": _ASCII,
    "blank": frozenset(map(ord, "\t ")), "cntrl": frozenset(range(32)) | {127}, "digit": _DIGIT,
    "graph": frozenset(range(33, 127)), "lower": _LOWER, "print": frozenset(range(32, 127)),
    "punct": frozenset(c for c in range(33, 127) if not chr(c).isalnum()), "space": _SPACE | {11},
    "upper": _UPPER, "word": _WORD, "xdigit": _DIGIT | frozenset(map(ord, "ABCDEFabcdef")),
}
_ESCAPED_CONTROL = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
_RE2_REJECTS = {  # constructs people bring from other regex dialects
    "(?=": "lookahead assertions do not exist in RE2", "(?!": "lookahead assertions do not exist in RE2",
    "(?<=": "lookbehind assertions do not exist in RE2", "(?<!": "lookbehind assertions do not exist in RE2",
    "(?<": "named groups are written (?P<name>...) in the Go regexp jet was built with",
    "(?>": "atomic groups do not exist in RE2", "(?#": "comments do not exist in RE2",
    "(?P=": "backreferences do not exist in RE2",
}
_UNICODE_CLASSES = set("CLMNPSZ")  # one-letter \p classes
_FOLDS = {"k": "Kk\u212a", "s": "Ss\u017f"}  # RE2's case folding adds the Kelvin sign and long s


def _count(digits: str) -> int:
    """A repeat count; a count of many digits is only "too big" (int() refuses over 4,300 digits,
    and Go's regexp/syntax stops counting at 10^8 too)."""
    return int(digits) if len(digits) <= 8 else _RE2_MAX_REPEAT + 1


def is_regex(value: str) -> bool:
    """True when a `tag`/`exclude` value is a regex: it contains `^` or `$`."""
    return "^" in value or "$" in value


class UnsupportedRegex(UserError):
    """A filter regex that cannot be converted: `construct` at `offset` of `pattern`."""

    def __init__(self, pattern: str, construct: str, offset: int, why: str, re2_valid: bool,
                 suggestion: str = ""):
        self.pattern, self.construct, self.offset, self.re2_valid = pattern, construct, offset, re2_valid
        where = f"cannot convert `{construct}` at offset {offset} of regex `{pattern}`"
        if re2_valid:
            message = f"{where} to a POSIX ERE for bash [[ =~ ]]: {why}"
        else:
            message = (f"{where}: RE2 (Go regexp, used by jet) rejects it: {why}. jet never errors on an "
                       "invalid regex; the filter simply never matches")
        super().__init__(message + (f". Suggestion: {suggestion}" if suggestion else ""))


def to_bash_ere(pattern: str) -> str:
    """The POSIX ERE that matches the same branch and tag names as the RE2 `pattern`."""
    return _Converter(pattern).convert()


class _Converter:
    def __init__(self, pattern: str):
        self.p, self.i, self.fold = pattern, 0, False

    # --- errors ------------------------------------------------------------------------------
    def invalid(self, construct: str, offset: int, why: str, suggestion: str = "") -> UnsupportedRegex:
        return UnsupportedRegex(self.p, construct, offset, why, False, suggestion)

    def unsupported(self, construct: str, offset: int, why: str, suggestion: str) -> UnsupportedRegex:
        return UnsupportedRegex(self.p, construct, offset, why, True, suggestion)

    # --- grammar: alternation > sequence > quantified atom -------------------------------------
    def convert(self) -> str:
        ere, _ = self.alternation()
        if self.i < len(self.p):  # only a `)` stops an alternation early
            raise self.invalid(")", self.i, "unexpected ): no group is open")
        return ere

    def alternation(self) -> tuple[str, bool]:
        branches = [self.sequence()]
        while self.peek("|"):
            self.i += 1
            branches.append(self.sequence())
        texts = [text for text, _ in branches if text]
        nullable = any(n for _, n in branches)
        if len(texts) < len(branches):  # an empty branch: POSIX leaves `a|` undefined, write `(a)?`
            if not texts:
                return "", True
            inner = "|".join(texts)
            return ((f"({inner})" if len(texts) > 1 or not _is_atom(inner) else inner) + "?"), True
        return "|".join(texts), nullable

    def sequence(self) -> tuple[str, bool]:
        parts, nullable = [], True
        while self.i < len(self.p) and self.p[self.i] not in "|)":
            text, atom_nullable, is_anchor = self.atom()
            text, atom_nullable = self.quantified(text, atom_nullable, is_anchor)
            parts.append(text)
            nullable = nullable and atom_nullable
        return "".join(parts), nullable

    def atom(self) -> tuple[str, bool, bool]:
        """(ERE text, can it match the empty string, is it an anchor)"""
        p, start = self.p, self.i
        c = p[start]
        if c in "*+?" or (c == "{" and _REPEAT.match(p, start)):
            raise self.invalid(c, start, "missing argument to repetition operator")
        if c == "(":
            return self.group()
        if c == "[":
            return self.bracket(), False, False
        self.i += 1
        if c in "^$":
            return c, True, True
        if c == ".":
            return ".", False, False
        if c == "\\":
            return self.escape(start)
        return self.literal(c, start), False, False

    def group(self) -> tuple[str, bool, bool]:
        p, start = self.p, self.i
        for construct, why in _RE2_REJECTS.items():
            if p.startswith(construct, start) and not p.startswith("(?P<", start):
                raise self.invalid(construct, start, why)
        if p.startswith("(?:", start):
            self.i += 3
        elif p.startswith("(?P<", start):
            end = p.find(">", start)
            if end < 0 or not re.fullmatch(r"[A-Za-z0-9_]+", p[start + 4:end]):
                raise self.invalid("(?P<", start, "a group name is letters, digits and _ closed by >")
            self.i = end + 1
        elif p.startswith("(?", start):
            flags = re.match(r"\(\?[^):]*[):]?", p[start:]).group()  # type: ignore[union-attr]  # "(?" is there
            if re.fullmatch(r"\(\?[is]+\)", flags) and p[:start] in ("", "^", "\\A"):
                self.fold, self.i = self.fold or "i" in flags, start + len(flags)
                return "", True, False  # `.` already takes every character a ref name has
            if not re.fullmatch(r"\(\?(?:[imsU]+|[imsU]*-[imsU]+)[):]", flags):
                raise self.invalid(flags, start, "invalid or unsupported Perl syntax")
            raise self.unsupported(flags, start, "flags inside a pattern have no POSIX ERE equivalent",
                                   "put (?i) or (?s) at the very start of the pattern, or spell the "
                                   "letters out as [Aa] classes")
        else:
            self.i += 1
        inner, nullable = self.alternation()
        if not self.peek(")"):
            raise self.invalid("(", start, "missing closing )")
        self.i += 1
        return (f"({inner})" if inner else ""), nullable, False

    def quantified(self, text: str, nullable: bool, is_anchor: bool) -> tuple[str, bool]:
        p, start = self.p, self.i
        if start >= len(p):
            return text, nullable
        match = _REPEAT.match(p, start)
        if p[start] in "*+?":
            lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[p[start]]
            end = start + 1
        elif match:
            lo = _count(match.group(1))
            hi = lo if not match.group(2) else (_count(match.group(3)) if match.group(3) else None)
            end = match.end()
            if max(lo, hi or 0) > _RE2_MAX_REPEAT or (hi is not None and hi < lo):
                raise self.invalid(match.group(), start, "invalid repeat count")
            if max(lo, hi or 0) > _ERE_DUP_MAX:
                raise self.unsupported(match.group(), start, f"counts above {_ERE_DUP_MAX} are not portable",
                                       "use + or a smaller count")
        else:
            return text, nullable
        if p.startswith("?", end):
            end += 1  # lazy: the same yes/no answer as greedy
        following = _REPEAT.match(p, end)
        if end < len(p) and (p[end] in "*+?" or following):
            construct = p[start:(following.end() if following else end + 1)]
            raise self.invalid(construct, start, "bad repetition operator: a quantifier cannot follow another")
        self.i = end
        if is_anchor:
            raise self.unsupported(p[start - 1:end], start - 1, "a repeated anchor has no POSIX meaning",
                                   "drop the quantifier")
        if nullable and (hi is None or hi > 1):
            raise self.unsupported(p[start:end], start, "repeating a group that can match nothing makes "
                                   "glibc's matcher take exponential time", "make the group's content required")
        if not text:
            return "", True
        atom = text if _is_atom(text) else f"({text})"
        quantifier = {(0, None): "*", (1, None): "+", (0, 1): "?"}.get((lo, hi))
        if quantifier is None:
            quantifier = f"{{{lo}}}" if hi == lo else f"{{{lo},{'' if hi is None else hi}}}"
        return atom + quantifier, nullable or lo == 0

    # --- single characters -----------------------------------------------------------------------
    def literal(self, char: str, at: int) -> str:
        if self.fold and char.lower() != char.upper():
            if not char.isascii():
                raise self.unsupported(char, at, "with (?i), non-ASCII letters fold "
                                       "in ways POSIX classes cannot say", "list both cases in a [class]")
            return "[" + _FOLDS.get(char.lower(), char.upper() + char.lower()) + "]"
        return "\\" + char if char in _ERE_SPECIAL else char

    def escape(self, start: int) -> tuple[str, bool, bool]:
        p = self.p
        if start + 1 >= len(p):
            raise self.invalid("\\", start, "trailing backslash at end of expression")
        c = p[start + 1]
        self.i = start + 2
        if c in "Az":
            return ("^" if c == "A" else "$"), True, True
        if c == "Q":
            end = p.find("\\E", self.i)
            text, self.i = (p[self.i:], len(p)) if end < 0 else (p[self.i:end], end + 2)
            return "".join(self.literal(ch, start) for ch in text), not text, False
        chars = self.class_escape(start)
        if chars is not None:
            return _bracket(self.folded(chars, start)), False, False
        return self.literal(self.escaped_char(start), start), False, False

    def class_escape(self, start: int) -> frozenset | None:
        """The ASCII set of `\\d \\D \\w \\W \\s \\S` at start (None for other escapes); the negated
        forms include every non-ASCII character, marked by -1."""
        c = self.p[start + 1]
        if c.lower() in _SHORTHANDS:
            chars = _SHORTHANDS[c.lower()]
            return chars if c.islower() else (_ASCII - chars) | {-1}
        if c in "bBpP":
            braced = self.p.startswith("{", start + 2)
            construct = (self.p[start:self.p.find("}", start) + 1] if braced else
                         self.p[start:start + (2 if c in "bB" else 3)])
            if c in "pP" and not braced and construct[2:] not in _UNICODE_CLASSES:
                raise self.invalid(construct, start, "invalid character class range")
            if c in "bB":
                raise self.unsupported(construct, start, "word-boundary assertions are not part of POSIX ERE",
                                       "spell the boundary out, e.g. `(^|[^0-9A-Za-z_])word([^0-9A-Za-z_]|$)` "
                                       "for `\\bword\\b`")
            raise self.unsupported(construct, start, "Unicode classes have no portable POSIX ERE",
                                   "spell the characters out in a [class]")
        return None

    def escaped_char(self, start: int) -> str:
        """The character `\\x`, `\\x41`, `\\x{42}` or `\\t` stands for; self.i moves past it."""
        p, c = self.p, self.p[start + 1]
        if c == "x":
            match = re.compile(r"\\x(?:([0-9A-Fa-f]{2})|\{([0-9A-Fa-f]{1,6})\})").match(p, start)
            if not match or int(match.group(1) or match.group(2), 16) > 0x10FFFF:
                construct = re.compile(r"\\x(\{[^}]*\}?|.{0,2})").match(p, start).group()  # type: ignore[union-attr]
                raise self.invalid(construct, start, "invalid escape sequence")
            self.i = match.end()
            return chr(int(match.group(1) or match.group(2), 16))
        if c in _ESCAPED_CONTROL:
            return _ESCAPED_CONTROL[c]
        if c.isascii() and not c.isalnum():
            return c  # escaped punctuation is the character itself
        octal = re.compile(r"\\(0[0-7]{0,2}|[1-7][0-7]{1,2})").match(p, start)
        if octal:
            self.i = octal.end()
            return chr(int(octal.group(1), 8))
        if c.isdigit():
            raise self.invalid("\\" + c, start, "backreferences do not exist in RE2")
        raise self.invalid("\\" + c, start, "invalid escape sequence")

    # --- bracket classes ---------------------------------------------------------------------------
    def bracket(self) -> str:
        p, start = self.p, self.i
        self.i += 1
        negated = self.peek("^")
        self.i += negated
        chars: set[int] = set()
        first = True
        while True:
            if self.i >= len(p):
                raise self.invalid("[", start, "missing closing ]")
            c = p[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            name = re.compile(r"\[:(\^?)([a-z]*):\]").match(p, self.i)
            if name:
                if name.group(2) not in _NAMED:
                    raise self.invalid(name.group(), self.i, "unknown character class name")
                named = _NAMED[name.group(2)]
                chars |= ((_ASCII - named) | {-1}) if name.group(1) else named
                self.i = name.end()
                continue
            if c == "\\" and p.startswith(("\\b", "\\B"), self.i):
                raise self.invalid(p[self.i:self.i + 2], self.i, "invalid escape sequence in a class")
            if c == "\\" and self.i + 1 < len(p):
                shorthand = self.class_escape(self.i)
                if shorthand is not None:
                    chars |= shorthand
                    self.i += 2
                    continue
            lo = self.class_char()
            if self.peek("-") and self.i + 1 < len(p) and p[self.i + 1] != "]":
                range_at = self.i - 1
                self.i += 1
                hi = self.class_char()
                if hi < lo:
                    raise self.invalid(f"{chr(lo)}-{chr(hi)}", range_at, "invalid character class range")
                chars |= set(range(lo, hi + 1))
            else:
                chars.add(lo)
        chars = set(self.folded(frozenset(chars), start))
        if len(_non_ascii(chars)) > _MAX_LISTED:
            raise self.unsupported(p[start:self.i], start, "a wide range of non-ASCII characters has no "
                                   "portable ERE", "list the characters you mean")
        if -1 in chars:  # every non-ASCII character is in already
            chars -= set(_non_ascii(chars))
        if negated:
            if _non_ascii(chars):
                raise self.unsupported(p[start:self.i], start, "a negated class of non-ASCII characters "
                                       "has no portable ERE", "list the characters you mean instead")
            chars = set(_ASCII - chars) | ({-1} - chars)
            self.folded(frozenset(chars), start)
        return _bracket(frozenset(chars))

    def folded(self, chars: frozenset, start: int) -> frozenset:
        """With (?i), the class with every case of its letters (RE2 adds K and ſ to k and s)."""
        if not self.fold:
            return chars
        if -1 in chars and not chars.issuperset(map(ord, "KSks")):
            raise self.unsupported(self.p[start:self.i], start, "with (?i), a negated class leaves out "
                                   "the Kelvin sign or long s, which POSIX classes cannot say",
                                   "spell the letters out as [Aa] classes and drop (?i)")
        if any(chr(c).lower() != chr(c).upper() for c in _non_ascii(chars)):
            raise self.unsupported(self.p[start:self.i], start, "with (?i), non-ASCII letters fold in ways "
                                   "POSIX classes cannot say", "list both cases in the class")
        return chars | {ord(ch) for c in chars if 0 <= c < 128 and chr(c).isalpha()
                        for ch in _FOLDS.get(chr(c).lower(), chr(c).upper() + chr(c).lower())}

    def class_char(self) -> int:
        p, at = self.p, self.i
        if p[at] == "\\" and at + 1 < len(p):
            self.i = at + 2
            return ord(self.escaped_char(at))
        self.i = at + 1
        return ord(p[at])

    def peek(self, char: str) -> bool:
        return self.p.startswith(char, self.i)


def _non_ascii(chars) -> list[int]:
    return [c for c in chars if c >= 128]


def _is_atom(text: str) -> bool:
    """One ERE atom, so a quantifier applies to all of it: a character, an escape, a bracket
    expression or a group spanning the whole text."""
    if len(text) == 1 or (len(text) == 2 and text[0] == "\\"):
        return True
    if text[0] == "[":
        return _bracket_end(text, 0) == len(text)
    if text[0] == "(":
        depth, i = 0, 0
        while i < len(text):
            if text[i] == "\\":
                i += 2
                continue
            if text[i] == "[":
                i = _bracket_end(text, i)
                continue
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if depth == 0:
                return i == len(text) - 1
            i += 1
    return False


def _bracket_end(text: str, start: int) -> int:
    i = start + 1 + text.startswith("^", start + 1)
    i += text.startswith("]", i)
    return text.index("]", i) + 1


def _bracket(chars: frozenset) -> str:
    """A portable bracket expression for a set of code points (-1: every non-ASCII character)."""
    negate = -1 in chars
    members = sorted((_ASCII - chars) if negate else chars)
    if negate and not members:
        return "."
    if not negate and len(members) == 1:
        c = chr(members[0])
        return "\\" + c if c in _ERE_SPECIAL else c
    text, close, dash, caret = [], False, False, False
    for lo, hi in _runs(members):
        for a, b in _portable_ranges(lo, hi):
            if (a, b) == (93, 93):
                close = True
            elif (a, b) == (45, 45):
                dash = True
            elif (a, b) == (94, 94):
                caret = True
            else:
                text.append(chr(a) if a == b else f"{chr(a)}-{chr(b)}" if b > a + 1 else chr(a) + chr(b))
    body = ("]" if close else "") + "".join(text)
    if caret and not body and not negate:  # a caret first would negate: put the dash before it
        body, dash, caret = ("-^" if dash else "^"), False, False
    body += ("^" if caret else "") + ("-" if dash else "")
    return ("[^" if negate else "[") + body + "]"


def _runs(members: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for c in members:
        if runs and runs[-1][1] == c - 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    return runs


def _portable_ranges(lo: int, hi: int):
    """Split a run so that ranges stay inside 0-9, A-Z or a-z (whose order every locale keeps),
    and every other character is listed; ], - and ^ come out alone, for _bracket to place."""
    start = lo
    for c in range(lo, hi + 1):
        block = _block(c)
        if c == hi or _block(c + 1) != block or block is None:
            if block is None:
                yield from ((x, x) for x in range(start, c + 1))
            else:
                yield start, c
            start = c + 1


def _block(c: int) -> int | None:
    for n, (a, b) in enumerate(((48, 57), (65, 90), (97, 122))):
        if a <= c <= b:
            return n
    return None
