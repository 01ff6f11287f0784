"""`.gitlab-ci.yml`. Default layout (see plan.py): one job runs the build, each top-level step in
a collapsible section of the job's log; a manual group is a `when: manual` job of its own stage,
and the steps after it another job. With --ci-fanout: one stage per top-level step, one job per
step (per branch of a top-level parallel group). Stages rather than `needs:` chains: a stage
waits for every job of the stage before, a failed job stops the later stages while its siblings
finish (Codeship's rule), and a job left out by its `rules:` leaves no gap in the chain. Where
the build is split, the checkout travels to the later jobs as an artifact.

Whatever the layout: the top-level blocks (`workflow:` starts no merge-request pipeline;
`variables:` and `default:` run each job on GitLab.com's docker executor with Docker-in-Docker
over TLS, or on the runner's engine with C2C_GITLAB_DOCKER=host), each job's `rules:` (filter
text stays data: see _pattern), and `decorate`, which gives every job its time limit,
cancelling and environment."""

from __future__ import annotations

import re

from ..shell import psq  # the job shell may be a POSIX sh: never bash's $'…'
from . import cache
from .plan import ROOT, CiPlan, Filter, Job, Part
from .yamlout import dump

REF = "$CI_COMMIT_REF_NAME"
MAX_CACHES = 4  # GitLab's limit per job
MERGED_PREFIX = "c2c-images-"  # a job's caches in one (images' caches are c2c-docker-IMAGE)
DEFAULT_SLUG = "$CI_DEFAULT_BRANCH_SLUG"  # a predefined variable since GitLab 17.x
WORKSPACE = ".c2c-workspace"  # the checkout as the jobs before left it
# Merge request pipelines (and GitHub pull requests mirrored to GitLab) build a merge commit,
# which Codeship never did: the pipeline runs for pushes (branches, tags), the web, schedules, the API.
MERGE_REQUEST = "$CI_PIPELINE_SOURCE =~ /^(merge_request_event|external_pull_request_event)$/"
NOT_MERGE_REQUEST = "$CI_PIPELINE_SOURCE !~ /^(merge_request_event|external_pull_request_event)$/"
# The runner: by default GitLab.com's docker executor, each job in IMAGE_VAR's image with
# Docker-in-Docker beside it over TLS, as GitLab documents it. DOCKER_MODE_VAR=host uses the
# runner's own engine instead (a shell executor, or a docker executor that binds the socket).
DOCKER_MODE_VAR = "C2C_GITLAB_DOCKER"
IMAGE_VAR = "C2C_GITLAB_IMAGE"
DIND_VAR = "C2C_GITLAB_DIND"
IMAGE = "docker:27-cli"  # Alpine: the Docker CLI and Compose v2, no bash or openssl (apk adds them)
DIND = "docker:27-dind"
DIND_HOST = "tcp://docker:2376"
JOB_TIMEOUT = "3h"  # the most GitLab.com's hosted runners allow; RUNNER_SCRIPT_TIMEOUT is the default limit
SCRIPT_TIMEOUT = "1h"
APPROVAL_ENVIRONMENT = "codeship-approval"  # a protected environment of this name holds the manual jobs
# CODESHIP_AES_KEY scoped to this environment (and to APPROVAL_ENVIRONMENT when a manual job
# decrypts) reaches only the jobs that decrypt: they name it, no other job does.
SECRETS_ENVIRONMENT = "codeship-secrets"


