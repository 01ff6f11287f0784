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
import shutil
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor

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

# Checks that fail because of a translator bug: (project, check) → "BUG: …", marked xfail(strict=True)
# so the test turns red when the bug is fixed and the entry must go. Checks: translate, schema,
# config-v2, config-v1, shellcheck, list, rejection.
def _named_volume(mount: str) -> str:
    return (f"BUG: the named volume of `{mount}` is not declared in compose.yaml's top-level `volumes:` "
            "(only volumes_from volumes are); Compose refuses the file: undefined volume")


_SC1003 = ("BUG: a command holding single quotes is quoted twice (script.sq of a string already made with "
           "script.sq), so the script has a backslash just before a closing single quote, which shellcheck "
           "reports as SC1003; correct bash, but not shellcheck-clean")
KNOWN_BUGS: dict[tuple[str, str], str] = {
    ("FelipeH06__PoliInvetoryApp", "rejection"):
        "BUG: when the services file is unusable (here a list: C2C100), every step still gets a follow-on "
        "C2C301 'uses service app, which the services file does not define' in codeship-steps.yml, a file "
        "without a problem",
    ("Alvie40__example-voting-app", "config-v2"): _named_volume("db-data:/var/lib/postgresql/data"),
    ("Alvie40__example-voting-app", "config-v1"): _named_volume("db-data:/var/lib/postgresql/data"),
    ("dockersamples__example-voting-app", "config-v2"): _named_volume("db-data:/var/lib/postgresql/data"),
    ("dockersamples__example-voting-app", "config-v1"): _named_volume("db-data:/var/lib/postgresql/data"),
    ("chaplean__user-bundle", "config-v2"): _named_volume("mysql_data:/var/lib/mysql:rw"),
    ("chaplean__user-bundle", "config-v1"): _named_volume("mysql_data:/var/lib/mysql:rw"),
    ("EpflEcalLab__resoli", "config-v1"):
        "BUG: service 'behat' mounts /var/www/web/sites/default/files itself (merged from *test) and again "
        "through volumes_from: test; compose.yaml lists both mounts for one container path, which "
        "docker-compose v1 refuses (Duplicate mount points); Docker lets the service's own mount win",
    ("jeroenr__codeship-deploy-test", "config-v1"):
        "BUG: build.path '/tmp/target/docker' is absolute: it becomes a host build context outside the "
        "project, without a diagnostic (absolute volume paths get C2C403); docker-compose v1 refuses a "
        "context that does not exist",
    ("VenueDriver__screen-driver", "shellcheck"): _SC1003,
    ("codeship-library__heroku-deployment", "shellcheck"): _SC1003,
    ("scoutnet__plugins.typo3.sh_scoutnet_kalender", "shellcheck"): _SC1003,
    ("shilgam__ci_tools", "shellcheck"): _SC1003,
}
CHECKS = ("translate", "schema", "config-v2", "config-v1", "shellcheck", "list", "rejection")

PROJECTS = discover_projects()
IDS = [p.id for p in PROJECTS]
ACCEPTED = [p for p in PROJECTS if p.id not in EXPECTED_REJECTIONS]
REJECTED = [p for p in PROJECTS if p.id in EXPECTED_REJECTIONS]
COMPOSE = {"config-v2": ("docker", "compose"), "config-v1": ("docker-compose",)}
RUN_ENV = {**os.environ, "C2C_RUN_ID": "c2cconformance"}
TIMEOUT = 300  # seconds, for one external check on a busy machine


def _params(projects: list[CorpusProject], check: str):
    return [pytest.param(p, id=p.id, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[p.id, check])]
                         if (p.id, check) in KNOWN_BUGS else []) for p in projects]


def _compose_params(projects: list[CorpusProject]):
    return [pytest.param(p, check, id=f"{p.id}-{check[-2:]}",
                         marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[p.id, check])]
                         if (p.id, check) in KNOWN_BUGS else [])
            for p in projects for check in COMPOSE]


# --- external checks, run ahead in a few threads -------------------------------------------------
# shellcheck takes ~2 s of CPU per script and `docker-compose config` ~0.6 s; run one after the
# other for ~235 projects that is 10 minutes. So when a project is translated, its selected checks
# start in a thread pool (one worker per CPU) and each test only waits for its own result; a test
# still reports one check of one project, and a check nobody selected (-k) never runs.

def _shellcheck(translation: Translation) -> subprocess.CompletedProcess:
    return subprocess.run(["shellcheck", "-S", "style", str(translation.directory / "codeship-steps.sh")],
                          capture_output=True, text=True, timeout=TIMEOUT)


def _compose_config(check: str):
    def run(translation: Translation) -> subprocess.CompletedProcess:
        return subprocess.run([*COMPOSE[check], "-f", "compose.yaml", "config", "-q"], cwd=translation.directory,
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
    unknown = (set(EXPECTED_REJECTIONS) | {p for p, _ in KNOWN_BUGS}) - set(IDS)
    assert not unknown, f"not corpus projects: {sorted(unknown)}"
    assert {c for _, c in KNOWN_BUGS} <= set(CHECKS)
    assert all(reason.startswith("BUG: ") for reason in KNOWN_BUGS.values())


@pytest.mark.parametrize("project", _params(ACCEPTED, "translate"))
def test_accepted_project_translates(project: CorpusProject, translated, manifest):
    """No error; and the files the translator read are not ones the manifest calls malformed."""
    translation = _accepted(translated, project)
    for name in filter(None, (project.services_name, project.steps_name)):
        reasons = malformed_reasons(manifest.get(project.manifest_key(name)), project.path / name)
        assert not reasons, f"{name} is flagged malformed ({reasons}) but was accepted"
    assert sorted(p.name for p in translation.result.outputs) == ["codeship-steps.sh", "compose.yaml"]


@pytest.mark.parametrize("project", _params(ACCEPTED, "schema"))
def test_compose_matches_the_compose_schema(project: CorpusProject, translated):
    translation = _accepted(translated, project)
    document = yaml.safe_load((translation.directory / "compose.yaml").read_text(encoding="utf-8"))
    assert compose_schema_errors(document) == []


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
