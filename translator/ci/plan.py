"""The step tree as CI jobs: what GitHub Actions and GitLab CI pipelines are rendered from.

Default layout, as on Codeship: a build is ONE runner job that runs the top-level steps in
order, each through the generated script (`--step NAME`), so parallel groups run side by side
on that runner exactly as `codeship-steps.sh` runs them locally; each top-level step is shown on
its own (a GitHub step, a GitLab collapsible section). A build is split into jobs only where the
platform needs a boundary: on GitLab, a manual group is a `when: manual` job (GitHub approves a
build by running it again through `workflow_dispatch`, as Codeship re-ran the approved build).

`--ci-fanout`: each top-level step is a stage, and a top-level parallel group's branches are jobs
on runners of their own. Wherever a build is split, what the steps write into the checkout
travels to the later jobs (see `carried`), or translate refuses (C2C710).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostics
from ..model import GroupStep, Project, PushStep, RunStep, Step, walk, with_credentials
from ..names import slug
from ..paths import Rebaser, relative, repository_root
from ..records import Record
from ..script import started_with

if TYPE_CHECKING:
    from ..compose import ComposeResult

GITHUB_PATH = Path(".github") / "workflows" / "codeship.yml"  # a project at the repository's root
GITLAB_PATH = Path(".gitlab-ci.yml")
PLATFORMS = ("github", "gitlab")
ROOT = "."  # in CiPlan.carried: the whole checkout travels


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


class Part(Record):
    """One `codeship-steps.sh --step NAME` call: a top-level step (or, with --ci-fanout, one
    branch of a top-level parallel group). A GitHub step or a GitLab section."""

    name: str  # for people: the step's name, or what it runs (`app: npm test`)
    step: str  # the name the script's --step selects ('' = the whole pipeline)
    slug: str  # a-z0-9- : GitLab section names
    filters: list[Filter] = []  # its own and its groups' tag/exclude filters
    inner_filters: list[Filter] = []  # those of the steps inside it (a deploy behind a filter in a group)
    manual: bool = False  # in a manual group: runs only in an approved build
    gated: bool = False  # at or after the first manual group: runs only in an approved build
    push: bool = False  # has push steps: --push on pushes
    secrets: bool = False  # decrypts with the AES key (encrypted env, build args, registry credentials)
    caches: list[Cache] = []
    images: list[str] = []  # the services whose images the script builds for it
    group: str = ""  # (fan-out) for a branch of a top-level parallel group: the group's name


class Job(Record):
    id: str  # a job id both platforms accept: s01-name
    name: str  # for people
    stage: int  # 1-based
    stage_name: str
    parts: list[Part]
    manual: bool = False  # a GitLab `when: manual` job (the approval gate)
    filters: list[Filter] = []  # (fan-out) the single part's filters: the job need not start

    @property
    def push(self) -> bool:
        return any(p.push for p in self.parts)

    @property
    def caches(self) -> list[Cache]:
        seen: dict[str, Cache] = {}
        for p in self.parts:
            for c in p.caches:
                seen.setdefault(c.name, c)
        return list(seen.values())

    @property
    def images(self) -> list[str]:
        return list(dict.fromkeys(i for p in self.parts for i in p.images))

    @property
    def decrypts(self) -> bool:  # a step of the job may decrypt (needs CODESHIP_AES_KEY)
        return any(p.secrets for p in self.parts)


class CiPlan(Record):
    jobs: list[Job]
    stages: list[str]  # one per stage, in order
    workdir: str  # the outputs' folder, relative to the pipeline's root ('.' when the same)
    carried: list[str] = []  # what travels between jobs, relative to the root (ROOT: the whole checkout)
    fanout: bool = False
    parts: list[Part] = []  # every part, in order (the build as one runner runs it)

    def jobs_of(self, stage: int) -> list[Job]:
        return [j for j in self.jobs if j.stage == stage]

    @property
    def split(self) -> bool:
        return len(self.jobs) > 1


def pipeline_root(out_dir: Path) -> Path:
    """Where the platforms look for the pipeline file: the git repository's root holding the
    outputs, else the outputs' folder itself."""
    return repository_root(out_dir) or Path(os.path.abspath(out_dir))


