"""The step tree as CI jobs: what GitHub Actions and GitLab CI pipelines are rendered from.

Each top-level step is a stage that runs after the one before it; a top-level parallel group
fans out into one job per branch. A job runs its step through the generated script
(`--step NAME`), so nested groups, on_fail steps and the step's own filters keep the script's
semantics; the job-level filters only keep runners from starting for steps that would not run.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostics
from ..model import GroupStep, Project, PushStep, RunStep, Step, walk
from ..names import slug
from ..paths import Rebaser, relative, repository_root
from ..records import Record
from ..script import started_with

if TYPE_CHECKING:
    from ..compose import ComposeResult

GITHUB_PATH = Path(".github") / "workflows" / "codeship.yml"  # a project at the repository's root
GITLAB_PATH = Path(".gitlab-ci.yml")
PLATFORMS = ("github", "gitlab")


class Filter(Record):
    """A tag or exclude filter of the step or of a group around it."""

    kind: str  # tag | exclude
    text: str  # as written: a tag equal to it matches
    regex: str = ""  # the RE2 pattern, when the text is a regex (it has ^ or $) and a valid one
    ere: str = ""  # the same as a bash ERE (what the script itself matches with)


class Cache(Record):
    """A `cached: true` service whose image a job may build: the image the script leaves under its
    plain name is kept in the platform's cache and loaded on the next run's runner, where the
    script builds with it as the layer cache (C2C_CACHE_FROM)."""

    service: str
    image: str  # the plain name the script tags after each build
    name: str  # the cache's name (key prefix and folder under .c2c-cache): c2c-docker-IMAGE
    fallback: str = ""  # default_cache_branch: the branch whose cache a branch without one starts from


class Job(Record):
    id: str  # a job id both platforms accept: s01-name
    name: str  # the step's name, for people ("group / branch" for a branch of a parallel group)
    step: str  # the name the script's --step selects
    stage: int  # 1-based index of the top-level step
    stage_name: str
    filters: list[Filter] = []
    manual: bool = False
    push: bool = False  # the step has push steps: pass --push on pushes
    caches: list[Cache] = []  # the cached services the job's steps may build
    group: str = ""  # for a branch of a top-level parallel group: the group's name


class CiPlan(Record):
    jobs: list[Job]
    stages: list[str]  # one per top-level step that became jobs, in order
    workdir: str  # the outputs' folder, relative to the pipeline's root ('.' when the same)
    host_dirs: list[str]  # host-mapped directories, relative to the pipeline's root, to carry between jobs

    def jobs_of(self, stage: int) -> list[Job]:
        return [j for j in self.jobs if j.stage == stage]


def pipeline_root(out_dir: Path) -> Path:
    """Where the platforms look for the pipeline file: the git repository's root holding the
    outputs, else the outputs' folder itself."""
    return repository_root(out_dir) or Path(os.path.abspath(out_dir))


