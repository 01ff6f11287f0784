"""The reporters: the CLI's output is byte for byte what it was before the reporter layer (the
snapshot in tests/data/reporters was taken from the code before), and SARIF is well formed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from translator.cli import main

SNAPSHOT = Path(__file__).parent / "data" / "reporters" / "cli-output-before-reporters.json"
BAD = "app:\n  image: busybox\n  privileged: true\n  links: [db]\n  command: \"100% done\\nok\"\n"
WARN = "app:\n  image: busybox\n  privileged: true\n"
OK = "app:\n  image: busybox\n"
STEPS = "- service: app\n  command: 'true'\n"


def _cases():
    """(name, services, steps, extra files, argv): the outputs the snapshot holds."""
    cases = []
    for fmt in ("text", "json", "github"):
        cases += [(f"check-bad-{fmt}", BAD, STEPS, {}, ["check", ".", "--format", fmt]),
                  (f"check-warn-{fmt}", WARN, STEPS, {}, ["check", ".", "--format", fmt]),
                  (f"check-warn-strict-{fmt}", WARN, STEPS, {}, ["check", ".", "--format", fmt, "--strict"]),
                  (f"check-ok-{fmt}", OK, STEPS, {}, ["check", ".", "--format", fmt])]
    return cases + [
        ("check-nosteps", WARN, None, {}, ["check", "."]),
        ("translate-bad", BAD, STEPS, {}, ["translate", "."]),
        ("translate-bad-report", BAD, STEPS, {}, ["translate", ".", "--report", "r.md"]),
        ("translate-strict", WARN, STEPS, {}, ["translate", ".", "--strict"]),
        ("translate-in-the-way", WARN, STEPS, {"compose.yaml": "mine\n"}, ["translate", "."]),
        ("translate-ok", WARN, STEPS, {}, ["translate", "."]),
        ("encrypt-bad-key", WARN, STEPS, {"k": "not base64!\n", "x": "A=b\n"},
         ["encrypt", "x", "y", "--key-path", "k"]),
        ("generate-exists", WARN, STEPS, {"x": "A=b\n", "y": ""}, ["generate", "--key-path", "x"]),
    ]


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_cli_output_is_byte_identical_to_before_the_reporters(case, tmp_path, monkeypatch):
    name, services, steps, files, argv = case
    (tmp_path / "codeship-services.yml").write_text(services)
    if steps is not None:
        (tmp_path / "codeship-steps.yml").write_text(steps)
    for file, text in files.items():
        (tmp_path / file).write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CODESHIP_AES_KEY", raising=False)
    result = CliRunner().invoke(main, argv, catch_exceptions=False)
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))[name]
    assert [result.exit_code, result.stdout, result.stderr] == expected


def test_every_snapshot_is_compared():
    assert set(json.loads(SNAPSHOT.read_text(encoding="utf-8"))) == {c[0] for c in CASES}


def test_sarif_names_each_rule_from_the_catalogue(tmp_path, monkeypatch):
    from translator.catalogue import CATALOGUE

    (tmp_path / "codeship-services.yml").write_text(BAD)
    (tmp_path / "codeship-steps.yml").write_text(STEPS)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", ".", "--format", "sarif"], catch_exceptions=False)
    assert result.exit_code == 1
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["C2C104", "C2C303"]
    assert rules[1]["shortDescription"]["text"] == CATALOGUE["C2C303"].title
    results = {r["ruleId"]: r for r in run["results"]}
    link = results["C2C303"]
    assert link["level"] == "error" and rules[link["ruleIndex"]]["id"] == "C2C303"
    assert link["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "codeship-services.yml"}, "region": {"startLine": 4, "startColumn": 11}}
    assert results["C2C104"]["level"] == "warning"


def test_sarif_without_diagnostics_is_an_empty_run(tmp_path, monkeypatch):
    (tmp_path / "codeship-services.yml").write_text(OK)
    (tmp_path / "codeship-steps.yml").write_text(STEPS)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", ".", "--format", "sarif"], catch_exceptions=False)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["runs"][0]["results"] == []


def test_only_the_cli_and_the_reporters_format_diagnostics():
    # The formats live in translator/reporters.py (and the exceptions' own str() in errors.py):
    # no other module spells them.
    root = Path(__file__).resolve().parents[1] / "translator"
    spelled = [p.name for p in root.glob("*.py") if p.name not in ("reporters.py", "errors.py")
               and ("hint: {" in p.read_text() or "::{d.level}" in p.read_text())]
    assert spelled == []
    assert os.path.isfile(root / "reporters.py")


def test_a_user_error_no_command_handled_is_reported_not_raised(tmp_path, monkeypatch):
    from translator import api
    from translator.gotemplate import TemplateError

    def fail(*_args, **_kwargs):
        raise TemplateError("the template is broken", "write it again")

    monkeypatch.setattr(api, "check", fail)
    result = CliRunner().invoke(main, ["check", str(tmp_path)], catch_exceptions=False)
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", "error: the template is broken\n  hint: write it again\n")


def test_any_other_exception_is_a_bug_and_keeps_its_traceback(tmp_path, monkeypatch):
    from translator import api

    def fail(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(api, "check", fail)
    with pytest.raises(RuntimeError, match="a bug"):
        CliRunner().invoke(main, ["check", str(tmp_path)], catch_exceptions=False)


def test_every_exception_the_package_raises_on_purpose_is_a_user_error():
    from translator.codeship_aes import AesError
    from translator.commands import CommandSyntaxError
    from translator.diagnostics import InputError
    from translator.outputs import OutputError
    from translator.errors import UserError
    from translator.gotemplate import TemplateError
    from translator.tag_filter import UnsupportedRegex

    for cls in (AesError, CommandSyntaxError, InputError, OutputError, TemplateError, UnsupportedRegex):
        assert issubclass(cls, UserError), cls
    exc = OutputError(Path("x"), "in the way", "move it")
    assert (exc.message, exc.hint, str(exc)) == ("in the way", "move it", "in the way (hint: move it)")
    assert InputError("C2C006", "dup", hint="remove one").diagnostic.level == "error"
