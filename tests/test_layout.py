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


def test_only_outputs_py_writes_the_outputs():
    """Issue 21: the atomic-write layer (translator/outputs.py) is the one place every output of
    translate and audit goes through. Other writes are only: init-example's demo files (into a new
    or empty folder), encrypt/decrypt/generate's key and secret files (their own atomic write) and
    the catalogue examples' temporary folder."""
    import re

    writes = re.compile(r"\.write_text\(|\.write_bytes\(|\bopen\([^)]*['\"][wax]b?['\"]|os\.(?:replace|rename)\(|"
                        r"mkstemp\(|fdopen\(")
    allowed = {"translator/outputs.py": None, "translator/cli.py": {"init_example", "_write_secret_output"},
               "translator/examples.py": {"run_example"}}
    found: dict[str, set[str]] = {}
    for path in (ROOT / "translator").rglob("*.py"):
        function = ""
        for line in path.read_text(encoding="utf-8").splitlines():
            if (m := re.match(r"\s*def (\w+)", line)) and not line.startswith(" " * 8):
                function = m.group(1)
            if writes.search(line):
                found.setdefault(str(path.relative_to(ROOT)), set()).add(function)
    stray = {f: fns for f, fns in found.items()
             if f not in allowed or (allowed[f] is not None and not fns <= allowed[f])}
    assert stray == {}, "write outputs through translator/outputs.py (write_outputs)"