def github_path(workdir: str) -> Path:
    """The workflow file of the project whose outputs are in `workdir` (relative to the
    repository's root): codeship.yml at the root, else codeship-FOLDER.yml (a/b: codeship-a-b.yml),
    so that each project of a monorepo keeps its own workflow. A folder whose name is not its own
    slug (names.slug: upper case, other characters) gets a hash of it too, so two folders never
    share a workflow; the project line each file records is the final word (outputs.py refuses to
    replace another project's)."""
    if workdir in ("", "."):
        return GITHUB_PATH
    name = slug(workdir, limit=50)
    if name != workdir.replace("/", "-"):
        name += "-" + hashlib.sha256(workdir.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return GITHUB_PATH.parent / f"codeship-{name}.yml"


def workdir_of(out: Path, root: Path) -> str:
    """The outputs' folder relative to the pipeline's root ('.' when the same), POSIX-style."""
    return posixpath.normpath(Path(relative(out, root)).as_posix())


def plan_ci(project: Project, rebase: Rebaser, root: Path, compose: ComposeResult, diags: Diagnostics) -> CiPlan:
    """compose.host_dirs: as the outputs write them (see Rebaser.path), relative to the output folder."""
    workdir = workdir_of(rebase.out, root)
    counts: dict[str, int] = {}
    for step in walk(project.steps):
        counts[step.name] = counts.get(step.name, 0) + 1
    jobs: list[Job] = []
    stages: list[str] = []
    used: set[str] = set()
    for n, step in enumerate(project.steps, 1):
        stage_name = f"s{n:02d}-{slug(step.name, 40)}"
        stages.append(stage_name)
        outer = _filters(step)
        if isinstance(step, GroupStep) and step.kind == "parallel" and step.steps:
            branches = [(child, outer + _filters(child)) for child in step.steps]
        else:
            branches = [(step, outer)]
        for child, filters in branches:
            base = stage_name if child is step else f"{stage_name}-{slug(child.name, 40)}"
            job_id, k = base, 1
            while job_id in used:
                k += 1
                job_id = f"{base}-{k}"
            used.add(job_id)
            if counts.get(child.name, 0) > 1:
                diags.warning("C2C701", f"step name '{child.name}' is used more than once: its CI job runs "
                              "every step of that name (the script selects steps by name)", child.loc,
                              "give the step a name of its own")
            jobs.append(Job(
                id=job_id, name=child.name if child is step else f"{step.name} / {child.name}",
                step=child.name, stage=n, stage_name=stage_name, filters=filters,
                manual=any(isinstance(s, GroupStep) and s.kind == "manual" for s in (step, child)),
                push=any(isinstance(s, PushStep) for s in walk([child])),
                caches=_caches(project, compose, child), group="" if child is step else step.name))
    if not jobs:  # no steps: one job runs the script, which says so, rather than an empty pipeline
        stages.append("s01-steps")
        jobs.append(Job(id="s01-steps", name="steps", step="", stage=1, stage_name="s01-steps"))
    carried = []
    for d in compose.host_dirs:
        path = posixpath.normpath(posixpath.join(workdir, Path(d).as_posix()))
        if path != ".." and not path.startswith("../") and path != ".":
            carried.append(path)
    return CiPlan(jobs=jobs, stages=stages, workdir=workdir, host_dirs=sorted(set(carried)))


def _caches(project: Project, compose: ComposeResult, step: Step) -> list[Cache]:
    """The cached services whose images the script may build for the step: the services of its
    steps (on_fail ones too), what they depend on, and the services their Dockerfiles start FROM."""
    needed: dict[str, None] = {}
    for s in walk([step]):
        if isinstance(s, (RunStep, PushStep)) and s.service in project.services:
            needed.update(dict.fromkeys(started_with(project, s.service, compose.base_images)))
    return [Cache(service=name, image=compose.images[name], name=cache_name(compose.images[name]),
                  fallback=project.services[name].default_cache_branch or "")
            for name in needed if project.services[name].cached and name in compose.built]


def cache_name(image: str) -> str:
    """c2c-docker-IMAGE, IMAGE as it is when it is its own slug of at most 60 characters;
    otherwise its slug cut to 60 and a hash of it, so that two images never share a cache
    (`org/app` and `org-app`)."""
    if slug(image) == image and len(image) <= 60:
        return "c2c-docker-" + image
    return f"c2c-docker-{slug(image, 60)}-{hashlib.sha256(image.encode()).hexdigest()[:8]}"


def _filters(step: Step) -> list[Filter]:
    out = []
    for kind, text in (("tag", step.tag), ("exclude", step.exclude)):
        if text:
            regex, ere = _regex(text)
            out.append(Filter(kind=kind, text=text, regex=regex, ere=ere))
    return out


def _regex(text: str) -> tuple[str, str]:
    """(RE2 pattern, bash ERE) when the filter is a regex jet would use: one with ^ or $ that
    compiles; an invalid regex only matches by equality, as in jet (the script warned: C2C503)."""
    if "^" not in text and "$" not in text:
        return "", ""
    from .. import tag_filter

    try:
        return text, tag_filter.to_bash_ere(text)
    except tag_filter.UnsupportedRegex:
        return "", ""


def is_leaf(step: Step) -> bool:
    return isinstance(step, (RunStep, PushStep))
