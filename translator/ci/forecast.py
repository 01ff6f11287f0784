"""What a build costs on the CI platform, before anyone runs it: runner starts, jobs and images
built for a build of the default branch, of a feature branch and of a tag, in the default
layout (one runner per build) and with `--ci-fanout`. Pure and cheap: it reads only the
Project (no files, no Docker), so that it can be called on many projects."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..model import GroupStep, Project, PushStep, RunStep, Step, walk
from ..script import started_with

REFS = {"default_branch": "master", "feature_branch": "feature/x", "tag": "v1.0.0"}


def forecast(project: Project, built: Iterable[str] | None = None, *, platform: str = "github",
             refs: dict[str, str] | None = None) -> dict:
    """forecast(project, built=None, *, platform="github", refs=None) -> dict

    project: a loaded Project (translator.project.load_project). built: the services whose image
    the build builds (default: those with a `build:` section). platform: "github" or "gitlab"
    (GitLab splits the default layout at a manual group; in a --ci-fanout pipeline its rules
    leave filtered jobs out, GitHub's `if:` only those whose filters are plain branch names). refs: the build's ref per
    kind, default {"default_branch": "master", "feature_branch": "feature/x", "tag": "v1.0.0"}, with
    "main" as the default branch when the steps' filters name main and not master.

    Returns {"default": {KIND: {"runner_starts": N, "jobs": N, "images_built": N}, ...},
             "fanout": {...}} for each KIND of refs. An unapproved push build: manual groups (and,
    where the platform waits for them, the steps after them) do not start. jobs: the jobs the
    pipeline shows; runner_starts: those that start a runner; images_built: image builds summed
    over the runners (a runner builds each image it uses once; the Dockerfiles' FROM lines are
    not read, so images built only as another's base are not counted)."""
    refs = refs or _refs(project)
    built_set = set(built) if built is not None else {n for n, s in project.services.items() if s.build}
    return {layout: {kind: _one(project, built_set, platform, layout == "fanout", ref)
                     for kind, ref in refs.items()}
            for layout in ("default", "fanout")}


def _refs(project: Project) -> dict[str, str]:
    """REFS, with "main" for the default branch of a project whose filters pick main, not master
    (newer repositories): its deploy steps are then in the default branch's forecast."""
    tags = [s.tag for s in walk(project.steps) if s.tag]
    if any(_matches(t, "main") for t in tags) and not any(_matches(t, "master") for t in tags):
        return {**REFS, "default_branch": "main"}
    return REFS


def _matches(text: str, ref: str) -> bool:
    if ref == text:
        return True
    if "^" not in text and "$" not in text:
        return False
    try:
        return re.search(text, ref) is not None
    except re.error:
        return False


def _plain(step: Step) -> bool:
    """Whether GitHub can evaluate the step's filters itself (github.ref_test): plain names."""
    from .github import PLAIN_REF

    return all(PLAIN_REF.fullmatch(t) and "$" not in t for t in (step.tag, step.exclude) if t)


def _runs(filters: list[Step], ref: str) -> bool:
    for step in filters:
        if step.exclude and _matches(step.exclude, ref):
            return False
        if step.tag and not _matches(step.tag, ref):
            return False
    return True


def _images(project: Project, built: set[str], step: Step, ref: str, outer: list[Step]) -> set[str]:
    """The built images the step's running steps use on this ref (nested filters applied)."""
    out: set[str] = set()

    def visit(s: Step, chain: list[Step]) -> None:
        chain = chain + [s]
        if not _runs(chain, ref):
            return
        if isinstance(s, GroupStep):
            if s.kind == "manual":
                return
            for child in s.steps:
                visit(child, chain)
        elif isinstance(s, (RunStep, PushStep)) and s.service in project.services:
            out.update(n for n in started_with(project, s.service) if n in built)

    visit(step, outer)
    return out


def _one(project: Project, built: set[str], platform: str, fanout: bool, ref: str) -> dict:
    # jobs: (runs on this ref?, images) per job, in order
    jobs: list[tuple[bool, set[str]]] = []
    gated = False
    current: set[str] | None = None  # the open default-layout job's images
    for step in project.steps:
        manual = any(isinstance(s, GroupStep) and s.kind == "manual" for s in walk([step]))  # as plan.py
        gated = gated or manual
        branches = (step.steps if fanout and isinstance(step, GroupStep) and step.kind == "parallel"
                    and step.steps else [step])
        if fanout:
            for child in branches:
                outer = [step] if child is not step else []
                starts = not gated and (_runs(outer + [child], ref) or (
                    platform == "github" and not all(_plain(s) for s in outer + [child])))
                jobs.append((starts, _images(project, built, child, ref, outer) if starts else set()))
            continue
        images = _images(project, built, step, ref, []) if not gated else set()
        if platform == "gitlab" and manual:
            jobs.append((False, set()))  # the manual job waits
            current = None
        elif current is None:
            jobs.append((not gated or platform == "github", images))
            current = jobs[-1][1]
        else:
            current.update(images)
    if not jobs:
        jobs = [(True, set())]
    return {"runner_starts": sum(1 for starts, _ in jobs if starts), "jobs": len(jobs),
            "images_built": sum(len(images) for starts, images in jobs if starts)}
