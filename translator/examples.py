"""The catalogue's examples, run: what `check` (or `translate --ci`) really says for each code's
example files. `codeship2compose explain CODE`, scripts/update_diagnostics_doc.py and
tests/test_catalogue.py use it; it sits on the top floor, next to the CLI, because it runs the
whole translator (the catalogue itself is data and imports nothing)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .api import check, translate
from .catalogue import CATALOGUE, Code
from .diagnostics import Diagnostic
from .reporters import diagnostic_text


def run_example(entry: Code) -> list[Diagnostic]:
    """The diagnostics of this code that `check` gives for the entry's example (file names
    relative to the example's directory)."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in (("codeship-services.yml", entry.services), ("codeship-steps.yml", entry.steps)):
            if text is not None:
                Path(tmp, name).write_text(text, encoding="utf-8")
        if entry.code.startswith("C2C7"):  # found while planning the CI pipelines (C2C762: translating): translate --ci
            diagnostics = translate(Path(tmp), ci=("github",)).diagnostics
        else:
            diagnostics = check(Path(tmp)).diagnostics

    def here(text: str) -> str:  # the example's directory is "."
        for prefix in prefixes:
            text = text.replace(prefix + os.sep, "").replace(prefix, ".")
        return text

    # messages name the directory as given, or relative to the current directory when below it
    prefixes = sorted({tmp, os.path.realpath(tmp), os.path.relpath(tmp), os.path.relpath(os.path.realpath(tmp))}
                      - {"."}, key=len, reverse=True)
    out = []
    for d in diagnostics:
        if d.code == entry.code:
            loc = d.loc._replace(file=here(d.loc.file)) if d.loc else None
            out.append(d._replace(message=here(d.message), hint=d.hint and here(d.hint), loc=loc))
    return out


def explain(code: str, every: str = "Every code: docs/diagnostics.md") -> str:
    """The catalogue entry as text, for `codeship2compose explain CODE`; `every` says where the
    other codes are."""
    entry = CATALOGUE[code]
    text = f"{entry.code} ({entry.level}): {entry.title}\n\n{entry.why}\n\nHow to fix: {entry.fix}\n"
    if entry.example:
        text += "\nExample:\n"
        for name, body in (("codeship-services.yml", entry.services), ("codeship-steps.yml", entry.steps)):
            text += f"\n  no {name}\n" if body is None else f"\n  {name}:\n" + "".join(
                f"    {line}\n" for line in body.splitlines())
        text += "\n  $ codeship2compose check\n" + "".join(
            f"  {line}\n" for d in run_example(entry) for line in diagnostic_text(d).splitlines())
    return text + f"\n{every}\n"