def github_path(workdir: str) -> Path:
    """The workflow file of the project whose outputs are in `workdir` (relative to the
    repository's root): codeship.yml at the root, else codeship-FOLDER.yml (a/b: codeship-a--b.yml:
    a slug has no `--`, so the folder a-b keeps codeship-a-b.yml), so that each project of a
    monorepo keeps its own workflow. A path whose folders are not their own slugs (names.slug:
    upper case, other characters) or that is long gets a hash of it too, so two folders never
    share a workflow; the project line each file records is the final word (outputs.py refuses to
    replace another project's)."""
    if workdir in ("", "."):
        return GITHUB_PATH
    name = "--".join(slug(folder) for folder in workdir.split("/"))
    if name != workdir.replace("/", "--") or len(name) > 50:
        name = name[:50].rstrip("-") + "-" + hashlib.sha256(workdir.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return GITHUB_PATH.parent / f"codeship-{name}.yml"


def workdir_of(out: Path, root: Path) -> str:
    """The outputs' folder relative to the pipeline's root ('.' when the same), POSIX-style."""
    return posixpath.normpath(Path(relative(out, root)).as_posix())


def plan_ci(project: Project, rebase: Rebaser, root: Path, compose: ComposeResult, diags: Diagnostics,
            platform: str = "github", fanout: bool = False) -> CiPlan:
    """The jobs of one platform. GitHub never splits a build at a manual group (its approval is a
    re-run of the build); GitLab does (a `when: manual` job)."""
    workdir = workdir_of(rebase.out, root)
    secret_steps = _secret_steps(project)
    counts: dict[str, int] = {}
    for step in walk(project.steps):
        counts[step.name] = counts.get(step.name, 0) + 1
    groups: list[list[Part]] = []  # per top-level step: its parts
    gated = False
    for step in project.steps:
        outer = _filters(step)
        # a manual group inside a group makes the whole top-level step wait for the approval (the
        # platforms' gates hold jobs and steps, not a part of one)
        manual = any(isinstance(s, GroupStep) and s.kind == "manual" for s in walk([step]))
        gated = gated or manual
        if fanout and isinstance(step, GroupStep) and step.kind == "parallel" and step.steps:
            branches = [(child, outer + _filters(child), f"{display(step)} / {display(child)}")
                        for child in step.steps]
        else:
            branches = [(step, outer, display(step))]
        parts = []
        for child, filters, name in branches:
            if "\x00" in child.name:
                diags.error("C2C730", f"step name {child.name!r} holds a NUL character, which no shell argument "
                            "can carry: its CI job could not select it", child.loc, "rename the step without it")
            if counts.get(child.name, 0) > 1:
                diags.warning("C2C701", f"step name '{child.name}' is used more than once: its CI step runs "
                              "every step of that name (the script selects steps by name)", child.loc,
                              "give the step a name of its own")
            parts.append(Part(name=name, step=child.name, slug=slug(child.name, 40), filters=filters,
                              inner_filters=[f for s in walk([child]) if s is not child for f in _filters(s)],
                              manual=manual, gated=gated,
                              push=any(isinstance(s, PushStep) for s in walk([child])),
                              secrets=any(id(s) in secret_steps for s in walk([child])),
                              caches=_caches(project, compose, child), images=_images(project, compose, child),
                              group="" if child is step else display(step)))
        groups.append(parts)
    if not groups:  # no steps: one job runs the script, which says so, rather than an empty pipeline
        groups = [[Part(name="steps", step="", slug="steps")]]
    jobs, stages = (_fanout(groups) if fanout else _one_runner(groups, split_manual=platform == "gitlab"))
    all_parts = [p for parts in groups for p in parts]
    plan = CiPlan(jobs=jobs, stages=stages, workdir=workdir, fanout=fanout, parts=all_parts)
    if plan.split:
        plan.carried = _carried(project, rebase, root, diags, platform, fanout)
    return plan


def _one_runner(groups: list[list[Part]], split_manual: bool) -> tuple[list[Job], list[str]]:
    """One job for the build; with split_manual, a manual group is a job of its own and the
    steps after it another."""
    runs: list[tuple[list[Part], bool]] = []
    for parts in groups:
        manual = split_manual and parts[0].manual
        if manual or not runs or runs[-1][1]:
            runs.append((list(parts), manual))
        else:
            runs[-1][0].extend(parts)
    jobs, stages = [], []
    for n, (parts, manual) in enumerate(runs, 1):
        if len(runs) == 1:
            job_id, name = "build", "Codeship build"
        else:
            job_id = f"s{n:02d}-" + ("build" if not manual else slug(parts[0].step, 40))
            name = parts[0].name if manual else (
                "Codeship build" if n == 1 else f"Codeship build (after {runs[n - 2][0][0].name})")
        stages.append(job_id)
        jobs.append(Job(id=job_id, name=name, stage=n, stage_name=job_id, parts=parts, manual=manual,
                        filters=parts[0].filters if manual else []))
    return jobs, stages


def _fanout(groups: list[list[Part]]) -> tuple[list[Job], list[str]]:
    jobs, stages, used = [], [], set()
    for n, parts in enumerate(groups, 1):
        stage_name = f"s{n:02d}-{slug(parts[0].step if len(parts) == 1 else parts[0].name.split(' / ')[0], 40)}"
        stages.append(stage_name)
        for part in parts:
            base = stage_name if len(parts) == 1 else f"{stage_name}-{part.slug}"
            job_id, k = base, 1
            while job_id in used:
                k += 1
                job_id = f"{base}-{k}"
            used.add(job_id)
            jobs.append(Job(id=job_id, name=part.name, stage=n, stage_name=stage_name, parts=[part],
                            manual=part.manual, filters=part.filters))
    return jobs, stages


def _carried(project: Project, rebase: Rebaser, root: Path, diags: Diagnostics, platform: str,
             fanout: bool) -> list[str]:
    """The host directories the steps mount, relative to the pipeline's root: they travel from
    job to job. The checkout itself (or a folder above the outputs that holds it) travels whole;
    a directory outside the checkout cannot travel: C2C710."""
    out: list[str] = []
    for svc in project.services.values():
        for vol in svc.volumes:
            host = vol.host or ""
            if not host or vol.is_named or os.path.isabs(host) or host.startswith(("~", "$")):
                continue
            path = posixpath.normpath(relative(Path(rebase.out) / rebase.path(host), root).replace(os.sep, "/"))
            if path == ".." or path.startswith("../"):
                why = "--ci-fanout runs steps on runners of their own" if fanout else (
                    "the manual group is a job of its own on GitLab")
                diags.error("C2C710", f"service '{svc.name}': volume '{host}:{vol.container}' is outside the "
                            f"repository, and {why}: what a step writes there cannot reach the later jobs",
                            vol.loc, "mount a folder inside the repository"
                            + (", or leave out --ci-fanout (one runner per build)" if fanout else ""))
                continue
            out.append(path)
    if any(p == ROOT for p in out):
        return [ROOT]
    out = sorted(set(out))  # a folder inside another that travels travels with it
    return [p for p in out if not any(p.startswith(q + "/") for q in out)]


def _secret_steps(project: Project) -> set[int]:
    """The steps (ids) that decrypt with the AES key: their service (or one it starts) has
    encrypted environment or build args, or their registry credentials are encrypted."""
    def encrypted(name: str) -> bool:
        s = project.services.get(name)
        return bool(s and (s.encrypted_env_file or s.encrypted_environment or s.encrypted_dockercfg_path
                           or (s.build and (s.build.encrypted_args_file or s.build.encrypted_args))))

    out = set()
    for step, (cfg_path, _) in with_credentials(project.steps):
        if isinstance(step, (RunStep, PushStep)):
            if cfg_path or any(encrypted(n) for n in started_with(project, step.service)):
                out.add(id(step))
    return out


def _images(project: Project, compose: ComposeResult, step: Step) -> list[str]:
    needed: dict[str, None] = {}
    for s in walk([step]):
        if isinstance(s, (RunStep, PushStep)) and s.service in project.services:
            needed.update(dict.fromkeys(started_with(project, s.service, compose.base_images)))
    return [n for n in needed if n in compose.built]


def _caches(project: Project, compose: ComposeResult, step: Step) -> list[Cache]:
    """The cached services whose images the script may build for the step: the services of its
    steps (on_fail ones too), what they depend on, and the services their Dockerfiles start FROM."""
    return [Cache(service=name, image=compose.images[name], name=cache_name(compose.images[name]),
                  fallback=project.services[name].default_cache_branch or "")
            for name in _images(project, compose, step) if project.services[name].cached]


def cache_name(image: str) -> str:
    """c2c-docker-IMAGE, IMAGE as it is when it is its own slug of at most 60 characters;
    otherwise its slug cut to 60 and a hash of it, so that two images never share a cache
    (`org/app` and `org-app`)."""
    if slug(image) == image and len(image) <= 60:
        return "c2c-docker-" + image
    return f"c2c-docker-{slug(image, 60)}-{hashlib.sha256(image.encode()).hexdigest()[:8]}"


def display(step: Step, limit: int = 60) -> str:
    """A step's name for people: its own name, else what it runs (`app: npm test`), never a hash."""
    if not step.auto_named:
        return step.name
    if isinstance(step, RunStep):
        text = f"{step.service}: {' '.join(step.command)}" if step.command else f"{step.service}: (its command)"
    elif isinstance(step, PushStep):
        text = f"push {step.image_name}"
    elif isinstance(step, GroupStep):
        text = f"{step.kind}: " + ", ".join(display(s, limit) for s in step.steps)
    else:
        text = step.name
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


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
