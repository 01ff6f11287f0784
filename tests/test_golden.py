"""Golden cases: each golden/<case>/ translates to exactly its expected/ files.

A case is `input/` (a Codeship project) or `source` (the name of a folder in ../shared/corpus),
plus an optional `options` file (extra `translate` arguments, one per line) and `expected/`
(compose.yaml, codeship-steps.sh, report.md — the migration report — and diagnostics.txt: what
translate printed on stderr; compose.override.yaml, the local-development file, where the case has
one, and only there). For codeship-steps.sh, expected/ holds the project's part only — the lines
up to the runtime's fence, with the checksum (which covers the runtime too) left out — and a
separate test checks that what follows the fence is the runtime, verbatim.
`pytest --update-golden` rewrites expected/; review that diff like code.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from translator.cli import main
from translator.emit import FENCE, runtime_parts

from compose_schema import compose_schema_errors
from conftest import CORPUS, GOLDEN, copy_project, need_tool

CASES = sorted(p for p in GOLDEN.iterdir() if p.is_dir()) if GOLDEN.is_dir() else []
OUTPUTS = ("compose.yaml", "codeship-steps.sh", "report.md", "diagnostics.txt")
OVERRIDE = "compose.override.yaml"  # written only where a case needs it
_CHECKSUM = re.compile(rb"(# codeship2compose sha256 )[0-9a-f]{64}")


def project_part(script: bytes) -> bytes:
    """The part of a script that depends on the project: up to and including the fence."""
    fence = FENCE.encode() + b"\n"
    assert script.count(fence) == 1, "the runtime's fence is missing or repeated"
    head = script[:script.index(fence) + len(fence)]
    return _CHECKSUM.sub(rb"\1(covers the runtime too: not compared)", head)


def _source(case: Path) -> Path:
    if (case / "source").is_file():
        src = CORPUS / (case / "source").read_text().strip()
        if not src.is_dir():
            pytest.skip(f"corpus folder {src} is not available")
        return src
    return case / "input"


def translate_case(case: Path, dest: Path, source: Path | None = None) -> tuple[Path, int, str]:
    """Copy the case's project to dest, translate it there; returns (dir, exit code, stderr)."""
    project = copy_project(source or _source(case), dest)
    options = (case / "options").read_text().split() if (case / "options").is_file() else []
    cwd = os.getcwd()
    os.chdir(project)  # diagnostics name files relative to the current directory
    try:
        result = CliRunner().invoke(main, ["translate", ".", "--report", "report.md", *options],
                                    catch_exceptions=False)
    finally:
        os.chdir(cwd)
    return project, result.exit_code, result.stderr


@pytest.fixture(scope="module")
def translated(tmp_path_factory):
    cache: dict[Path, tuple[Path, int, str]] = {}

    def get(case: Path):
        if case not in cache:
            source = _source(case)  # skips before making the directory when the corpus is missing
            cache[case] = translate_case(case, tmp_path_factory.mktemp(case.name, numbered=False), source)
        return cache[case]

    return get


def test_there_are_golden_cases():
    assert len(CASES) >= 5


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_output_is_byte_identical(case: Path, translated, update_golden):
    project, code, stderr = translated(case)
    assert code == 0, stderr
    actual = {
        "compose.yaml": (project / "compose.yaml").read_bytes(),
        "codeship-steps.sh": project_part((project / "codeship-steps.sh").read_bytes()),
        "report.md": (project / "report.md").read_bytes(),
        "diagnostics.txt": stderr.encode(),
    }
    if (project / OVERRIDE).is_file():
        actual[OVERRIDE] = (project / OVERRIDE).read_bytes()
    expected_dir = case / "expected"
    if update_golden:
        expected_dir.mkdir(exist_ok=True)
        for name, data in actual.items():
            (expected_dir / name).write_bytes(data)
        if OVERRIDE not in actual:
            (expected_dir / OVERRIDE).unlink(missing_ok=True)
    for name in OUTPUTS:
        expected = (expected_dir / name).read_bytes()
        assert actual[name] == expected, f"{case.name}/{name} differs; run pytest --update-golden and review"
    assert (OVERRIDE in actual) == (expected_dir / OVERRIDE).is_file(), \
        f"{case.name}/{OVERRIDE} is {'new' if OVERRIDE in actual else 'gone'}; run pytest --update-golden and review"
    if OVERRIDE in actual:
        assert actual[OVERRIDE] == (expected_dir / OVERRIDE).read_bytes(), \
            f"{case.name}/{OVERRIDE} differs; run pytest --update-golden and review"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_script_ends_with_the_runtime_verbatim(case: Path, translated):
    """Below the fence, every script is the same runtime (tested on its own in test_pipeline.py)."""
    project, _, _ = translated(case)
    script = (project / "codeship-steps.sh").read_text()
    runtime, decrypt = runtime_parts()
    assert script.split(FENCE + "\n", 1)[1] == runtime + "\n" + decrypt + "\n" + 'c2c_main "$@"\n'


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_compose_matches_the_compose_schema(case: Path, translated):
    project, _, _ = translated(case)
    document = yaml.safe_load((project / "compose.yaml").read_text())
    assert compose_schema_errors(document) == []
    if (project / OVERRIDE).is_file():
        assert compose_schema_errors(yaml.safe_load((project / OVERRIDE).read_text())) == []


@pytest.mark.parametrize("compose", [("docker", "compose"), ("docker-compose",)], ids=["v2", "v1"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_compose_is_accepted_by_compose(case: Path, compose: tuple[str, ...], translated):
    need_tool(*compose, "version")
    project, _, _ = translated(case)
    files = ["-f", "compose.yaml"] + (["-f", OVERRIDE] if (project / OVERRIDE).is_file() else [])
    result = subprocess.run([*compose, *files, "config", "-q"], cwd=project,
                            capture_output=True, text=True, env={**os.environ, "C2C_RUN_ID": "c2ctest"})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_script_passes_shellcheck_and_bash_n(case: Path, translated):
    need_tool("shellcheck", "--version")
    project, _, _ = translated(case)
    script = project / "codeship-steps.sh"
    assert os.access(script, os.X_OK)
    check = subprocess.run(["shellcheck", "-S", "style", str(script)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_script_lists_its_steps(case: Path, translated):
    project, _, _ = translated(case)
    listing = subprocess.run([str(project / "codeship-steps.sh"), "--list"], capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.startswith("Steps of ")
