"""`.gitlab-ci.yml`. Default layout (see plan.py): one job runs the build, each top-level step in
a collapsible section of the job's log; a manual group is a `when: manual` job of its own stage,
and the steps after it another job. With --ci-fanout: one stage per top-level step, one job per
step (per branch of a top-level parallel group). Stages rather than `needs:` chains: a stage
waits for every job of the stage before, a failed job stops the later stages while its siblings
finish (Codeship's rule), and a job left out by its `rules:` leaves no gap in the chain. Where
the build is split, the checkout travels to the later jobs as an artifact."""

from __future__ import annotations

import re

from . import cache
from .plan import ROOT, CiPlan, Filter, Job, Part
from .yamlout import dump

REF = "$CI_COMMIT_REF_NAME"
MAX_CACHES = 4  # GitLab's limit per job
MERGED_PREFIX = "c2c-images-"  # a job's caches in one (images' caches are c2c-docker-IMAGE)
DEFAULT_SLUG = "$CI_DEFAULT_BRANCH_SLUG"  # a predefined variable since GitLab 17.x
WORKSPACE = ".c2c-workspace"  # the checkout as the jobs before left it


def psq(value: str) -> str:
    """Quote for any POSIX shell (GitLab's job shell may be sh): '…', a quote as '"'"'. Newlines
    and control characters stay inside the quotes (the YAML escapes them)."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


def render(plan: CiPlan, source: str, notes: list[str] | None = None) -> str:
    stages = [plan.stages[n - 1] for n in sorted({j.stage for j in plan.jobs})]
    before = []
    if plan.workdir != ".":
        before.append(f"cd {psq(plan.workdir)} || exit")
    before.append('export CI_PR_NUMBER="${CI_MERGE_REQUEST_IID:-}"')
    before.append('if [ -n "${CI_MERGE_REQUEST_IID:-}" ]; then export CI_PULL_REQUEST='
                  '"$CI_MERGE_REQUEST_PROJECT_URL/-/merge_requests/$CI_MERGE_REQUEST_IID"; '
                  'else export CI_PULL_REQUEST=false; fi')
    doc: dict = {"stages": stages, "default": {"before_script": before}}
    last = max(j.stage for j in plan.jobs)
    for job in plan.jobs:
        doc[job.id] = _job(plan, job, last)
    return dump(doc, "the Codeship steps as GitLab CI jobs", source, plan.workdir, notes)


def _job(plan: CiPlan, job: Job, last: int) -> dict:
    out: dict = {"stage": job.stage_name}
    rules = _rules(job)
    if rules:
        out["rules"] = rules
    if job.manual:
        out["allow_failure"] = False  # later stages wait for the approval, as on Codeship
    if job.caches:
        out["cache"] = _caches(plan, job)
        out["variables"] = {cache.ENV: cache.services(job.caches)}
    # push steps push only from branch and tag pipelines; a merge request's runs no filtered step
    script = ['if [ "$CI_PIPELINE_SOURCE" = merge_request_event ]; then set -- --pull-request; else set -- --push; fi']
    if job.manual:
        script.append('set -- "$@" --manual')
    up = "." if plan.workdir == "." else "/".join([".."] * len(plan.workdir.split("/")))  # the checkout's root
    if plan.carried and job.stage > 1:
        script.append(f"(cd {up} && for f in {WORKSPACE}/*.tar; do if [ -e \"$f\" ]; then "
                      f'tar -xpf "$f" || exit; fi; done; rm -rf {WORKSPACE})')
    script += cache.gitlab_load_lines(job.caches)
    for n, part in enumerate(job.parts, 1):
        script += _part(job, part, n)
    if plan.carried and job.stage < last:  # (not after_script: it runs also after a failure)
        script.append(("" if not job.caches else '[ -n "${c2c_status:-}" ] || ') + _pack(plan, job, up))
        out["artifacts"] = {"paths": [f"{WORKSPACE}/"], "expire_in": "1 day"}
    if job.caches:  # the built images are kept also when a step failed (they are fine)
        script += cache.gitlab_save_lines(job.caches)
        script.append('exit "${c2c_status:-0}"')
    out["script"] = script
    return out


def _part(job: Job, part: Part, n: int) -> list[str]:
    """The step in a collapsible section of the log (GitLab's section_start/section_end)."""
    section = f"codeship_step_{n}"
    command = ("./codeship-steps.sh" + (f" --step {psq(part.step)}" if part.step else "")
               + f' --tag "{REF}" "$@"')
    if job.caches:  # after a failure, the later steps do not run, the images are still kept
        command = f'[ -n "${{c2c_status:-}}" ] || {command} || c2c_status=$?'
    return [f"printf '\\033[0Ksection_start:%s:{section}\\r\\033[0K%s\\n' \"$(date +%s)\" {psq(part.name)}",
            command,
            f"printf '\\033[0Ksection_end:%s:{section}\\r\\033[0K\\n' \"$(date +%s)\""]


def _pack(plan: CiPlan, job: Job, up: str) -> str:
    """The checkout (or the host directories the steps mount) into this job's artifact."""
    archive = f"{WORKSPACE}/{job.id}.tar"
    if plan.carried == [ROOT]:
        what = f"--exclude=./.git --exclude=./{WORKSPACE} ."
    else:
        what = " ".join(psq(d) for d in plan.carried)
    return (f"(cd {up} && mkdir -p {WORKSPACE} && "
            f"{{ tar -cf {archive} {what} 2>/dev/null || [ -s {archive} ] || rm -f {archive}; }})")


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
        fallback = _slug(fallbacks.pop()) if len(fallbacks) == 1 and "" not in fallbacks else DEFAULT_SLUG
        return [entry(f"{MERGED_PREFIX}{job.id}", fallback, [path(c) for c in job.caches])]
    return [entry(c.name, _slug(c.fallback) if c.fallback else DEFAULT_SLUG, [path(c)])
            for c in job.caches]


def _slug(branch: str) -> str:
    """CI_COMMIT_REF_SLUG of a branch name: lower case, a-z0-9 kept, the rest `-`, 63 at most."""
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
