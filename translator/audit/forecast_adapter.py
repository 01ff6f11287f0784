"""The runner forecast of one project, for `audit`: per CI layout, for a build of the default
branch, of a feature branch and of a tag, the runner starts, the jobs and the images built
(translator/ci/forecast.py, GitHub's layout)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..ci.forecast import REFS, forecast

if TYPE_CHECKING:
    from ..compose import ComposeResult
    from ..model import Project

LAYOUTS = ("default", "fanout")  # one runner per build; the branches of parallel groups on runners of their own
BUILDS = tuple(REFS)  # default_branch, feature_branch, tag
METRICS = ("runner_starts", "jobs", "images_built")

Forecast = dict[str, dict[str, dict[str, int]]]  # layout → build kind → metric → N


def forecast_of(project: Project, compose: ComposeResult) -> Forecast:
    """compose: the images the build builds (the forecast reads nothing else but the project)."""
    return forecast(project, compose.built)
