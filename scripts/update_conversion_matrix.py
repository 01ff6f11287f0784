"""Rewrite the conversion matrix in docs/migration.md from translator/rules.py: python3 scripts/update_conversion_matrix.py"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "docs" / "migration.md"
START, END = "<!-- conversion-matrix:start -->", "<!-- conversion-matrix:end -->"


def with_matrix(text: str) -> str:
    from translator.rules import conversion_matrix

    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    return pattern.sub(lambda _: f"{START}\n{conversion_matrix()}{END}", text, count=1)


if __name__ == "__main__":
    README.write_text(with_matrix(README.read_text(encoding="utf-8")), encoding="utf-8")
    sys.exit(0)
