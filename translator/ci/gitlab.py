"""`.gitlab-ci.yml`: one stage per top-level step, one job per step (per branch of a parallel
group). Stages rather than `needs:` chains: a stage waits for every job of the stage before,
a failed job stops the later stages while its siblings finish (Codeship's rule), and a job left
out by its `rules:` leaves no gap in the chain."""

from __future__ import annotations

import re

from ..shell import sq
from . import cache
from .plan import CiPlan, Filter, Job
from .yamlout import dump

REF = "$CI_COMMIT_REF_NAME"
MAX_CACHES = 4  # GitLab's limit per job
MERGED_PREFIX = "c2c-images-"  # a job's caches in one (images' caches are c2c-docker-IMAGE)
DEFAULT_SLUG = "$CI_DEFAULT_BRANCH_SLUG"  # a predefined variable since GitLab 17.x


def render(plan: CiPlan, source: str) -> str:
    stages = [plan.stages[n - 1] for n in sorted({j.stage for j in plan.jobs})]
    before = []
    if plan.workdir != ".":
        before.append(f"cd {sq(plan.workdir)} || exit")
    before.append('export CI_PR_NUMBER="${CI_MERGE_REQUEST_IID:-}"')
    before.append('if [ -n "${CI_MERGE_REQUEST_IID:-}" ]; then export CI_PULL_REQUEST='
                  '"$CI_MERGE_REQUEST_PROJECT_URL/-/merge_requests/$CI_MERGE_REQUEST_IID"; '
                  'else export CI_PULL_REQUEST=false; fi')
    doc: dict = {"stages": stages, "default": {"before_script": before}}
    for job in plan.jobs:
        doc[job.id] = _job(plan, job)
    return dump(doc, "the Codeship steps as GitLab CI jobs", source, plan.workdir)


def _job(plan: CiPlan, job: Job) -> dict:
    out: dict = {"stage": job.stage_name}
    rules = _rules(job)
    if rules:
        out["rules"] = rules
    if job.manual:
        out["allow_failure"] = False  # later stages wait for the approval, as on Codeship
    if job.caches:
        out["cache"] = _caches(plan, job)
        out["variables"] = {cache.ENV: cache.services(job.caches)}
    script = ["set --"] + cache.gitlab_load_lines(job.caches)
    if job.push:  # push steps push only from branch and tag pipelines, never for merge requests
        script.append('if [ "$CI_PIPELINE_SOURCE" != merge_request_event ]; then set -- --push; fi')
    command = ("./codeship-steps.sh" + (f" --step {sq(job.step)}" if job.step else "") + f" --tag \"{REF}\" --ci-branch \"{REF}\" "
               '--ci-commit-id "$CI_COMMIT_SHA" --ci-build-id "$CI_PIPELINE_ID" '
               '--ci-repo-name "$CI_PROJECT_NAME" --ci-project-id "$CI_PROJECT_ID" '
               '--ci-committer-username "${GITLAB_USER_LOGIN:-}"')
    if job.manual:
        command += " --manual"
    if job.caches:  # the built images are kept also when a step failed (they are fine)
        script.append(command + ' "$@" || c2c_status=$?')
        script += cache.gitlab_save_lines(job.caches)
        script.append('exit "${c2c_status:-0}"')
    else:
        script.append(command + ' "$@"')
    out["script"] = script
    if plan.host_dirs:
        out["artifacts"] = {"paths": list(plan.host_dirs), "expire_in": "1 day"}
    return out


def _caches(plan: CiPlan, job: Job) -> list[dict]:
    """One cache per image, keyed IMAGE_BRANCH (the branch's slug: GitLab keys have no `/`; the
    image's name has no `_`, so no two images' or branches' keys meet), falling back to
    default_cache_branch's slug or the default branch's ($CI_DEFAULT_BRANCH_SLUG); saved also
    when the job fails. Past GitLab's limit of 4 caches per job, one cache holds them all, under
    a prefix no image's cache has."""
    def path(c) -> str:
        folder = cache.folder(c) + "/"
        return folder if plan.workdir == "." else f"{plan.workdir}/{folder}"

    def entry(name: str, fallback: str, paths: list[str]) -> dict:
        return {"key": f"{name}_$CI_COMMIT_REF_SLUG", "fallback_keys": [f"{name}_{fallback}"],
                "paths": paths, "when": "always"}

    if len(job.caches) > MAX_CACHES:
        fallbacks = {c.fallback for c in job.caches}
        fallback = commit_ref_slug(fallbacks.pop()) if len(fallbacks) == 1 and "" not in fallbacks else DEFAULT_SLUG
        return [entry(f"{MERGED_PREFIX}{job.id}", fallback, [path(c) for c in job.caches])]
    return [entry(c.name, commit_ref_slug(c.fallback) if c.fallback else DEFAULT_SLUG, [path(c)])
            for c in job.caches]


def commit_ref_slug(branch: str) -> str:
    """GitLab's CI_COMMIT_REF_SLUG of a branch name, mirrored on purpose (the cache keys must
    meet the ones GitLab computes), so not names.slug: lower case, a-z0-9 kept, every other
    character `-` (runs are not joined), 63 at most, no `-` at either end."""
    return re.sub(r"[^a-z0-9]", "-", branch.lower())[:63].strip("-")


def _rules(job: Job) -> list[dict]:
    rules = []
    for f in job.filters:
        if f.kind == "exclude":
            rules.append({"if": _matches(f), "when": "never"})
    for f in job.filters:
        if f.kind == "tag":
            rules.append({"if": _differs(f), "when": "never"})
    if rules or job.manual:
        rules.append({"when": "manual" if job.manual else "on_success"})
    return rules


def _string(text: str) -> str:
    return "'" + text + "'" if '"' in text else '"' + text + '"'


def _pattern(regex: str) -> str:
    """/…/ with every unescaped slash escaped."""
    return "/" + re.sub(r"(?<!\\)((?:\\\\)*)/", r"\1\\/", regex) + "/"


def _matches(f: Filter) -> str:
    expr = f"{REF} == {_string(f.text)}"
    return f"{expr} || {REF} =~ {_pattern(f.regex)}" if f.regex else expr


def _differs(f: Filter) -> str:
    expr = f"{REF} != {_string(f.text)}"
    return f"{expr} && {REF} !~ {_pattern(f.regex)}" if f.regex else expr