def render(plan: CiPlan, source: str, notes: list[str] | None = None) -> str:
    stages = [plan.stages[n - 1] for n in sorted({j.stage for j in plan.jobs})]
    before = _docker_lines()
    if plan.workdir != ".":
        before.append(f"cd {psq(plan.workdir)} || exit")
    before.append('export CI_PR_NUMBER="${CI_MERGE_REQUEST_IID:-}"')
    before.append('if [ -n "${CI_MERGE_REQUEST_IID:-}" ]; then export CI_PULL_REQUEST='
                  '"$CI_MERGE_REQUEST_PROJECT_URL/-/merge_requests/$CI_MERGE_REQUEST_IID"; '
                  'else export CI_PULL_REQUEST=false; fi')
    doc: dict = {"workflow": _workflow(), "variables": _variables(), "stages": stages,
                 "default": {"image": f"${IMAGE_VAR}", "services": [{"name": f"${DIND_VAR}", "alias": "docker"}],
                             "before_script": before}}
    last = max(j.stage for j in plan.jobs)
    for job in plan.jobs:
        doc[job.id] = decorate(job, _job(plan, job, last))
    return dump(doc, "the Codeship steps as GitLab CI jobs", source, plan.workdir, notes)


def _workflow() -> dict:
    """Pipelines for pushes to branches and tags (and web, schedule, API runs), never for merge
    requests: one pipeline per push, as on Codeship, and no second one with only the filtered jobs."""
    return {"rules": [{"if": MERGE_REQUEST, "when": "never"}, {"when": "always"}]}


def _variables() -> dict:
    """Defaults a project's CI/CD variables override (they take precedence over the file's)."""
    return {
        DOCKER_MODE_VAR: "dind",  # dind | host
        IMAGE_VAR: IMAGE,
        DIND_VAR: DIND,
        "DOCKER_HOST": DIND_HOST,
        "DOCKER_TLS_CERTDIR": "/certs",
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": "$DOCKER_TLS_CERTDIR/client",
        "RUNNER_SCRIPT_TIMEOUT": SCRIPT_TIMEOUT,
    }


def _docker_lines() -> list[str]:
    """POSIX sh (the job image's shell is busybox ash until bash is there): bash and openssl for
    the script, the runner's own engine in host mode, and a daemon that answers before any step."""
    return [
        "if ! command -v bash >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then "
        "apk add --no-cache bash openssl git; fi",
        # host mode drops the dind settings of `variables:`, not the ones the team set as CI/CD variables
        f'if [ "${DOCKER_MODE_VAR}" = host ]; then if [ "$DOCKER_HOST" = {DIND_HOST} ]; then unset DOCKER_HOST; fi; '
        'if [ "$DOCKER_CERT_PATH" = "$DOCKER_TLS_CERTDIR/client" ]; then unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH; fi; fi',
        "c2c_wait=0; until docker info >/dev/null 2>&1; do c2c_wait=$((c2c_wait + 1)); "
        'if [ "$c2c_wait" -ge 30 ]; then echo "no Docker engine answers at ${DOCKER_HOST:-the default socket}'
        f' after 30 s: on a runner without Docker-in-Docker set the CI/CD variable {DOCKER_MODE_VAR}=host" >&2; '
        "exit 1; fi; sleep 1; done",
    ]


def decorate(job: Job, out: dict) -> dict:
    """What every job gets whatever the layout: a time limit; cancelling when a newer pipeline of
    the branch starts, except for jobs that deploy (push steps, tag-filtered steps, a manual
    group: once such a job started, GitLab cancels nothing of the pipeline); for a manual job, an
    environment that a protected environment can guard (who may approve); for a job that may
    decrypt, the environment the AES key's CI/CD variable is scoped to."""
    deploys = job.manual or job.push or any(f.kind == "tag" for p in job.parts for f in p.filters + p.inner_filters)
    out["interruptible"] = not deploys
    out["timeout"] = JOB_TIMEOUT
    if job.manual:
        out["environment"] = APPROVAL_ENVIRONMENT  # a deployment: protected environments and approvals apply
    elif job.decrypts:  # `access`: the job uses the environment's variables, it deploys nothing
        out["environment"] = {"name": SECRETS_ENVIRONMENT, "action": "access"}
    return out


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
    """One rule: the job runs (or waits for its manual start) when every filter lets it and the
    pipeline is not a merge request's: Codeship built pushes, never a merge commit, so a filtered
    step (a master-only deploy) never runs in a merge request pipeline. No rule matching leaves the
    job out, so nothing falls through to an unfiltered `when: on_success`."""
    conditions = [_matches(f) for f in job.filters if f.kind == "tag"]
    conditions += [_differs(f) for f in job.filters if f.kind == "exclude"]
    if not conditions and not job.manual:
        return []
    expr = " && ".join([NOT_MERGE_REQUEST] + [f"({c})" if " || " in c else c for c in conditions])
    return [{"if": expr, "when": "manual"} if job.manual else {"if": expr}]


