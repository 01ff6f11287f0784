"""Small builders for tests: a Codeship project on disk from inline YAML."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from translator.api import check, translate
from translator.reporters import diagnostic_text


def write_project(root: Path, services: str, steps: str | None = "", **files: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "codeship-services.yml").write_text(textwrap.dedent(services))
    if steps is not None:
        (root / "codeship-steps.yml").write_text(textwrap.dedent(steps) if steps else
                                                 "- service: app\n  command: 'true'\n")
    for name, text in files.items():
        path = root / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def translate_to_disk(root: Path, **options) -> None:
    """Translate the project in root and write its outputs there, as the CLI does."""
    from translator.outputs import write_outputs

    result = translate(root, **options)
    assert result.ok, [diagnostic_text(d) for d in result.diagnostics]
    write_outputs(result.outputs, modes=result.modes)


def run_cli(*args: str, cwd: Path | None = None):
    """`codeship2compose ARGS...` in-process (click's runner), from cwd when given."""
    from click.testing import CliRunner

    from translator.cli import main

    old = os.getcwd()
    if cwd:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


def diag(result, code: str):
    matches = [d for d in result.diagnostics if d.code == code]
    assert matches, f"no {code} in {[diagnostic_text(d) for d in result.diagnostics]}"
    return matches[0]


__all__ = ["write_project", "translate_to_disk", "run_cli", "codes", "diag", "check", "translate"]


def runtime_file() -> Path:
    """The runtime as every script carries it (its rooms joined), in a file tests can source."""
    import tempfile

    from translator.emit import runtime_parts

    path = Path(tempfile.gettempdir()) / f"c2c-runtime-{os.getpid()}.bash"
    path.write_text(runtime_parts()[0], encoding="utf-8")
    return path
