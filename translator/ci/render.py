"""The pipeline files `translate --ci` writes, at the root of the git repository that holds the
outputs (the platforms read them only there), else next to the outputs."""

from __future__ import annotations

from pathlib import Path

from ..compose import ComposeResult
from ..diagnostics import Diagnostics
from ..model import Project
from ..paths import Rebaser, relative
from ..records import Record
from . import github, gitlab
from .plan import GITLAB_PATH, CiPlan, github_path, pipeline_root, plan_ci, workdir_of
from .yamlout import one_line


class Pipelines(Record):
    """What `translate --ci` adds: the files, the plan of each platform, and the set-up items (what
    a team sets up before the first run: printed by the CLI, and in each file's header)."""

    outputs: dict[Path, str] = {}
    plans: dict[str, CiPlan] = {}
    setup: dict[str, list[str]] = {}


def render_pipelines(project: Project, rebase: Rebaser, compose: ComposeResult, diags: Diagnostics,
                     platforms: tuple[str, ...], fanout: bool = False) -> Pipelines:
    """compose gives the images of `cached: true` services their cache."""
    from .setup import setup_items

    root = pipeline_root(rebase.out)
    source = relative(project.services_file, root)
    result = Pipelines()
    for platform, module in (("github", github), ("gitlab", gitlab)):
        if platform not in platforms:
            continue
        found = Diagnostics()
        plan = plan_ci(project, rebase, root, compose, found, platform, fanout)
        seen = {(d.code, d.message, d.loc) for d in diags.items}  # each platform plans: say things once
        diags.items += [d for d in found.items if (d.code, d.message, d.loc) not in seen]
        items = [one_line(str(item)) for item in setup_items(project, plan, platform)]  # header and terminal
        result.plans[platform] = plan
        result.setup[platform] = items
        path = github_path(plan.workdir) if platform == "github" else GITLAB_PATH
        result.outputs[root / path] = module.render(plan, source, items)  # type: ignore[attr-defined]
    return result


def pipeline_paths(rebase: Rebaser, platforms: tuple[str, ...]) -> tuple[Path, list[Path]]:
    """The repository's root, and the pipeline files translate writes there for the project."""
    root = pipeline_root(rebase.out)
    workdir = workdir_of(rebase.out, root)
    paths = {"github": root / github_path(workdir), "gitlab": root / GITLAB_PATH}
    return root, [paths[p] for p in platforms if p in paths]


def ci_report(report, project: Project, pipelines: Pipelines) -> None:
    """Add the platform set-up, the forecast and the flowchart to the migration report."""
    from .forecast import forecast
    from .setup import flowchart, setup_tasks

    plans = pipelines.plans
    report.ci_setup = setup_tasks(project, plans)
    first = next(iter(plans.values()))
    report.ci_flowchart = flowchart(first)
    report.ci_forecast = {platform: forecast(project, platform=platform) for platform in plans}
