"""YAML for pipeline files: keys in the order given, multi-line scripts as literal blocks."""

from __future__ import annotations

import yaml

from .. import __version__
from ..outputs import MARKER, project_line, stamp


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(type(None), lambda dumper, _: dumper.represent_scalar("tag:yaml.org,2002:null", ""))


def dump(document: dict, what: str, source: str, project: str = ".") -> str:
    """The pipeline file: its header (with the project it belongs to: its folder relative to the
    repository's root), the document, and the checksum line."""
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=100_000)
    head = (f"# {MARKER} {__version__} from {source}: {what}.\n"
            "# To regenerate it: `codeship2compose translate` (`--check` says whether it is stale). Edit it by\n"
            "# hand once the Codeship files are gone: translate then keeps your edits unless --force.\n"
            + project_line(project))
    return stamp(head + body)
