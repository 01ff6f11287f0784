"""`audit`: every Codeship project under some folders, translated in memory (nothing is
written), with what each needs by hand, its secrets and its CI runner forecast; and the
organisation's totals. The CLI renders the result (translator/audit/render.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from ..diagnostics import Diagnostic, Level, Loc
from ..errors import UserError
from ..model import Project, count_steps
from ..records import Record
from ..report import OUTCOMES, TASK_KINDS
from .find import find_projects, inside
from .forecast_adapter import BUILDS, LAYOUTS, METRICS
from .secrets import Key, Secret, inventory

TRANSLATED, MANUAL, FAILED = "translated", "manual", "failed"
Progress = Callable[[int, int, str], None]  # (done, total, the project being audited)


class ProjectAudit(Record):
    root: str  # the root as given
    path: str  # relative to the root, / separated
    directory: Path
    outcome: str = FAILED
    steps: int | None = None  # None: the files could not be read
    services: int | None = None
    keys: dict[str, int] | None = None  # outcome (report.OUTCOMES) → number of keys; None: not read
    manual_tasks: list[tuple[str, str]] = []  # (kind, text)
    units: dict[str, int] = {}  # kind → how many things to do (secrets, push steps, cached services…)
    encrypted_files: list[Secret] = []
    encrypted_values: list[Secret] = []
    diagnostics: list[Diagnostic] = []
    forecast: dict | None = None  # layout → metric → build kind → N
    inputs: dict[Path, str] = {}  # its services and steps files: never an output (audit -o), even with --force

    @property
    def first_error(self) -> Diagnostic | None:
        return next((d for d in self.diagnostics if d.level == Level.ERROR), None)


class Skipped(Record):
    root: str
    path: str
    diagnostic: Diagnostic


class Audit(Record):
    roots: list[str]
    projects: list[ProjectAudit] = []
    skipped: list[Skipped] = []
    keys_asked: bool = False  # a key was given: the secrets list the names inside

    @property
    def failed(self) -> list[ProjectAudit]:
        return [p for p in self.projects if p.outcome == FAILED]

    def task_groups(self) -> list[tuple[str, int, int]]:
        """(kind, how many things, in how many projects), in TASK_KINDS order."""
        groups = []
        for kind in TASK_KINDS:
            having = [p for p in self.projects if p.units.get(kind)]
            if having:
                groups.append((kind, sum(p.units[kind] for p in having), len(having)))
        return groups

    def totals(self) -> dict:
        projects = self.projects
        secrets = [s for p in projects for s in p.encrypted_files + p.encrypted_values]
        forecast: dict = {layout: {metric: {build: 0 for build in BUILDS} for metric in METRICS}
                          for layout in LAYOUTS}
        for p in projects:
            for layout, metrics in (p.forecast or {}).items():
                for metric, builds in metrics.items():
                    for build, n in builds.items():
                        forecast[layout][metric][build] += n
        return {
            "projects": len(projects),
            "outcomes": {o: sum(1 for p in projects if p.outcome == o) for o in (TRANSLATED, MANUAL, FAILED)},
            "steps": sum(p.steps or 0 for p in projects),
            "services": sum(p.services or 0 for p in projects),
            "keys": {o: sum((p.keys or {}).get(o, 0) for p in projects) for o in OUTCOMES},
            "encrypted_files": sum(len(p.encrypted_files) for p in projects),
            "encrypted_values": sum(len(p.encrypted_values) for p in projects),
            "variables": (sum(len(s.variables or ()) for s in secrets) if self.keys_asked else None),
            "manual_tasks": {kind: {"count": n, "projects": k} for kind, n, k in self.task_groups()},
            "forecast": forecast,
            "skipped": len(self.skipped),
        }


class AuditError(UserError):
    """The audit cannot start (an unusable key): nothing was audited."""


def audit(roots: list[Path], key_path: Path | None = None, env: Mapping[str, str] = os.environ,
          progress: Progress | None = None) -> Audit:
    """Find and audit every project under the roots. `key_path`/`CODESHIP_AES_KEY` in `env`: list
    the names inside the encrypted files (a relative key_path is looked for in each project's
    folder first, then in the current one)."""
    keys = _keys(key_path, env)
    result = Audit(roots=[str(r) for r in roots], keys_asked=keys is not None)
    found = []
    seen: set[str] = set()
    for root in roots:
        search = find_projects(root)
        result.skipped += [Skipped(root=str(root), path=path, diagnostic=d) for path, d in search.skipped]
        for project in search.projects:
            real = os.path.realpath(project.directory)
            if real not in seen:  # nested or repeated roots: each project once
                seen.add(real)
                found.append((root, project))
    for n, (root, project) in enumerate(found):
        if progress:
            progress(n, len(found), str(project.directory))
        key = keys(project.directory, root) if keys else None
        result.projects.append(audit_project(root, project.path, project.directory, key))
    if progress:
        progress(len(found), len(found), "")
    return result


def audit_project(root: Path, path: str, directory: Path, key: Key | None = None) -> ProjectAudit:
    """One project, translated as `translate DIRECTORY` would, in memory."""
    from ..discovery import SERVICES_NAMES, STEPS_NAMES, find_file

    audited = ProjectAudit(root=str(root), path=path, directory=directory)
    whose = f" of the project in {path}" if path != "." else " of the audited project"
    for names, what in ((SERVICES_NAMES, "the services file"), (STEPS_NAMES, "the steps file")):
        file = find_file(directory, names)
        if file is not None:
            audited.inputs[file] = what + whose
    try:
        _fill(audited, root, key)
    except Exception as exc:  # a bug in one project's translation must not end the whole audit
        audited.outcome = FAILED
        audited.diagnostics = audited.diagnostics + [Diagnostic.of(
            "C2C789", f"internal error while translating: {type(exc).__name__}: {exc}",
            Loc(str(directory)), "run `codeship2compose translate` in that folder for the traceback, and "
            "report it")]
    return audited


def _fill(audited: ProjectAudit, root: Path, key: Key | None) -> None:
    from ..api import translate

    result = translate(audited.directory, report=True)
    audited.diagnostics = list(result.diagnostics)
    project = result.project
    if project is None:
        return
    audited.steps = count_steps(project.steps)
    audited.services = len(project.services)
    report = result.report
    if report is not None:
        audited.keys = report.counts()  # type: ignore[attr-defined]
        audited.manual_tasks = list(zip(report.manual_kinds, map(str, report.manual_tasks)))  # type: ignore[attr-defined]
    compose = result.compose if result.ok else None
    audited.encrypted_files, audited.encrypted_values = inventory(
        project, Path(root), compose.base_images if compose else {}, key)
    audited.units = _units(project, audited)
    if compose is None:
        return
    audited.outcome = MANUAL if audited.manual_tasks else TRANSLATED
    from .forecast_adapter import forecast_of

    by_build = forecast_of(project, compose)
    audited.forecast = {layout: {metric: {build: by_build[layout][build][metric] for build in BUILDS}
                                 for metric in METRICS} for layout in LAYOUTS}


def _units(project: Project, audited: ProjectAudit) -> dict[str, int]:
    """How many things each kind of manual task asks for: secrets to re-create, push steps,
    cached services, approvals, add_docker services, missing files, outside host paths."""
    units: dict[str, int] = {}
    for kind, _ in audited.manual_tasks:
        units[kind] = units.get(kind, 0) + 1
    if "secrets" in units:
        units["secrets"] = len(audited.encrypted_files) + len(audited.encrypted_values)
    if "cached" in units:
        units["cached"] = sum(1 for s in project.services.values() if s.cached)
    if "docker-socket" in units:
        units["docker-socket"] = sum(1 for s in project.services.values() if s.add_docker)
    return units


def _keys(key_path: Path | None, env: Mapping[str, str]) -> Callable[[Path, Path], Key] | None:
    """How to find each project's AES key, or None when no key was asked for."""
    from .. import codeship_aes

    if key_path is None and codeship_aes.ENV_VAR not in env:
        return None
    try:
        codeship_aes.require_cryptography()
        if codeship_aes.ENV_VAR in env or key_path is not None and key_path.is_absolute():
            one = codeship_aes.load_key(key_path, env)
            return lambda directory, root: (one, None)
    except codeship_aes.AesError as exc:
        raise AuditError(exc.message, exc.hint) from None
    assert key_path is not None
    shared: Key | None = None
    if os.path.isfile(key_path):  # False, not OSError, for a name too long
        try:
            shared = (codeship_aes.load_key(key_path, {}), None)
        except codeship_aes.AesError as exc:
            shared = (None, exc.message)

    def per_project(directory: Path, root: Path) -> Key:
        own = directory / key_path
        if os.path.isfile(own) and inside(own, root):
            try:
                return codeship_aes.load_key(own, {}), None
            except codeship_aes.AesError as exc:
                return None, exc.message
        return shared or (None, f"no key: {key_path} is neither in the project's folder nor in the current one")

    return per_project
