"""The README's conversion matrix is generated from the translator's rule table."""

import importlib.util
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_conversion_matrix_is_current():
    spec = importlib.util.spec_from_file_location("update_readme_matrix", README.parent / "scripts" /
                                                  "update_readme_matrix.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = README.read_text(encoding="utf-8")
    assert module.with_matrix(text) == text, "run: python3 scripts/update_readme_matrix.py"
    assert "| `volumes_from` | converted with a caveat |" in text
