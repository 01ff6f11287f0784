"""YAML for pipeline files: keys in the order given, multi-line scripts as literal blocks."""

from __future__ import annotations

import re

import yaml

from .. import __version__
from ..outputs import MARKER, comment_text, project_line, stamp


class _Dumper(yaml.SafeDumper):
    pass


# Characters a YAML 1.2 parser reads differently from PyYAML's plain/single-quoted output (line
# separators), or that cannot stand raw in a file: such a string is written double-quoted, escaped.
_SPECIAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\u202a-\u202e\u2066-\u2069]")


# What YAML 1.2's core schema reads as a number, boolean or null (PyYAML, a YAML 1.1 writer,
# would leave some of these plain: `1e3`): such a string is quoted.
_CORE_12 = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
                      r"|0o[0-7]+|0x[0-9a-fA-F]+|true|True|TRUE|false|False|FALSE|null|Null|NULL|~")


def _str(dumper, value: str):
    style = ('"' if _SPECIAL.search(value) else "|" if "\n" in value
             else "'" if _CORE_12.fullmatch(value) else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(type(None), lambda dumper, _: dumper.represent_scalar("tag:yaml.org,2002:null", ""))


def one_line(text: str) -> str:
    """TEXT on one line, without control, line-separator or bidirectional characters: a set-up
    item in a comment line of the pipeline file or on the terminal."""
    return " ".join(_SPECIAL.sub(" ", text).split())


def dump(document: dict, what: str, source: str, project: str = ".", notes: list[str] | None = None) -> str:
    """The pipeline file: its header (with the project it belongs to: its folder relative to the
    repository's root; notes: the set-up items, numbered comment lines), the document, and the
    checksum line."""
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=100_000)
    head = (f"# {MARKER} {__version__} from {comment_text(source)}: {what}.\n"
            "# To regenerate it: `codeship2compose translate` (`--check` says whether it is stale). Edit it by\n"
            "# hand once the Codeship files are gone: translate then keeps your edits unless --force.\n"
            + project_line(project))
    if notes:
        import textwrap

        head += "#\n# Set up before the first run:\n"
        for n, item in enumerate(notes, 1):
            head += "".join(line + "\n" for line in textwrap.wrap(one_line(item), 98, initial_indent=f"# {n}. ",
                                                                   subsequent_indent="#    "))
    return stamp(head + body)
