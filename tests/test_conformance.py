"""Real-world conformance: every project of ../shared/corpus translates into files that Compose,
shellcheck and bash accept, or is rejected with located diagnostics because it is malformed.

A project is a corpus directory holding a services file (see tests/conformance_report.py). Each is
translated once per module into a temporary copy of its repository folder (module-scoped cache).
For an accepted project the checks are: the Compose schema, `docker compose config -q` (v2),
`docker-compose config -q` (v1) (both with C2C_RUN_ID set), shellcheck, `bash -n`, and
`./codeship-steps.sh --list`. Missing tools skip (need_tool), unless CI requires them.

Dockerfiles, app code, `.env` and encrypted files are not in the corpus, and a translation must not
need them. Compose, however, refuses an `env_file` that does not exist, and docker-compose v1 a
build context that does not exist; so before `config` runs, the copy is given what the user's own
checkout has: the env files the translator warned about (C2C402) as empty files, and the missing
build-context directories (inside the repository only) as empty directories.

A rejected project (any error diagnostic) must be one MANIFEST.tsv flags as malformed, every error
must have a file, a line and a column, and its first error must be the one EXPECTED_REJECTIONS names,
so that a change in diagnostics shows up here. Translator bugs found by these checks are listed in
KNOWN_BUGS, failures the input itself causes (outside the repository, and warned about) in
INPUT_FAILURES; both are marked xfail(strict=True).

docs/conformance.md summarises the outcomes; regenerate it with `python -m tests.conformance_report`
(test_conformance_report_is_up_to_date fails when it is stale).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import yaml

from compose_schema import compose_schema_errors
from conftest import CORPUS, need_tool
from conformance_report import (COMMAND, DOC, CorpusProject, Translation, discover_projects, first_error_key,
                                generate_report, load_manifest, malformed_reasons, rejection_problems,
                                translate_project)

from translator.reporters import diagnostic_text

# For each rejected project: (file name, error code, line) of its first error diagnostic.
EXPECTED_REJECTIONS: dict[str, tuple[str, str, int]] = {
    # a Dockerfile saved as codeship-services.yml (first instruction on line 2)
    "104CloudDEV__convertJob": ("codeship-services.yml", "C2C014", 2),
    # YAML syntax: `-type: serial` / `name: …` followed by a more indented `steps:`
    "66chenbiao__BI_learn": ("codeship-steps.yml", "C2C002", 2),
    "Dazzler555__cbee": ("codeship-steps.yml", "C2C002", 2),
    # YAML syntax: `- type: parallel`, then `service:` back at column 1
    "Andretti23__slackmessenger": ("codeship-steps.yml", "C2C002", 3),
    # YAML syntax: keys indented 3 after a blank line (services; its steps file is a mapping too)
    "Bankkuru__calculator_test": ("codeship-services.yml", "C2C002", 7),
    # YAML syntax: `environment:` indented under `build: .`
    "BluebirdLyrase__Calculater-JEST": ("codeship-services.yml", "C2C002", 3),
    # empty files
    "Autodesk__notebook-molecular-visualization": ("codeship-services.yml", "C2C100", 1),
    "BloomTech-Labs__net-giver-work-order-management-be": ("codeship-services.yml", "C2C100", 1),
    "Fettah__library": ("codeship-steps.yml", "C2C200", 1),
    # the services file is a list of `- name: app` items
    "FelipeH06__PoliInvetoryApp": ("codeship-services.yml", "C2C100", 3),
    # a step names an image (codeship/heroku-deployment) where a service belongs
    "Baksha2008__pills-tracker-nest": ("codeship-steps.yml", "C2C301", 6),
    # steps name services (php, Daux) the services file does not define
    "theGeorgew__documentation_server/docker": ("codeship-steps.yml", "C2C301", 1),
    # a top-level command step without a service
    "tecris__continuous-delivery": ("jet-steps.yml", "C2C206", 1),
    # git symlinks checked out as files that hold the link target
    "ysoftwareab__yplatform/.codeship": ("codeship-services.yml", "C2C011", 1),
}

# Checks that fail because of a translator bug: (project, check) → "BUG: …". They are marked
# xfail(strict=True), so the test turns red when the bug is fixed and the entry must go.
KNOWN_BUGS: dict[tuple[str, str], str] = {
}

# Checks that fail because of the input itself, on something outside the repository that the
# translator warns about: (project, check) → (the warning's code, "INPUT: …"). Marked
# xfail(strict=True) as well; test_input_failures_are_warned checks that the warning is there.
INPUT_FAILURES: dict[tuple[str, str], tuple[str, str]] = {
    ("jeroenr__codeship-deploy-test", "config-v1"): (
        "C2C407", "INPUT: build.path '/tmp/target/docker' is an absolute host path (the repository's own sbt "
        "step fills ./target/docker); docker-compose v1 refuses a build context that does not exist, and the "
        "test creates missing ones only inside the repository"),
}

# Every expected failure, as the report and the xfail marks use them.
XFAILS: dict[tuple[str, str], str] = {**KNOWN_BUGS, **{k: reason for k, (_, reason) in INPUT_FAILURES.items()}}
CHECKS = ("translate", "schema", "config-v2", "config-v1", "shellcheck", "list", "rejection")

PROJECTS = discover_projects()
IDS = [p.id for p in PROJECTS]
ACCEPTED = [p for p in PROJECTS if p.id not in EXPECTED_REJECTIONS]
REJECTED = [p for p in PROJECTS if p.id in EXPECTED_REJECTIONS]
COMPOSE = {"config-v2": ("docker", "compose"), "config-v1": ("docker-compose",)}
RUN_ENV = {**os.environ, "C2C_RUN_ID": "c2cconformance"}
TIMEOUT = 300  # seconds, for one external check on a busy machine


def _params(projects: list[CorpusProject], check: str):
    return [pytest.param(p, id=p.id, marks=[pytest.mark.xfail(strict=True, reason=XFAILS[p.id, check])]
                         if (p.id, check) in XFAILS else []) for p in projects]


def _compose_params(projects: list[CorpusProject]):
    return [pytest.param(p, check, id=f"{p.id}-{check[-2:]}",
                         marks=[pytest.mark.xfail(strict=True, reason=XFAILS[p.id, check])]
                         if (p.id, check) in XFAILS else [])
            for p in projects for check in COMPOSE]


# --- external checks, run ahead in a few threads -------------------------------------------------
# shellcheck takes ~0.4 s of CPU per script and `docker-compose config` ~0.6 s; run one after the
# other for ~235 projects that is 4 minutes. So when a project is translated, its selected checks
# start in a thread pool (one worker per CPU) and each test only waits for its own result; a test
# still reports one check of one project, and a check nobody selected (-k) never runs.

def _shellcheck(translation: Translation) -> subprocess.CompletedProcess:
    # The runtime is the same in every script and the golden tests shellcheck whole scripts. Most of
    # shellcheck's time here went to that runtime, so each corpus script is checked without it
    # (after checking it is there verbatim); SC2034/SC2154 are left out as they need the runtime,
    # which assigns and reads the variables the generated part reads and assigns.
    script = (translation.directory / "codeship-steps.sh").read_text(encoding="utf-8")
    from translator.emit import runtime_parts

    for part in runtime_parts():
        assert script.count(part) == 1, "the script does not carry the shipped runtime verbatim"
        script = script.replace(part, "", 1)
    generated = translation.directory / "codeship-steps.generated-part.sh"
    generated.write_text(script, encoding="utf-8")
    return subprocess.run(["shellcheck", "-S", "style", "-e", "SC2034,SC2154", str(generated)],
                          capture_output=True, text=True, timeout=TIMEOUT)


def _compose_config(check: str):
    def run(translation: Translation) -> subprocess.CompletedProcess:
        files = ["-f", "compose.yaml"]
        if (translation.directory / "compose.override.yaml").is_file():  # for `docker compose up`
            files += ["-f", "compose.override.yaml"]
        return subprocess.run([*COMPOSE[check], *files, "config", "-q"], cwd=translation.directory,
                              capture_output=True, text=True, env=RUN_ENV, timeout=TIMEOUT)
    return run


RUNNERS = {"shellcheck": _shellcheck, "config-v2": _compose_config("config-v2"),
           "config-v1": _compose_config("config-v1")}
TEST_CHECKS = {"test_script_passes_shellcheck_and_bash_n": "shellcheck"}


def _selected_checks(session) -> set[tuple[str, str]]:
    """(project, check) for the external checks this session will run."""
    selected = set()
    for item in session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        project, check = params.get("project"), params.get("check") or TEST_CHECKS.get(item.originalname)
        if isinstance(project, CorpusProject) and check in RUNNERS:
            selected.add((project.id, check))
    return selected


@pytest.fixture(scope="module")
def manifest():
    return load_manifest()


@pytest.fixture(scope="module")
def translated(request, tmp_path_factory):
    """project → its Translation, made once; an accepted one starts its selected checks at once."""
    cache: dict[str, Translation] = {}
    jobs: dict[tuple[str, str], Future] = {}
    selected = _selected_checks(request.session)
    tools = {"shellcheck": "shellcheck", "config-v2": "docker", "config-v1": "docker-compose"}
    pool = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1))

    def get(project: CorpusProject) -> Translation:
        if project.id not in cache:
            translation = translate_project(project, tmp_path_factory.mktemp("conformance"))
            cache[project.id] = translation
            if translation.result.ok:
                for check, runner in RUNNERS.items():
                    if (project.id, check) in selected and shutil.which(tools[check]):
                        jobs[project.id, check] = pool.submit(runner, translation)
        return cache[project.id]

    def result(project: CorpusProject, check: str) -> subprocess.CompletedProcess:
        translation = get(project)
        job = jobs.pop((project.id, check), None)
        return job.result() if job is not None else RUNNERS[check](translation)

    get.check = result
    yield get
    pool.shutdown(wait=True, cancel_futures=True)


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
    assert translation.result.ok, "\n".join(diagnostic_text(d) for d in translation.result.diagnostics)
    return translation


def test_the_corpus_is_there():
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    assert len(PROJECTS) >= 200
    assert len({p.id for p in PROJECTS}) == len(PROJECTS)


def test_the_tables_name_corpus_projects():
    if not PROJECTS:
        pytest.skip(f"no corpus at {CORPUS}")
    unknown = (set(EXPECTED_REJECTIONS) | {p for p, _ in XFAILS}) - set(IDS)
    assert not unknown, f"not corpus projects: {sorted(unknown)}"
    assert {c for _, c in XFAILS} <= set(CHECKS)
    assert not set(KNOWN_BUGS) & set(INPUT_FAILURES)
    assert all(reason.startswith("BUG: ") for reason in KNOWN_BUGS.values())
    assert all(reason.startswith("INPUT: ") for _, reason in INPUT_FAILURES.values())


@pytest.mark.parametrize("project, code", [pytest.param(p, code, id=f"{p}-{check}")
                                           for (p, check), (code, _) in sorted(INPUT_FAILURES.items())])
def test_input_failures_are_warned(project: str, code: str, translated):
    """An input failure is only excused when the translator tells the user about it."""
    found = [p for p in PROJECTS if p.id == project]
    if not found:
        pytest.skip(f"no corpus at {CORPUS}")
    translation = translated(found[0])
    assert code in [d.code for d in translation.result.diagnostics if d.level == "warning"]


@pytest.mark.parametrize("project", _params(ACCEPTED, "translate"))
def test_accepted_project_translates(project: CorpusProject, translated, manifest):
    """No error; and the files the translator read are not ones the manifest calls malformed."""
    translation = _accepted(translated, project)
    for name in filter(None, (project.services_name, project.steps_name)):
        reasons = malformed_reasons(manifest.get(project.manifest_key(name)), project.path / name)
        assert not reasons, f"{name} is flagged malformed ({reasons}) but was accepted"
    names = {p.name for p in translation.result.outputs}
    assert {"codeship-steps.sh", "compose.yaml"} <= names <= {"codeship-steps.sh", "compose.yaml", "compose.override.yaml"}


@pytest.mark.parametrize("project", _params(ACCEPTED, "schema"))
def test_compose_matches_the_compose_schema(project: CorpusProject, translated):
    translation = _accepted(translated, project)
    document = yaml.safe_load((translation.directory / "compose.yaml").read_text(encoding="utf-8"))
    assert compose_schema_errors(document) == []
    override = translation.directory / "compose.override.yaml"
    if override.is_file():
        assert compose_schema_errors(yaml.safe_load(override.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("project, check", _compose_params(ACCEPTED))
def test_compose_config_accepts_it(project: CorpusProject, check: str, translated):
    need(*COMPOSE[check], "version")
    _accepted(translated, project)
    result = translated.check(project, check)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("project", _params(ACCEPTED, "shellcheck"))
def test_script_passes_shellcheck_and_bash_n(project: CorpusProject, translated):
    need("shellcheck", "--version")
    translation = _accepted(translated, project)
    script = translation.directory / "codeship-steps.sh"
    assert os.access(script, os.X_OK)
    check = translated.check(project, "shellcheck")
    assert check.returncode == 0, check.stdout
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=TIMEOUT)
    assert syntax.returncode == 0, syntax.stderr


@pytest.mark.parametrize("project", _params(ACCEPTED, "list"))
def test_script_lists_its_steps(project: CorpusProject, translated):
    translation = _accepted(translated, project)
    listing = subprocess.run(["./codeship-steps.sh", "--list"], cwd=translation.directory, capture_output=True,
                             text=True, stdin=subprocess.DEVNULL, env=RUN_ENV, timeout=TIMEOUT)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.startswith("Steps of ")


@pytest.mark.parametrize("project", _params(REJECTED, "rejection"))
def test_rejected_project_is_malformed_and_located(project: CorpusProject, translated, manifest):
    translation = translated(project)
    assert translation.errors, "expected a rejection, but the project translated"
    for diag in translation.errors:
        assert diag.loc is not None and diag.loc.file, diagnostic_text(diag)
        assert diag.loc.line >= 1 and diag.loc.col >= 1, diagnostic_text(diag)
    assert first_error_key(translation) == EXPECTED_REJECTIONS[project.id]
    assert rejection_problems(translation, manifest, EXPECTED_REJECTIONS[project.id]) == []
    assert not translation.result.outputs


def test_conformance_report_is_up_to_date():
    if not PROJECTS:
        pytest.skip(f"no corpus at {CORPUS}")
    expected = generate_report(EXPECTED_REJECTIONS, XFAILS)
    actual = DOC.read_text(encoding="utf-8") if DOC.is_file() else ""
    assert actual == expected, f"docs/conformance.md is stale: regenerate it with `{COMMAND}` and review the diff"
