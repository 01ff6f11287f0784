"""Real-world conformance: the corpus projects, their translation, and the report docs/conformance.md.

Regenerate the report from the repository root with

    python -m tests.conformance_report

(`--check` compares instead of writing, and exits 1 when docs/conformance.md is stale).

A *project* is a directory of ../shared/corpus holding a services file (any name of
translator.discovery.SERVICES_NAMES, at any depth); its steps file is found next to it, as jet does.
Each project is translated in a temporary copy of its repository folder (the corpus is read-only),
with the project directory as the current directory, so diagnostics name files like
`codeship-steps.yml`.

tests/test_conformance.py runs Compose, shellcheck and bash on the accepted projects; this module
only translates (a few seconds for the whole corpus), so the report is cheap to regenerate and does
not depend on which tools are installed. Its outcomes are:

- accepted: translated without an error (tests/test_conformance.py checks the outputs with the
  Compose schema, `docker compose config`, `docker-compose config`, shellcheck, `bash -n` and
  `--list`), and no check is an expected failure;
- rejected-as-invalid: an error diagnostic, on input that MANIFEST.tsv flags as malformed, every
  error located (file, line, column), and the first error as the test's expectation table says;
- failing: anything else, including the projects with a check that tests/test_conformance.py
  expects to fail (strict xfail): a known translator bug (KNOWN_BUGS), or a failure the input itself
  causes outside the repository, which the translator warns about (INPUT_FAILURES).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from translator.api import Result, translate
from translator.diagnostics import ERROR, Diagnostic
from translator.discovery import SERVICES_NAMES, STEPS_NAMES, find_file
from translator.outputs import write_outputs
from translator.reporters import diagnostic_text

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
MANIFEST = CORPUS / "MANIFEST.tsv"
DOC = REPO / "docs" / "conformance.md"
COMMAND = "python -m tests.conformance_report"

ACCEPTED = "accepted"
REJECTED = "rejected-as-invalid"
FAILING = "failing"
OUTCOMES = (ACCEPTED, REJECTED, FAILING)

# notable_features values that mark a file as malformed (besides every `INVALID:…`).
MALFORMED_FEATURES = frozenset({
    "YAML-PARSE-ERROR", "EMPTY", "UNDEFINED-SERVICE-REF", "GIT-SYMLINK",
    "services-not-a-mapping", "steps-not-a-list",
})
# notes that mark a file as malformed.
MALFORMED_NOTES = (
    re.compile(r"\bparse error\b"),
    re.compile(r"content is a Dockerfile"),
    re.compile(r"\bgit symlink\b"),
    re.compile(r"steps reference services not defined"),
    re.compile(r"file is a mapping|steps file is a mapping|services file is a list"),
)
# Valid inside a group that names the service; malformed only for a step outside any such group.
STEP_WITHOUT_SERVICE = "step-without-service"

# A C2C402 warning names the env_file that does not exist.
MISSING_ENV_FILE = re.compile(r"env_file '(?P<path>[^']+)' does not exist")


# --- the manifest ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ManifestRow:
    dir: str
    path: str
    features: tuple[str, ...]
    notes: str


def load_manifest(path: Path = MANIFEST) -> dict[str, ManifestRow]:
    """Rows keyed by `dir/path` (the file's path below the corpus)."""
    rows: dict[str, ManifestRow] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            features = tuple(f.strip() for f in row["notable_features"].split(",") if f.strip())
            rows[f"{row['dir']}/{row['path']}"] = ManifestRow(row["dir"], row["path"], features, row["notes"])
    return rows


def malformed_reasons(row: ManifestRow | None, file: Path) -> list[str]:
    """Why the manifest calls this file malformed (empty: it does not). `file` is the corpus file,
    read only to tell a step without a service outside groups (malformed) from one inside a group."""
    if row is None:
        return []
    reasons = [f for f in row.features if f in MALFORMED_FEATURES or f.startswith("INVALID:")]
    reasons += [f"notes: {p.pattern}" for p in MALFORMED_NOTES if p.search(row.notes)]
    if STEP_WITHOUT_SERVICE in row.features and _has_step_without_service_outside_groups(file):
        reasons.append(f"{STEP_WITHOUT_SERVICE} (outside groups)")
    return reasons


def _has_step_without_service_outside_groups(file: Path) -> bool:
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8", errors="replace"))
    except (OSError, yaml.YAMLError):
        return False

    def orphan(steps, inherited: bool) -> bool:
        for step in steps if isinstance(steps, list) else []:
            if not isinstance(step, dict):
                continue
            named = inherited or bool(step.get("service")) or bool(step.get("services"))
            if "steps" in step:
                if orphan(step["steps"], named):
                    return True
            elif not named:
                return True
        return False

    return orphan(doc, False)


# --- the projects ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class CorpusProject:
    id: str  # `owner__name` or `owner__name/sub/dir`: the directory below the corpus
    repo: str  # `owner__name`
    sub: str  # the directory below the repository folder ("" at its root)
    services_name: str  # the services file discovery picks, relative to the project directory
    steps_name: str | None

    @property
    def path(self) -> Path:
        return CORPUS / self.id

    def manifest_key(self, name: str) -> str:
        return f"{self.repo}/{self.sub}/{name}" if self.sub else f"{self.repo}/{name}"


def discover_projects(corpus: Path = CORPUS) -> list[CorpusProject]:
    projects = []
    if not corpus.is_dir():
        return projects
    for repo in sorted(p for p in corpus.iterdir() if p.is_dir()):
        dirs = {f.parent for name in SERVICES_NAMES for f in repo.rglob(name) if f.is_file()}
        for d in sorted(dirs):
            services = find_file(d, SERVICES_NAMES)
            steps = find_file(d, STEPS_NAMES)
            assert services is not None
            sub = d.relative_to(repo).as_posix()
            projects.append(CorpusProject(
                id=d.relative_to(corpus).as_posix(), repo=repo.name, sub="" if sub == "." else sub,
                services_name=services.name, steps_name=steps.name if steps else None))
    return projects


def project_features(project: CorpusProject, manifest: dict[str, ManifestRow]) -> list[str]:
    """notable_features of the services and steps files the translator reads."""
    features: set[str] = set()
    for name in filter(None, (project.services_name, project.steps_name)):
        row = manifest.get(project.manifest_key(name))
        if row is not None:
            features.update(row.features)
    return sorted(features)


# --- translating ----------------------------------------------------------------------------------

@dataclass
class Translation:
    project: CorpusProject
    directory: Path  # the project directory inside the temporary copy
    result: Result
    created_env_files: list[str] = field(default_factory=list)
    created_build_contexts: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.result.diagnostics if d.level == ERROR]


