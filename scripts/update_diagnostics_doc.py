"""Rewrite docs/diagnostics.md from translator/catalogue.py: python3 scripts/update_diagnostics_doc.py

Each example is run through `check`, so the page shows the diagnostic the code really prints.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "diagnostics.md"


def example_output(entry) -> str:
    """What `codeship2compose check` prints for the entry's example, its own code's lines only."""
    from translator.examples import run_example
    from translator.reporters import diagnostic_text

    return "\n".join(diagnostic_text(d) for d in run_example(entry))


def document() -> str:
    from translator.catalogue import CODES

    lines = [
        "# Diagnostics",
        "",
        "<!-- Generated from translator/catalogue.py by scripts/update_diagnostics_doc.py; do not edit. -->",
        "",
        "Every diagnostic `codeship2compose check` and `translate` can print, as "
        "`FILE:LINE:COLUMN: LEVEL[CODE]: message` with a `hint:` line. "
        "`codeship2compose explain CODE` prints the same explanation. Errors stop the translation "
        "(exit 1); warnings do not, unless `--strict`.",
        "",
        "| code | level | title |",
        "|---|---|---|",
        *(f"| [{e.code}](#{e.code.lower()}) | {e.level} | {e.title} |" for e in CODES),
        "",
    ]
    for e in CODES:
        lines += [f"## {e.code}", "", f"**{e.level}: {e.title}**", "", e.why, "", f"**How to fix:** {e.fix}", ""]
        if not e.example:
            continue
        lines += ["**Example:**", ""]
        for name, text in (("codeship-services.yml", e.services), ("codeship-steps.yml", e.steps)):
            if text is None:
                lines += [f"no `{name}`", ""]
            else:
                lines += [f"`{name}`:", "", "```yaml", text.rstrip("\n"), "```", ""]
        lines += ["```console", "$ codeship2compose check", example_output(e), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    DOC.write_text(document(), encoding="utf-8")
    sys.exit(0)
