"""The catalogue of diagnostics: complete, used, its examples true, its page current, and
`codeship2compose explain`."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from translator.catalogue import CATALOGUE, CODES
from translator.cli import main
from translator.diagnostics import ERROR, WARNING, Diagnostics, Level
from translator.examples import run_example

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for p in sorted((ROOT / "translator").rglob("*.py")) + sorted((ROOT / "templates").iterdir())
           if p.is_file() and p.name != "catalogue.py"]


def _source_codes() -> dict[str, list[str]]:
    """Every "C2Cnnn" literal in translator/ and templates/ (but the catalogue), with where."""
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        for code in re.findall(r"C2C\d{3}", path.read_text(encoding="utf-8", errors="replace")):
            found.setdefault(code, []).append(path.name)
    return found


def test_every_code_the_source_uses_is_catalogued():
    missing = {code: where for code, where in _source_codes().items() if code not in CATALOGUE}
    assert missing == {}, "add a Code(...) entry to translator/catalogue.py for each"


def test_every_catalogued_code_is_used():
    assert sorted(set(CATALOGUE) - set(_source_codes())) == []


def test_codes_are_unique_and_well_formed():
    assert len(CATALOGUE) == len(CODES)
    for entry in CODES:
        assert re.fullmatch(r"C2C\d{3}", entry.code)
        assert isinstance(entry.level, Level)
        assert entry.title and entry.why.endswith(".") and entry.fix.endswith(".")


def test_call_sites_agree_with_the_catalogue_level():
    # diags.error("C2C…") / diags.warning("C2C…") / InputError("C2C…"): the method names the level
    # the author expected; the catalogue decides, and the two must not disagree.
    calls = re.compile(r'\.(error|warning)\(\s*"(C2C\d{3})"|InputError\(\s*"(C2C\d{3})"')
    seen = 0
    for path in SOURCES:
        for match in calls.finditer(path.read_text(encoding="utf-8", errors="replace")):
            level, code = (match.group(1), match.group(2)) if match.group(2) else ("error", match.group(3))
            assert CATALOGUE[code].level == level, f"{path.name}: {code} is a {CATALOGUE[code].level}"
            seen += 1
    assert seen > 50


def test_the_level_comes_from_the_catalogue():
    diags = Diagnostics()
    diags.warning("C2C105", "x")  # the catalogue says error
    diags.error("C2C104", "y")  # the catalogue says warning
    assert [d.level for d in diags.items] == [ERROR, WARNING]
    assert diags.has_errors


@pytest.mark.parametrize("entry", [e for e in CODES if e.example], ids=lambda e: e.code)
def test_each_example_produces_its_code(entry):
    found = run_example(entry)
    assert found, f"the example of {entry.code} does not produce it"
    assert all(d.loc and d.loc.file in (".", "codeship-services.yml", "codeship-steps.yml") for d in found)


def test_docs_diagnostics_md_is_current():
    spec = importlib.util.spec_from_file_location("update_diagnostics_doc",
                                                  ROOT / "scripts" / "update_diagnostics_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    assert module.document() == text, "run: python3 scripts/update_diagnostics_doc.py"
    for entry in CODES:
        assert f"\n## {entry.code}\n" in text


def test_explain_prints_the_entry_and_a_real_example():
    result = CliRunner().invoke(main, ["explain", "c2c301"], catch_exceptions=False)
    assert result.exit_code == 0
    entry = CATALOGUE["C2C301"]
    assert result.stdout.startswith(f"C2C301 (error): {entry.title}\n")
    assert entry.why in result.stdout and entry.fix in result.stdout
    assert "codeship-steps.yml:2:3: error[C2C301]: step 'test' uses service 'ap'" in result.stdout
    assert "hint: did you mean 'app'?" in result.stdout


def test_explain_a_code_without_a_runnable_example():
    result = CliRunner().invoke(main, ["explain", "C2C004"], catch_exceptions=False)
    assert result.exit_code == 0 and "nests" in result.stdout and "$ codeship2compose" not in result.stdout


@pytest.mark.parametrize("argv, hint", [(["C2C999"], "explain --list"), (["205"], "did you mean C2C205?"),
                                        ([], "Missing argument")])
def test_explain_an_unknown_code_is_a_usage_error(argv, hint):
    result = CliRunner().invoke(main, ["explain", *argv], catch_exceptions=False)
    assert result.exit_code == 2
    assert hint in result.stderr


@pytest.mark.parametrize("cwd", ["/", "tmp"])
def test_explain_names_the_example_files_alike_from_any_directory(cwd, monkeypatch):
    import tempfile

    monkeypatch.chdir(tempfile.gettempdir() if cwd == "tmp" else cwd)  # the example's parent, or not
    out = CliRunner().invoke(main, ["explain", "C2C301"], catch_exceptions=False).stdout
    assert "\n  codeship-steps.yml:2:3: error[C2C301]" in out
    out = CliRunner().invoke(main, ["explain", "C2C012"], catch_exceptions=False).stdout
    assert "\n  .: error[C2C012]: no services file in .\n" in out
