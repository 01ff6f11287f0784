"""Real-world conformance: every project of ../shared/corpus translates into files that Compose,
shellcheck and bash accept, or is rejected with located diagnostics because it is malformed.

A project is a corpus directory holding a services file (see tests/conformance_report.py). Each is
translated once per session into a temporary copy of its repository folder (module-scoped cache).
For an accepted project the checks are: the Compose schema, `docker compose config -q` (v2),
`docker-compose config -q` (v1), shellcheck, `bash -n`, and `./codeship-steps.sh --list`.
Dockerfiles, app code, `.env` and encrypted files are not in the corpus, and a translation must not
need them; but Compose refuses an `env_file` that does not exist, so before `config` runs the env
files the translator warned about (C2C402) are created as empty files in the copy: that mirrors a
user who has their own `.env`.

A rejected project (any error diagnostic) must be one MANIFEST.tsv flags as malformed, every error
must have a file, a line and a column, and its first error must be the one EXPECTED_REJECTIONS names,
so that a change in diagnostics shows up here. Translator bugs found by these checks are listed in
KNOWN_BUGS and marked xfail(strict=True) until fixed.

docs/conformance.md summarises the outcomes; regenerate it with `python -m tests.conformance_report`.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from translator.schema import compose_schema_errors

from conftest import CORPUS, need_tool
from conformance_report import (COMMAND, DOC, CorpusProject, Translation, discover_projects, first_error_key,
                                generate_report, load_manifest, malformed_reasons, rejection_problems,
                                translate_project)

# For each rejected project: (file name, error code, line) of its first error diagnostic.
EXPECTED_REJECTIONS: dict[str, tuple[str, str, int]] = {
    # a Dockerfile saved as codeship-services.yml
    "104CloudDEV__convertJob": ("codeship-services.yml", "C2C014", 2),
    # `- type: serial` followed by a mis-indented `steps:`
    "66chenbiao__BI_learn": ("codeship-steps.yml", "C2C002", 2),
    "Dazzler555__cbee": ("codeship-steps.yml", "C2C002", 2),
    # a step list item broken by a stray key
    "Andretti23__slackmessenger": ("codeship-steps.yml", "C2C002", 3),
    # empty files
    "Autodesk__notebook-molecular-visualization": ("codeship-services.yml", "C2C100", 1),
    "BloomTech-Labs__net-giver-work-order-management-be": ("codeship-services.yml", "C2C100", 1),
    "Fettah__library": ("codeship-steps.yml", "C2C200", 1),
    # a step names an image (codeship/heroku-deployment) instead of a service
    "Baksha2008__pills-tracker-nest": ("codeship-steps.yml", "C2C301", 6),
    # steps name services (php, Daux) the services file does not define
    "theGeorgew__documentation_server/docker": ("codeship-steps.yml", "C2C301", 1),
    # YAML syntax errors in the services file
    "Bankkuru__calculator_test": ("codeship-services.yml", "C2C002", 7),
    "BluebirdLyrase__Calculater-JEST": ("codeship-services.yml", "C2C002", 3),
    # the services file is a list
    "FelipeH06__PoliInvetoryApp": ("codeship-services.yml", "C2C100", 3),
    # a top-level command step without a service
    "tecris__continuous-delivery": ("jet-steps.yml", "C2C206", 1),
    # git symlinks checked out as files holding the link target
    "ysoftwareab__yplatform/.codeship": ("codeship-services.yml", "C2C011", 1),
}

# Projects that fail a check because of a translator bug: project → "BUG: …" (strict xfail).
KNOWN_BUGS: dict[str, str] = {
    "FelipeH06__PoliInvetoryApp": "BUG: when the services file is unusable (here a list: C2C100), every step "
    "still gets a follow-on C2C301 'uses service app, which the services file does not define' in "
    "codeship-steps.yml, a file that has no problem",
}

PROJECTS = discover_projects()
IDS = [p.id for p in PROJECTS]
ACCEPTED = [p for p in PROJECTS if p.id not in EXPECTED_REJECTIONS]
REJECTED = [p for p in PROJECTS if p.id in EXPECTED_REJECTIONS]
COMPOSE = {"v2": ("docker", "compose"), "v1": ("docker-compose",)}
RUN_ENV = {**os.environ, "C2C_RUN_ID": "c2cconformance"}


def _params(projects: list[CorpusProject]):
    return [pytest.param(p, id=p.id, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[p.id])]
                         if p.id in KNOWN_BUGS else []) for p in projects]


@pytest.fixture(scope="module")
def manifest():
    return load_manifest()


@pytest.fixture(scope="module")
def translated(tmp_path_factory):
    cache: dict[str, Translation] = {}

    def get(project: CorpusProject) -> Translation:
        if project.id not in cache:
            cache[project.id] = translate_project(project, tmp_path_factory.mktemp("conformance"))
        return cache[project.id]

    return get


_TOOLS: dict[tuple[str, ...], tuple[str, str] | None] = {}


def need(*argv: str) -> None:
    """need_tool, asked once per tool (`docker-compose version` alone costs half a second)."""
    if argv not in _TOOLS:
        try:
            need_tool(*argv)
            _TOOLS[argv] = None
        except pytest.skip.Exception as exc:
            _TOOLS[argv] = ("skip", str(exc))
        except pytest.fail.Exception as exc:
            _TOOLS[argv] = ("fail", str(exc))
    if _TOOLS[argv] is not None:
        kind, message = _TOOLS[argv]
        (pytest.skip if kind == "skip" else pytest.fail)(message)


def _accepted(translated, project: CorpusProject) -> Translation:
    translation = translated(project)
    assert translation.result.ok, "\n".join(d.format() for d in translation.result.diagnostics)
    return translation


def test_the_corpus_is_there():
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    assert len(PROJECTS) >= 200
    assert len({p.id for p in PROJECTS}) == len(PROJECTS)


def test_the_tables_name_corpus_projects():
    if not PROJECTS:
        pytest.skip(f"no corpus at {CORPUS}")
    unknown = (set(EXPECTED_REJECTIONS) | set(KNOWN_BUGS)) - set(IDS)
    assert not unknown, f"not corpus projects: {sorted(unknown)}"
    assert all(reason.startswith("BUG: ") for reason in KNOWN_BUGS.values())


@pytest.mark.parametrize("project", _params(ACCEPTED))
def test_accepted_project_translates(project: CorpusProject, translated, manifest):
    """No error; and the files the translator read are not ones the manifest calls malformed."""
    translation = _accepted(translated, project)
    for name in filter(None, (project.services_name, project.steps_name)):
        reasons = malformed_reasons(manifest.get(project.manifest_key(name)), project.path / name)
        assert not reasons, f"{name} is flagged malformed ({reasons}) but was accepted"
    assert sorted(p.name for p in translation.result.outputs) == ["codeship-steps.sh", "compose.yaml"]


@pytest.mark.parametrize("project", _params(ACCEPTED))
def test_compose_matches_the_compose_schema(project: CorpusProject, translated):
    translation = _accepted(translated, project)
    document = yaml.safe_load((translation.directory / "compose.yaml").read_text(encoding="utf-8"))
    assert compose_schema_errors(document) == []


@pytest.mark.parametrize("compose", list(COMPOSE), ids=list(COMPOSE))
@pytest.mark.parametrize("project", _params(ACCEPTED))
def test_compose_config_accepts_it(project: CorpusProject, compose: str, translated):
    need(*COMPOSE[compose], "version")
    translation = _accepted(translated, project)
    result = subprocess.run([*COMPOSE[compose], "-f", "compose.yaml", "config", "-q"], cwd=translation.directory,
                            capture_output=True, text=True, env=RUN_ENV, timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("project", _params(ACCEPTED))
def test_script_passes_shellcheck_and_bash_n(project: CorpusProject, translated):
    need("shellcheck", "--version")
    translation = _accepted(translated, project)
    script = translation.directory / "codeship-steps.sh"
    assert os.access(script, os.X_OK)
    check = subprocess.run(["shellcheck", "-S", "style", str(script)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=60)
    assert syntax.returncode == 0, syntax.stderr


@pytest.mark.parametrize("project", _params(ACCEPTED))
def test_script_lists_its_steps(project: CorpusProject, translated):
    translation = _accepted(translated, project)
    listing = subprocess.run(["./codeship-steps.sh", "--list"], cwd=translation.directory, capture_output=True,
                             text=True, stdin=subprocess.DEVNULL, env=RUN_ENV, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.startswith("Steps of ")


@pytest.mark.parametrize("project", _params(REJECTED))
def test_rejected_project_is_malformed_and_located(project: CorpusProject, translated, manifest):
    translation = translated(project)
    assert translation.errors, "expected a rejection, but the project translated"
    for diag in translation.errors:
        assert diag.loc is not None and diag.loc.file, diag.format()
        assert diag.loc.line >= 1 and diag.loc.col >= 1, diag.format()
    assert first_error_key(translation) == EXPECTED_REJECTIONS[project.id]
    assert rejection_problems(translation, manifest, EXPECTED_REJECTIONS[project.id]) == []
    assert not translation.result.outputs


def test_conformance_report_is_up_to_date():
    if not PROJECTS:
        pytest.skip(f"no corpus at {CORPUS}")
    expected = generate_report(EXPECTED_REJECTIONS, KNOWN_BUGS)
    actual = DOC.read_text(encoding="utf-8") if DOC.is_file() else ""
    assert actual == expected, f"docs/conformance.md is stale: regenerate it with `{COMMAND}` and review the diff"
