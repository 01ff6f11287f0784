"""The house rules a reader relies on: every source file small enough to read at once."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_source_file_is_over_800_lines():
    sources = [*(ROOT / "translator").rglob("*.py"), *(ROOT / "templates").rglob("*.bash"),
               *(ROOT / "templates").rglob("*.j2")]
    assert sources
    too_long = {str(path.relative_to(ROOT)): n for path in sources
                if (n := len(path.read_text(encoding="utf-8").splitlines())) > 800}
    assert too_long == {}, "split these by topic"
