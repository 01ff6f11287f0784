"""A user's text in the documents we write for people: the migration report's Markdown (and the
HTML a Markdown renderer lets through) and its Mermaid flowchart. A name from a Codeship file is
text in each of them, never markup: one function per language escapes it.

- `visible`: characters that break or reorder a line (newlines, tabs, bidi overrides, zero-width
  and other format characters) are shown as `\\n`, `\\t`, `\\u202e`; every other character stays.
- `md_text`: Markdown text, where GitHub's renderer would otherwise find headings, lists, links,
  autolinks, emphasis, code, math, tables or raw HTML (`<img onerror=…>`): ASCII punctuation that
  means something there is backslash-escaped, which CommonMark renders as the character itself
  (`\\<` is `&lt;` in the HTML); an `@` follows an empty comment, which keeps GFM from making
  an e-mail link of it.
- `md_code`: a Markdown code span holding the text, whatever backticks it has.
- `mermaid_text`: the inside of a quoted Mermaid label (`["…"]`), which Mermaid renders as HTML:
  every character but letters, digits and plain punctuation becomes an entity code (`#quot;`,
  `#35;`), so no quote ends the label, no `%%{…}%%` is a directive, no line ends the fence.
- `Prose`: a sentence of ours (Markdown) with a user's values in it; `markdown()` escapes the
  values, `str()` gives them as they are (for the JSON report).
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
_INVISIBLE = ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn")
# Punctuation that means something anywhere in a Markdown line (CommonMark lets a backslash
# escape any of it): code, emphasis, links and images, raw HTML and entities, tables,
# strikethrough and GitHub's math (`$`).
_MD_SPECIAL = frozenset("\\`*_[]<>&|~$")
# … and what only starts a block (a heading, list, quote, setext line) where the text starts one
_MD_BLOCK_START = re.compile(r"[#+\-*>=]|\d{1,9}(?=[.)])")
# GFM's extended autolinks: `www.` and `scheme://`
_MD_AUTOLINK = re.compile(r"(?i)(?<=www)\.|:(?=//)")
_MERMAID_SAFE = frozenset(" _.,:;/()'-+?!*=@")
_MERMAID_NAMED = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;"}


def visible(text: str) -> str:
    out = []
    for c in str(text):
        if c in _CONTROL:
            out.append(_CONTROL[c])
        elif unicodedata.category(c) in _INVISIBLE:
            out.append(f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
        else:
            out.append(c)
    return "".join(out)


def md_text(text: str) -> str:
    text = visible(text)
    start = _MD_BLOCK_START.match(text)
    head = ""
    if start:  # `#`, `-`, `1.` …: escape the character that makes the block
        end = start.end() + (1 if start.group()[0].isdigit() else 0)
        head, text = text[:end - 1] + "\\" + text[end - 1], text[end:]
    elif text.startswith(" "):
        stripped = text.lstrip(" ")
        head, text = "&#32;" * (len(text) - len(stripped)), stripped  # indented code, else
    text = "".join("\\" + c if c in _MD_SPECIAL else c for c in text)
    text = _MD_AUTOLINK.sub(lambda m: "\\" + m.group(), text)
    # cmark-gfm finds e-mail autolinks after parsing, in text an escape does not split: an empty
    # HTML comment does (GitHub drops comments)
    return head + text.replace("@", "<!-- -->@")


def md_code(text: str, table: bool = False) -> str:
    """A code span (in a table row, `|` is escaped: GFM splits cells first)."""
    body = visible(text)
    fence = "`" * (max((len(run) for run in re.findall("`+", body)), default=0) + 1)
    if body[:1] in ("`", " ") or body[-1:] in ("`", " "):
        body = f" {body} "  # CommonMark strips one space from each side
    if table:
        body = body.replace("|", "\\|")
    return f"{fence}{body}{fence}"


def mermaid_text(text: str) -> str:
    out = []
    for c in visible(text):
        if c.isalnum() or c in _MERMAID_SAFE:
            out.append(c)
        else:
            out.append(_MERMAID_NAMED.get(c, f"#{ord(c)};"))
    return "".join(out)


class Code(str):
    """A value Prose shows as code."""


class Prose:
    """Prose("Push step '{}' pushes {}.", name, image): the template is ours (Markdown, `{}` for
    each value); the values are a user's text (a Code one is shown as code)."""

    __slots__ = ("template", "values")

    def __init__(self, template: str, *values: object):
        self.template, self.values = template, values

    def __str__(self) -> str:
        return self.template.format(*(str(v) for v in self.values))

    def __repr__(self) -> str:
        return f"Prose({str(self)!r})"

    def __contains__(self, text: str) -> bool:
        return text in str(self)

    def markdown(self) -> str:
        return self.template.format(*(md_code(v) if isinstance(v, Code) else md_text(str(v))
                                      for v in self.values))
