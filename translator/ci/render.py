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
from .plan import GITHUB_PATH, GITLAB_PATH, CiPlan, pipeline_root, plan_ci


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
    for platform, path, module in (("github", GITHUB_PATH, github), ("gitlab", GITLAB_PATH, gitlab)):
        if platform not in platforms:
            continue
        found = Diagnostics()
        plan = plan_ci(project, rebase, root, compose, found, platform, fanout)
        seen = {(d.code, d.message, d.loc) for d in diags.items}  # each platform plans: say things once
        diags.items += [d for d in found.items if (d.code, d.message, d.loc) not in seen]
        items = setup_items(project, plan, platform)
        result.plans[platform] = plan
        result.setup[platform] = items
        result.outputs[root / path] = module.render(plan, source, items)  # type: ignore[attr-defined]
    return result


def ci_report(report, project: Project, pipelines: Pipelines) -> None:
    """Add the platform set-up, the forecast and the flowchart to the migration report."""
    from .forecast import forecast
    from .setup import flowchart, setup_tasks

    plans = pipelines.plans
    report.ci_setup = setup_tasks(project, plans)
    first = next(iter(plans.values()))
    report.ci_flowchart = flowchart(first)
    report.ci_forecast = {platform: forecast(project, platform=platform) for platform in plans}
