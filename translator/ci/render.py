"""The pipeline files `translate --ci` writes, at the root of the git repository that holds the
outputs (the platforms read them only there), else next to the outputs."""

from __future__ import annotations

import os
from pathlib import Path

from ..diagnostics import Diagnostics
from ..model import Project
from . import github, gitlab
from .plan import GITHUB_PATH, GITLAB_PATH, pipeline_root, plan_ci


def render_pipelines(project: Project, out_dir: Path, host_dirs: list[str], diags: Diagnostics,
                     platforms: tuple[str, ...], services_name: str, compose=None) -> dict[Path, str]:
    """compose (the ComposeResult) gives the images of `cached: true` services their cache."""
    root = pipeline_root(out_dir)
    plan = plan_ci(project, out_dir, root, host_dirs, diags, compose)
    source = os.path.normpath(os.path.join(plan.workdir, services_name))
    outputs: dict[Path, str] = {}
    if "github" in platforms:
        outputs[root / GITHUB_PATH] = github.render(plan, source)
    if "gitlab" in platforms:
        outputs[root / GITLAB_PATH] = gitlab.render(plan, source)
    return outputs


def ci_report(report, project: Project, out_dir: Path, host_dirs: list[str], platforms: tuple[str, ...],
              compose=None) -> None:
    """Add the platform set-up and the flowchart to the migration report."""
    from .setup import flowchart, setup_tasks

    plan = plan_ci(project, out_dir, pipeline_root(out_dir), host_dirs, Diagnostics(), compose)
    report.ci_setup = setup_tasks(project, plan, platforms)
    report.ci_flowchart = flowchart(plan)
