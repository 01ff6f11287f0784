"""The pipeline files `translate --ci` writes, at the root of the git repository that holds the
outputs (the platforms read them only there), else next to the outputs."""

from __future__ import annotations

from pathlib import Path

from ..compose import ComposeResult
from ..diagnostics import Diagnostics
from ..model import Project
from ..paths import Rebaser, relative
from . import github, gitlab
from .plan import GITLAB_PATH, CiPlan, github_path, pipeline_root, plan_ci, workdir_of


def render_pipelines(project: Project, rebase: Rebaser, compose: ComposeResult, diags: Diagnostics,
                     platforms: tuple[str, ...]) -> tuple[dict[Path, str], CiPlan]:
    """The pipeline files, and the plan they come from (for the migration report). compose gives
    the host directories that travel between jobs, and the images of `cached: true` services
    their cache."""
    root = pipeline_root(rebase.out)
    plan = plan_ci(project, rebase, root, compose, diags)
    source = relative(project.services_file, root)
    outputs: dict[Path, str] = {}
    if "github" in platforms:
        outputs[root / github_path(plan.workdir)] = github.render(plan, source)
    if "gitlab" in platforms:
        outputs[root / GITLAB_PATH] = gitlab.render(plan, source)
    return outputs, plan


def pipeline_paths(rebase: Rebaser, platforms: tuple[str, ...]) -> tuple[Path, list[Path]]:
    """The repository's root, and the pipeline files translate writes there for the project."""
    root = pipeline_root(rebase.out)
    workdir = workdir_of(rebase.out, root)
    paths = {"github": root / github_path(workdir), "gitlab": root / GITLAB_PATH}
    return root, [paths[p] for p in platforms if p in paths]


def ci_report(report, project: Project, plan: CiPlan, platforms: tuple[str, ...]) -> None:
    """Add the platform set-up and the flowchart to the migration report."""
    from .setup import flowchart, setup_tasks

    report.ci_setup = setup_tasks(project, plan, platforms)
    report.ci_flowchart = flowchart(plan)
