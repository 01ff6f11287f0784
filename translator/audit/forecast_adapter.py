"""The runner forecast of one project, for `audit`: per CI layout, for a build of the default
branch, of a feature branch and of a tag, the runner starts, the jobs and the images built.

The forecast itself belongs to the CI code (translator/ci/forecast.py, issue 20). Until that
module is on main, `_provisional` below estimates it from today's CI plan; the lead switches
`forecast_of` to the real function at merge and deletes the fallback.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..ci.plan import CiPlan, Filter, Job
from ..model import PushStep, RunStep, walk
from ..script import started_with

if TYPE_CHECKING:
    from ..compose import ComposeResult
    from ..model import Project

LAYOUTS = ("default", "fanout")  # one runner per build; the branches of parallel groups on runners of their own
BUILDS = ("default_branch", "feature_branch", "tag")
METRICS = ("runner_starts", "jobs", "images_built")
# What each build kind is called when the step filters are matched against it.
SAMPLE_REFS = {"default_branch": "master", "feature_branch": "feature/x", "tag": "v1.0.0"}

Forecast = dict[str, dict[str, dict[str, int]]]  # layout → build kind → metric → N


def forecast_of(project: Project, compose: ComposeResult, plan: CiPlan) -> Forecast:
    try:
        from ..ci.forecast import forecast  # type: ignore[import-not-found]  # issue 20, not on main yet
    except ImportError:
        return _provisional(project, compose, plan)
    return forecast(project, compose, plan)  # the lead: adapt this call to the real signature


# ---- PROVISIONAL (delete when translator.ci.forecast lands) ------------------------------------


def _provisional(project: Project, compose: ComposeResult, plan: CiPlan) -> Forecast:
    """Today's pipelines (one runner per job, plus GitHub's `filters` job when a job has
    filters) as "fanout"; one runner per build, split at manual gates, as "default"."""
    filters_job = any(job.filters for job in plan.jobs)
    out: Forecast = {layout: {} for layout in LAYOUTS}
    refs = dict(SAMPLE_REFS, default_branch=_default_branch(plan))
    for build, ref in refs.items():
        running = [job for job in plan.jobs if _runs(job, ref)]
        images = [_images(project, compose, job) for job in running]
        gates = len({job.stage for job in running if job.manual})
        runners = (1 + gates) if running else 0
        out["default"][build] = {"runner_starts": runners, "jobs": runners,
                                 "images_built": len(set().union(*images)) if images else 0}
        out["fanout"][build] = {"runner_starts": len(running) + (1 if filters_job else 0),
                                "jobs": len(running) + (1 if filters_job else 0),
                                "images_built": sum(len(i) for i in images)}
    return out


def _default_branch(plan: CiPlan) -> str:
    """master, or main when the steps' filters name main and not master (newer repositories)."""
    named = {ref: any(_matches(f, ref) for job in plan.jobs for f in job.filters if f.kind != "exclude")
             for ref in ("master", "main")}
    return "main" if named["main"] and not named["master"] else SAMPLE_REFS["default_branch"]


def _runs(job: Job, ref: str) -> bool:
    return all(_matches(f, ref) != (f.kind == "exclude") for f in job.filters)


def _matches(f: Filter, ref: str) -> bool:
    if f.text == ref:
        return True
    try:
        return bool(f.regex) and re.search(f.regex, ref) is not None
    except re.error:
        return False


def _images(project: Project, compose: ComposeResult, job: Job) -> set[str]:
    steps = [s for s in walk(project.steps) if s.name == job.step] if job.step else []
    needed: set[str] = set()
    for step in steps:
        for s in walk([step]):
            if isinstance(s, (RunStep, PushStep)) and s.service in project.services:
                needed.update(started_with(project, s.service, compose.base_images))
    return needed & set(compose.built)