def translate_project(project: CorpusProject, workdir: Path, write: bool = True) -> Translation:
    """Copy the project's repository folder into workdir, translate the project there (from the
    project directory, so diagnostics name files relative to it), and, when it is accepted and
    `write` is set, write compose.yaml and codeship-steps.sh next to the services file and prepare
    the copy the way the user's own checkout is:

    - the env_files the translator warned are missing (C2C402) become empty files: Compose refuses
      an env_file that does not exist, and a user has their own .env (usually kept out of git);
    - the build contexts compose.yaml names that do not exist become empty directories: the corpus
      has no application code, and `docker-compose config` (v1) refuses a missing build context.

    Both only inside the copied repository folder: an absolute path, or one outside the repository,
    is left alone."""
    repo_copy = workdir / project.repo
    shutil.copytree(CORPUS / project.repo, repo_copy, dirs_exist_ok=True)
    for path in [repo_copy, *repo_copy.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    directory = repo_copy / project.sub if project.sub else repo_copy
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        result = translate(Path("."))
    finally:
        os.chdir(cwd)
    translation = Translation(project, directory, result)
    if write and result.ok:
        write_outputs({directory / p: text for p, text in result.outputs.items()},
                      modes={directory / p: m for p, m in result.modes.items()})
        translation.created_env_files = create_missing_env_files(translation, repo_copy)
        translation.created_build_contexts = create_missing_build_contexts(translation, repo_copy)
    return translation


def create_missing_env_files(translation: Translation, repo_copy: Path) -> list[str]:
    created = []
    for diag in translation.result.diagnostics:
        if diag.code != "C2C402":
            continue
        match = MISSING_ENV_FILE.search(diag.message)
        assert match, f"C2C402 no longer names the env_file: {diagnostic_text(diag)}"
        target = Path(os.path.normpath(translation.directory.resolve() / match["path"]))
        if target.exists() or not target.is_relative_to(repo_copy.resolve()):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("")
        created.append(match["path"])
    return created


def create_missing_build_contexts(translation: Translation, repo_copy: Path) -> list[str]:
    compose_dir = translation.directory.resolve()
    document = yaml.safe_load((compose_dir / "compose.yaml").read_text(encoding="utf-8")) or {}
    created = []
    for service in (document.get("services") or {}).values():
        build = (service or {}).get("build")
        context = build.get("context", ".") if isinstance(build, dict) else build
        if (not isinstance(context, str) or "$" in context or "://" in context
                or context.startswith(("git@", "github.com/")) or os.path.isabs(context)):
            continue
        target = Path(os.path.normpath(compose_dir / context))
        if target.exists() or not target.is_relative_to(repo_copy.resolve()):
            continue
        target.mkdir(parents=True)
        created.append(os.path.relpath(target, compose_dir))
    return created


# --- outcomes -------------------------------------------------------------------------------------

def first_error_key(translation: Translation) -> tuple[str, str, int] | None:
    """(file name, code, line) of the first error diagnostic: what the expectation table holds."""
    errors = translation.errors
    if not errors:
        return None
    loc = errors[0].loc
    return (Path(loc.file).name if loc else "", errors[0].code, loc.line if loc else 0)


def rejection_problems(translation: Translation, manifest: dict[str, ManifestRow],
                       expected: tuple[str, str, int] | None) -> list[str]:
    """What is wrong with a rejection (empty: it is a correct one)."""
    problems = []
    for diag in translation.errors:
        loc = diag.loc
        if loc is None or not loc.file or loc.line < 1 or loc.col < 1:
            problems.append(f"error without a file, line and column: {diagnostic_text(diag)}")
            continue
        corpus_file = translation.project.path / loc.file
        row = manifest.get(translation.project.manifest_key(Path(loc.file).as_posix()))
        if not malformed_reasons(row, corpus_file):
            problems.append(f"{loc.file} is not flagged malformed in MANIFEST.tsv, yet: {diagnostic_text(diag)}")
    actual = first_error_key(translation)
    if expected is None:
        problems.append(f"rejected, but the expectation table has no entry; first error: {actual}")
    elif actual != expected:
        problems.append(f"first error is {actual}, the expectation table says {expected}")
    return problems


Rejections = dict[str, tuple[str, str, int]]  # project → (file name, code, line) of the first error
Failures = dict[tuple[str, str], str]  # (project, check) → why it is expected to fail


def outcome(translation: Translation, manifest: dict[str, ManifestRow], expected_rejections: Rejections,
            known_failures: Failures) -> tuple[str, str]:
    """(outcome, why) for the report."""
    pid = translation.project.id
    expected: dict[str, list[str]] = {}
    for (project, check), reason in sorted(known_failures.items()):
        if project == pid:
            expected.setdefault(reason, []).append(check)
    if expected:
        return FAILING, "; ".join(f"{', '.join(checks)}: {reason}" for reason, checks in expected.items())
    if translation.result.ok:
        if pid in expected_rejections:
            return FAILING, "accepted, but the expectation table expects a rejection"
        return ACCEPTED, ""
    problems = rejection_problems(translation, manifest, expected_rejections.get(pid))
    if problems:
        return FAILING, "; ".join(problems)
    return REJECTED, ""


# --- the report -----------------------------------------------------------------------------------

def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_report(translations: list[Translation], manifest: dict[str, ManifestRow],
                  expected_rejections: Rejections, known_failures: Failures) -> str:
    results = sorted(((t, *outcome(t, manifest, expected_rejections, known_failures)) for t in translations),
                     key=lambda r: r[0].project.id)
    counts = Counter(o for _, o, _ in results)
    repos = {t.project.repo for t, _, _ in results}
    lines = [
        "# Real-world conformance",
        "",
        f"Generated by `{COMMAND}` (run from the repository root; `--check` only compares). Do not edit",
        "by hand: `tests/test_conformance.py` fails when this file is stale.",
        "",
        f"The corpus (`../shared/corpus`, {len(repos)} repositories) holds {len(results)} projects: a project is "
        "a directory",
        "with a services file (any name in `translator.discovery.SERVICES_NAMES`, at any depth), whose",
        "steps file is found next to it as jet does. Each is translated in a temporary copy of its",
        "repository folder.",
        "",
        "- **accepted**: translated without an error; `tests/test_conformance.py` checks its outputs with the",
        "  Compose schema, `docker compose config -q` (v2), `docker-compose config -q` (v1), `shellcheck`,",
        "  `bash -n` and `./codeship-steps.sh --list`. Dockerfiles, `.env` files and encrypted files are not in",
        "  the corpus, and a translation does not need them; but Compose refuses a missing `env_file`, and",
        "  `docker-compose` v1 a missing build context. So before `config` runs, the test gives the copy what",
        "  the user's checkout has: each env_file the translator warned is missing (C2C402) as an empty file,",
        "  and each missing build context inside the repository as an empty directory.",
        "- **rejected-as-invalid**: at least one error, on a file MANIFEST.tsv flags as malformed (notes or",
        "  notable_features), every error with a file, line and column, and the first error as the",
        "  expectation table of `tests/test_conformance.py` says.",
        "- **failing**: anything else, including projects with a check `tests/test_conformance.py` expects to",
        "  fail (strict xfail): a known translator bug (`BUG:`), or a failure the input itself causes outside",
        "  the repository, which the translator warns about (`INPUT:`).",
        "",
        "## Outcomes",
        "",
        "| outcome | projects |",
        "|---|---:|",
        *(f"| {o} | {counts.get(o, 0)} |" for o in OUTCOMES),
        f"| total | {len(results)} |",
        "",
    ]

    lines += ["## Rejected as invalid", "",
              "The first error diagnostic of each rejected project.", "",
              "| project | first error | code | message |", "|---|---|---|---|"]
    for t, o, _ in results:
        if o == REJECTED:
            d = t.errors[0]
            lines.append(f"| `{t.project.id}` | `{d.loc}` | {d.code} | {_cell(d.message)} |")
    lines.append("")

    lines += ["## Failing", "",
              "Each expected failure is listed as `check: reason`; its test is marked xfail(strict=True) in",
              "`tests/test_conformance.py`.", ""]
    failing = [(t, why) for t, o, why in results if o == FAILING]
    if failing:
        lines += ["| project | why |", "|---|---|"]
        lines += [f"| `{t.project.id}` | {_cell(why)} |" for t, why in failing]
    else:
        lines.append("None.")
    lines.append("")

    features: dict[str, Counter] = {}
    for t, o, _ in results:
        for feature in project_features(t.project, manifest):
            features.setdefault(feature, Counter())[o] += 1
    lines += ["## Features", "",
              "From the `notable_features` column of MANIFEST.tsv, for the services and steps files each",
              "project's translation reads.", "",
              "| feature | projects | accepted | rejected-as-invalid | failing |", "|---|---:|---:|---:|---:|"]
    for feature in sorted(features, key=str.lower):
        c = features[feature]
        lines.append(f"| {_cell(feature)} | {sum(c.values())} | {c[ACCEPTED]} | {c[REJECTED]} | {c[FAILING]} |")
    lines.append("")

    per_code: dict[tuple[str, str], list[int]] = {}
    for t, _, _ in results:
        seen = Counter((d.code, d.level) for d in t.result.diagnostics)
        for key, n in seen.items():
            entry = per_code.setdefault(key, [0, 0])
            entry[0] += n
            entry[1] += 1
    lines += ["## Diagnostics", "",
              "Every diagnostic the translations produced (before any env_file is created).", "",
              "| code | level | diagnostics | projects |", "|---|---|---:|---:|"]
    for (code, level), (n, projects) in sorted(per_code.items()):
        lines.append(f"| {code} | {level} | {n} | {projects} |")
    lines.append("")
    return "\n".join(lines)


def generate_report(expected_rejections: Rejections, known_failures: Failures) -> str:
    """Translate the whole corpus in a temporary directory and render the report."""
    manifest = load_manifest()
    with tempfile.TemporaryDirectory(prefix="c2c-conformance-") as tmp:
        translations = []
        for n, project in enumerate(discover_projects()):
            workdir = Path(tmp) / str(n)
            workdir.mkdir()
            translations.append(translate_project(project, workdir, write=False))
        text = render_report(translations, manifest, expected_rejections, known_failures)
        assert tmp not in text, "the report must not hold temporary paths"
    return text


def _tables():
    tests_dir = str(Path(__file__).resolve().parent)
    if tests_dir not in sys.path:
        sys.path.insert(0, tests_dir)  # test_conformance imports conftest
    import test_conformance

    return test_conformance.EXPECTED_REJECTIONS, test_conformance.XFAILS


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not CORPUS.is_dir():
        print(f"the corpus is not at {CORPUS}", file=sys.stderr)
        return 2
    text = generate_report(*_tables())
    if "--check" in argv:
        if not DOC.is_file() or DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC.relative_to(REPO)} is stale: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