# Filter text is data: GitLab's expressions have no escapes in quoted strings, and the runner
# (and gitlab-ci-local) expand `$NAME` in an expression. A text is written as a string only when
# it is plain; any other text, and every regex, is a /…/ literal whose body has no `/`, quote,
# `$NAME`, space, control or non-ASCII character: those are written \x{HEX} (RE2 syntax).
_PLAIN = re.compile(r"[A-Za-z0-9._/-]+")
_KEEP = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_PUNCT = frozenset("!#&()*+,-.:;<=>?@[]^{|}~")  # escaped with a backslash when literal


def _hex(c: str) -> str:
    return "\\x{%X}" % ord(c)


def _literal(c: str) -> str:
    return c if c in _KEEP else "\\" + c if c in _PUNCT else _hex(c)


def _safe(c: str) -> bool:
    """Written as it is in a pattern: not a literal `/`, quote, `$`, `%`, space, backslash,
    control or non-ASCII character."""
    return c in _KEEP or c in _PUNCT


def _equals_pattern(text: str) -> str:
    return "/^" + "".join(_literal(c) for c in text) + "$/"


def _pattern(regex: str) -> str:
    """The RE2 regex as a GitLab /…/ literal that matches the same names (see _safe): escaped
    characters and \\Q…\\E spans become literals, an unescaped `$` stays an anchor (\\z when
    a name could follow it)."""
    out: list[str] = []
    i, n, in_class = 0, len(regex), False
    while i < n:
        c = regex[i]
        if c == "\\" and regex.startswith("\\Q", i):
            end = regex.find("\\E", i + 2)
            stop = n if end < 0 else end
            out += [_literal(ch) for ch in regex[i + 2:stop]]
            i = stop + 2
            continue
        if c == "\\" and i + 1 < n:
            nxt = regex[i + 1]
            out.append("\\" + nxt if nxt.isascii() and nxt.isalnum() or nxt in _PUNCT else _hex(nxt))
            i += 2
            continue
        if in_class and c == "[" and regex.startswith("[:", i) and ":]" in regex[i + 2:]:
            end = regex.index(":]", i + 2) + 2
            out.append(regex[i:end])
            i = end
            continue
        if c == "[" and not in_class:
            in_class = True
            out.append("[")
            i += 1
            for lead in ("^", "]"):
                if i < n and regex[i] == lead:
                    out.append(_literal(lead) if lead == "]" else lead)
                    i += 1
            continue
        if c == "]" and in_class:
            in_class = False
            out.append("]")
        elif c == "$" and not in_class:
            follows = regex[i + 1:i + 2]
            out.append("\\z" if follows and (follows in _KEEP or follows == "{") else "$")
        else:
            out.append(c if _safe(c) else _hex(c))
        i += 1
    body = "".join(out)
    if body.endswith("\\") or not body:  # GitLab's lexer reads \\/ as an escaped slash
        body += "(?:)"
    return "/" + body + "/"


def _matches(f: Filter) -> str:
    expr = f"{REF} == \"{f.text}\"" if _PLAIN.fullmatch(f.text) else f"{REF} =~ {_equals_pattern(f.text)}"
    return f"{expr} || {REF} =~ {_pattern(f.regex)}" if f.regex else expr


def _differs(f: Filter) -> str:
    expr = f"{REF} != \"{f.text}\"" if _PLAIN.fullmatch(f.text) else f"{REF} !~ {_equals_pattern(f.text)}"
    return f"{expr} && {REF} !~ {_pattern(f.regex)}" if f.regex else expr
