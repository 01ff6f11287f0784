"""The core's entry points: check and translate. They return results and diagnostics; they
never print, exit or write (the CLI does)."""

from __future__ import annotations

from pathlib import Path

from .compose import ComposeResult, to_compose
from .diagnostics import Diagnostic, Diagnostics, Level
from .emit import COMPOSE_NAME, OVERRIDE_NAME, SCRIPT_NAME, render_compose, render_override, render_script
from .localdev import PROFILE, LocalDev, plan_local
from .model import VOLUMES_FROM_SCOPES, Options, Project, VolumesFromScope
from .outputs import refuse_unencodable
from .paths import Rebaser, relative
from .project import load_project
from .records import Record
from .script import plan_script


class Result(Record):
    diagnostics: list[Diagnostic]
    project: Project | None = None
    outputs: dict[Path, str] = {}  # path → content
    modes: dict[Path, int] = {}
    report: object | None = None  # report.Report, when a project was read
    local: LocalDev | None = None  # what `docker compose up` starts, when translated
    compose: ComposeResult | None = None  # the Compose model, when translated (audit: its images, FROM lines)
    stale: list[Path] = []  # earlier outputs this translation no longer has (removed if ours)
    ci_setup: dict[str, list[str]] = {}  # with ci: per platform, what to set up before the first run
    bounds: dict[Path, Path] = {}  # output → the folder it must stay inside (outputs.write_outputs)
    inputs: dict[Path, str] = {}  # the files read, never written: path → what it is
    reserved: list[Path] = []  # every path this translation writes or may write (not the report's)

    @property
    def ok(self) -> bool:
        return not any(d.level == Level.ERROR for d in self.diagnostics)


def check(directory: Path, services: Path | None = None, steps: Path | None = None,
          volumes_from_scope: VolumesFromScope = "step") -> Result:
    """Everything `translate` verifies, without rendering: what `jet validate` does, and more."""
    options = _options(volumes_from_scope)
    project, diags = load_project(Path(directory), services, steps, options)
    if project is not None and not diags.has_errors:
        rebase = Rebaser.for_project(project, project.services_file.parent)
        compose = to_compose(project, rebase, diags, options)
        plan_script(project, compose, rebase, diags, options)
        plan_local(project, diags)
    return Result(diags.sorted(), project)


def translate(directory: Path, out_dir: Path | None = None, services: Path | None = None,
              steps: Path | None = None, volumes_from_scope: VolumesFromScope = "step", report: bool = False,
              ci: tuple[str, ...] = (), ci_fanout: bool = False) -> Result:
    """Render the outputs; with report=True also build the migration report (also on errors,
    when the files could be read). `ci`: pipeline files to write too ("github", "gitlab");
    ci_fanout: their parallel groups' branches as jobs on runners of their own."""
    options = _options(volumes_from_scope, ci_fanout)
    project, diags = load_project(Path(directory), services, steps, options)
    if project is None:
        return Result(diags.sorted(), project)
    out = Path(out_dir) if out_dir is not None else project.services_file.parent
    rebase = Rebaser.for_project(project, out)
    services_name = rebase.locate(project.services_file)
    steps_name = rebase.locate(project.steps_file) if project.steps_file else "(no steps file)"
    refuse_unencodable(out / COMPOSE_NAME, services_name, "the path to the Codeship files")
    refuse_unencodable(out / SCRIPT_NAME, steps_name, "the path to the Codeship files")
    outputs: dict[Path, str] = {}
    modes: dict[Path, int] = {}
    local = stale = pipelines = compose = None
    inputs = {project.services_file: "the services file"}
    if project.steps_file is not None:
        inputs[project.steps_file] = "the steps file"
    reserved = [out / COMPOSE_NAME, out / SCRIPT_NAME, out / OVERRIDE_NAME]
    bounds = dict.fromkeys(reserved, out)
    if ci:
        from .ci.render import pipeline_paths

        ci_root, ci_paths = pipeline_paths(rebase, ci)
        refuse_unencodable(ci_paths[0], relative(out, ci_root), "the outputs' folder in the repository")
        reserved += ci_paths
        bounds.update(dict.fromkeys(ci_paths, ci_root))
    if not diags.has_errors:
        compose = to_compose(project, rebase, diags, options)
        plan = plan_script(project, compose, rebase, diags, options)
        _keep_jets_invalid_regex(diags)
        local = plan_local(project, diags)
        if not diags.has_errors:
            compose_path, script_path = out / COMPOSE_NAME, out / SCRIPT_NAME
            outputs = {
                compose_path: render_compose(compose.document, services_name),
                script_path: render_script(plan, services_name, steps_name),
            }
            modes = {compose_path: 0o644, script_path: 0o755}
            override_path = out / OVERRIDE_NAME
            if local.document:
                outputs[override_path] = render_override(local.document, services_name, PROFILE)
                modes[override_path] = 0o644
            else:
                stale = [override_path]
            if ci:
                from .ci.render import render_pipelines

                pipelines = render_pipelines(project, rebase, compose, diags, ci, options.ci_fanout)
                if not diags.has_errors:
                    outputs.update(pipelines.outputs)
                    modes.update({path: 0o644 for path in pipelines.outputs})
    result = Result(diags.sorted(), project, outputs, modes, local=local, compose=compose, stale=stale or [], bounds=bounds,
                    inputs=inputs, reserved=reserved, ci_setup=pipelines.setup if pipelines is not None else {})
    if report:
        from .report import build_report

        result.report = build_report(project, result.diagnostics, services_name, steps_name,
                                     ci if pipelines is not None and result.ok else ())
        if pipelines is not None and result.ok:
            from .ci.render import ci_report

            ci_report(result.report, project, pipelines)
    return result


def _keep_jets_invalid_regex(diags: Diagnostics) -> None:
    """An invalid tag/exclude regex fails `check` (C2C503), but `translate` writes the script
    jet's way (it matches only the exact text) and warns (C2C762): a migration runs as it did."""
    diags.items = [Diagnostic.of("C2C762", d.message + "; the script keeps this jet behaviour", d.loc, d.hint)
                   if d.code == "C2C503" else d for d in diags.items]


def _options(volumes_from_scope: str, ci_fanout: bool = False) -> Options:
    """The api's keyword arguments as the one record the core takes; a value the command line
    would refuse is a programming error here."""
    if volumes_from_scope not in VOLUMES_FROM_SCOPES:
        raise ValueError(f"volumes_from_scope must be {' or '.join(map(repr, VOLUMES_FROM_SCOPES))}, "
                         f"not {volumes_from_scope!r}")
    return Options(volumes_from_scope=volumes_from_scope, ci_fanout=ci_fanout)
