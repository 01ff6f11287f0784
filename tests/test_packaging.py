"""What `pip install .` pulls: only what a user needs; the rest is in an extra."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from conftest import REPO
from helpers import write_project

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _name(requirement: str) -> str:
    for i, char in enumerate(requirement):
        if not (char.isalnum() or char in "-_."):
            return requirement[:i]
    return requirement


def _third_party_imports(directory: Path) -> dict[str, set[str]]:
    """Distribution → the modules of `directory` that import it (stdlib and own modules excluded)."""
    owners = packages_distributions()
    own = {"translator", "tests", *(p.stem for p in directory.glob("*.py"))}
    found: dict[str, set[str]] = {}
    for path in directory.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in own:
                    continue
                for dist in owners.get(top, [top]):
                    found.setdefault(dist.lower(), set()).add(path.name)
    return found


def test_runtime_dependencies_are_exactly_what_the_package_imports():
    required = {_name(r).lower() for r in PYPROJECT["dependencies"]}
    crypto = {_name(r).lower() for r in PYPROJECT["optional-dependencies"]["crypto"]}
    imported = _third_party_imports(REPO / "translator")
    assert crypto == {"cryptography"}
    assert imported["cryptography"] == {"codeship_aes.py"}  # encrypt/decrypt only
    assert required == set(imported) - crypto


def test_the_test_extra_has_what_the_tests_import():
    declared = {_name(r).lower() for r in PYPROJECT["dependencies"]}
    for extra in PYPROJECT["optional-dependencies"].values():
        declared |= {_name(r).lower() for r in extra}
    imported = set(_third_party_imports(REPO / "tests"))
    assert {"jsonschema", "check-jsonschema"} <= {_name(r).lower() for r in
                                                   PYPROJECT["optional-dependencies"]["test"]}
    assert imported <= declared


WITHOUT_CRYPTOGRAPHY = ("import sys; sys.modules['cryptography'] = None  # as if not installed\n"
                        "from translator.cli import main; main(sys.argv[1:])\n")


def _cli_without_cryptography(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_CRYPTOGRAPHY, *args], cwd=cwd, capture_output=True,
                          text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


def test_translate_check_and_generate_need_no_cryptography(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n  encrypted_env_file: env.encrypted\n",
                  **{"env.encrypted": "codeship:v2\nAAAA\n"})
    for args in (["check", "."], ["translate", "."], ["generate"]):
        out = _cli_without_cryptography(*args, cwd=tmp_path)
        assert out.returncode == 0, (args, out.stderr)
    assert (tmp_path / "codeship-steps.sh").is_file() and (tmp_path / "codeship.aes").is_file()


@pytest.mark.parametrize("command", ["encrypt", "decrypt"])
def test_encrypt_and_decrypt_without_cryptography_say_what_to_install(tmp_path, command):
    (tmp_path / "codeship.aes").write_text("A" * 43 + "=\n")
    (tmp_path / "in").write_text("codeship:v2\nAAAA\n" if command == "decrypt" else "A=1\n")
    out = _cli_without_cryptography(command, "in", "out", cwd=tmp_path)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "cryptography" in out.stderr and "pip install 'codeship2compose[crypto]'" in out.stderr
    assert not (tmp_path / "out").exists()
