"""`.github/workflows/codeship.yml`.

Triggers as on Codeship, which built pushes to branches and tags, never a pull request's merge
commit: `push` builds; `pull_request` only for pull requests from forks (a same-repository
branch is built by its push: no second run of one commit), and such a build runs no step behind
a tag:/exclude: filter and no push (`--pull-request`); `workflow_dispatch` with `approve` is the
manual approval: it builds the branch again with its manual groups, as Codeship re-ran the
approved build (it works on every plan: whoever may run workflows, optionally only the users
of the CODESHIP_APPROVERS variable).

Default layout: one job runs the build, a GitHub step per top-level step (see plan.py). With
--ci-fanout: a job per top-level step and per branch of a top-level parallel group, each
`needs:` the jobs of the step before, and the checkout travels between them as artifacts.

No text from the Codeship files is ever evaluated as a `${{ }}` expression: names reach the
scripts through `env:`, and every `${{` in any text is written as `${{ '${{' }}` (see _safe);
the generator's own expressions are written with EXPR and become `${{` only then."""

from __future__ import annotations

import re

from ..shell import sq
from . import cache
from .plan import ROOT, CiPlan, Filter, Job, Part
from .yamlout import dump

RUNS_ON = "ubuntu-latest"
EXPR = "\x00c2c-expr\x00"  # our own `${{`: text from the files never holds it (see _safe)
APPROVERS_VARIABLE = "CODESHIP_APPROVERS"
TIMEOUT_VARIABLE = "CODESHIP_TIMEOUT_MINUTES"
DEFAULT_TIMEOUT = 60
WORKSPACE = ".c2c-workspace"  # the checkout as the jobs before left it (--ci-fanout)
FORK_PR = "github.event_name != 'pull_request' || github.event.pull_request.head.repo.full_name != github.repository"


PLAIN_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")  # a branch name that is safe in a '…' literal


def ref_test(f: Filter) -> str:
    """A filter as a GitHub expression, when GitHub can evaluate it: a plain name (no regex) of
    letters, digits and ._/- only, so that no quote, brace or `${{` is ever in the expression;
    '' otherwise (the job starts, and the script decides, as for a regex)."""
    if f.regex or "^" in f.text or "$" in f.text or not PLAIN_REF.fullmatch(f.text):
        return ""
    return f"github.ref_name {'==' if f.kind == 'tag' else '!='} '{f.text}'"


def expr(text: str) -> str:
    return f"{EXPR} {text} }}}}"


def _safe(value):
    """Every string as data for GitHub: `${{` becomes an expression giving `${{`, then our own
    expressions are restored. Holds for any input: the inserted expression holds no `}}`."""
    if isinstance(value, dict):
        return {k: _safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v) for v in value]
    if isinstance(value, str):
        return value.replace("${{", "${{ '${{' }}").replace(EXPR, "${{")
    return value


def workflow_name(workdir: str) -> str:
    """The workflow's name (the Actions tab lists it; the concurrency group is built from it)."""
    return "Codeship steps" if workdir == "." else f"Codeship steps ({workdir})"


def render(plan: CiPlan, source: str, notes: list[str] | None = None) -> str:
    jobs: dict = {}
    previous: list[str] = []
    for stage in sorted({j.stage for j in plan.jobs}):
        current = plan.jobs_of(stage)
        for job in current:
            jobs[job.id] = _job(plan, job, previous)
        previous = [j.id for j in current]
    deploys = any(p.filters or p.inner_filters or p.push or p.manual for p in plan.parts)
    doc = {
        # (the concurrency group is the workflow's name: one per project of a monorepo)
        "name": workflow_name(plan.workdir),
        "on": {
            "push": {"branches": ["**"], "tags": ["**"]},
            "pull_request": None,  # from forks only (the jobs' if:): a branch of this repository is built by its push
            "workflow_dispatch": {"inputs": {"approve": {
                "description": "Approve: build this branch again with its manual (approval) groups",
                "type": "boolean", "default": False}}},
        },
        "permissions": {"contents": "read"},
        # a newer run of a branch cancels the waiting one; the running one only when the build
        # cannot be deploying (a pull request's build, or a project without filtered, push or manual steps)
        "concurrency": {"group": expr("github.workflow") + "-" + expr("github.ref"),
                        "cancel-in-progress": True if not deploys else expr("github.event_name == 'pull_request'")},
        "jobs": jobs,
    }
    return dump(_safe(doc), "the Codeship steps as GitHub Actions jobs", source, plan.workdir, notes)


def _job(plan: CiPlan, job: Job, needs: list[str]) -> dict:
    out: dict = {"name": job.name, "runs-on": RUNS_ON}
    if needs:
        out["needs"] = needs
        # a job left out (its steps not approved) does not stop the ones after it; a failed one does
        out["if"] = expr(f"!cancelled() && !failure() && ({FORK_PR})")
    else:
        out["if"] = expr(f"({FORK_PR})")
    if plan.fanout and job.filters:  # a filtered job starts no runner where GitHub can tell (see ref_test)
        tests = [ref_test(f) for f in job.filters]
        if all(tests):
            out["if"] = out["if"][:-3] + " && github.event_name != 'pull_request' && " + " && ".join(tests) + " }}"
    if plan.fanout and all(p.gated for p in job.parts):  # waits for the approval: no runner until then
        out["if"] = out["if"][:-3] + " && inputs.approve }}"
    out["timeout-minutes"] = expr(f"fromJSON(vars.{TIMEOUT_VARIABLE} || '{DEFAULT_TIMEOUT}')")
    env: dict = {"C2C_TAG": expr("github.ref_name")}
    if job.caches:
        env[cache.ENV] = cache.services(job.caches)
    out["env"] = env
    steps: list[dict] = [{"uses": "actions/checkout@v4"}, _settings(plan, job)]
    if plan.carried and job.stage > 1:
        steps += _download()
    steps += _restore_caches(plan, job)
    for part in job.parts:
        steps.append(_part(plan, part))
    steps += _save_caches(plan, job)
    if plan.carried and job.stage < max(j.stage for j in plan.jobs):
        steps += _upload(plan, job)
    out["steps"] = steps
    return out


def _settings(plan: CiPlan, job: Job) -> dict:
    """The flags of every step of the build, once, into C2C_FLAGS (fixed words: no text of a
    user's). What each kind of build runs is said in the log."""
    lines = [
        "case $GITHUB_EVENT_NAME in",
        "  pull_request*) flags=--pull-request",
        "    echo '::notice::A pull request from a fork: GitHub gives it no secrets, so steps that decrypt with "
        "CODESHIP_AES_KEY fail; steps with tag:/exclude: filters and push steps do not run (Codeship built "
        "no pull requests)' ;;",
        "  *) flags=--push ;;",
        "esac",
    ]
    if any(p.manual for p in plan.parts):
        lines += [
            'if [[ $C2C_ASKED_APPROVAL == true ]]; then',
            '  who=${GITHUB_TRIGGERING_ACTOR:-$GITHUB_ACTOR}',
            '  if [[ -n $C2C_MAY_APPROVE && ",${C2C_MAY_APPROVE// /}," != *",$who,"* ]]; then',
            f"    echo \"::error::$who may not approve: the repository variable {APPROVERS_VARIABLE} names who may\"",
            "    exit 1",
            "  fi",
            '  flags+=" --manual"',
            '  echo C2C_APPROVED=true >> "$GITHUB_ENV"',
            "else",
            "  echo \"::notice::The manual groups wait for approval: run this workflow on this branch with "
            "\\\"approve\\\" (Actions > ${GITHUB_WORKFLOW//[[:cntrl:]]/ } > Run workflow)\"",
            "fi",
        ]
    lines.append('echo "C2C_FLAGS=$flags" >> "$GITHUB_ENV"')
    step: dict = {"name": "the build's settings", "shell": "bash"}
    if any(p.manual for p in plan.parts):
        step["env"] = {"C2C_ASKED_APPROVAL": expr("inputs.approve"), "C2C_MAY_APPROVE": expr(f"vars.{APPROVERS_VARIABLE}")}
    step["run"] = "\n".join(lines) + "\n"
    return step


def _part(plan: CiPlan, part: Part) -> dict:
    step: dict = {"name": part.name, "shell": "bash"}
    if part.gated:  # the manual group and what comes after it: only in an approved build
        step["if"] = expr("env.C2C_APPROVED == 'true'")
    if plan.workdir != ".":
        step["working-directory"] = plan.workdir
    env: dict = {}
    if part.step:
        env["C2C_STEP"] = part.step
    lines = ['read -ra flags <<<"$C2C_FLAGS"']
    if part.secrets:  # the AES key reaches only the steps that decrypt
        env["CODESHIP_AES_KEY"] = expr("secrets.CODESHIP_AES_KEY")
        lines.append("if [[ -z $CODESHIP_AES_KEY ]]; then echo '::error::CODESHIP_AES_KEY is empty: add it as a "
                     "repository secret (GitHub gives none to pull requests from forks)'; fi")
    lines.append("./codeship-steps.sh" + (' --step "$C2C_STEP"' if part.step else "") + ' --tag "$C2C_TAG" "${flags[@]}"')
    if env:
        step["env"] = env
    step["run"] = "\n".join(lines) + "\n"
    return step


def _download() -> list[dict]:
    return [
        {"name": "the checkout as the jobs before left it", "uses": "actions/download-artifact@v4",
         "with": {"pattern": "c2c-*", "merge-multiple": True, "path": WORKSPACE}},
        {"name": "unpack it", "shell": "bash",
         "run": f'for f in {WORKSPACE}/c2c-workspace-*.tar; do if [[ -e $f ]]; then tar -xpf "$f"; fi; done\n'
                f"rm -rf {WORKSPACE}\n"},
    ]


def _upload(plan: CiPlan, job: Job) -> list[dict]:
    """The checkout (or the host directories the steps mount) as this job's artifact, packed
    outside the checkout (the runner's temp folder)."""
    archive = f'"$RUNNER_TEMP"/c2c-workspace-{job.id}.tar'
    if plan.carried == [ROOT]:
        pack = (f"tar --exclude=./.git -cf {archive} . "
                "|| echo '::warning::some files of the checkout could not be kept for the jobs after'\n")
    else:
        dirs = " ".join(sq(d) for d in plan.carried)
        pack = ("# shellcheck disable=SC2016 # the paths are data, single-quoted\n"
                f"all=({dirs})\ndirs=()\nfor d in \"${{all[@]}}\"; do if [[ -e $d ]]; then dirs+=(\"$d\"); fi; done\n"
                f"if ((${{#dirs[@]}})); then tar -cf {archive} \"${{dirs[@]}}\"; fi\n")
    return [
        {"name": "the checkout for the jobs after", "if": expr("!cancelled()"), "shell": "bash", "run": pack},
        {"uses": "actions/upload-artifact@v4", "if": expr("!cancelled()"),
         "with": {"name": f"c2c-{job.id}", "path": expr("runner.temp") + f"/c2c-workspace-{job.id}.tar",
                  "if-no-files-found": "ignore", "retention-days": 1}},
    ]


KEY_STEP = "c2c-key"


def _escape(branch: str) -> str:
    """A branch as it goes into a cache key: actions/cache refuses commas, which git allows."""
    return branch.replace("%", "%25").replace(",", "%2C")


def _key_step() -> dict:
    """The branches of the keys, escaped by bash into step outputs (`${{ }}` has no replace)."""
    return {"name": "the cache keys' branches", "id": KEY_STEP, "shell": "bash",
            "env": {"C2C_DEFAULT_BRANCH": expr("github.event.repository.default_branch")},
            "run": 'b=${C2C_TAG//%/%25}\necho "branch=${b//,/%2C}" >> "$GITHUB_OUTPUT"\n'
                   'b=${C2C_DEFAULT_BRANCH//%/%25}\necho "default=${b//,/%2C}" >> "$GITHUB_OUTPUT"\n'}


def _prefix(c, branch: str) -> str:
    """IMAGE_BRANCH: the image's name has no `_` and a branch no `:`, so that no image's or
    branch's keys are a prefix of another's."""
    return f"{c.name}_{branch}:"


def _key(c) -> str:
    """One entry per run and image: a branch restores its newest one, else default_cache_branch's,
    else the repository default branch's (GitHub lets a run read the caches of its own branch, of
    the default branch and of a pull request's base branch, no others)."""
    return _prefix(c, expr(f"steps.{KEY_STEP}.outputs.branch")) + expr("github.run_id")


def _restore_keys(c) -> str:
    branches = [expr(f"steps.{KEY_STEP}.outputs.branch")]
    if c.fallback:
        branches.append(_escape(c.fallback))
    branches.append(expr(f"steps.{KEY_STEP}.outputs.default"))
    return "".join(_prefix(c, b) + "\n" for b in branches)


def _cache_path(c) -> str:
    return cache.github_path(c).replace("${{", EXPR)


def _restore_caches(plan: CiPlan, job: Job) -> list[dict]:
    if not job.caches:
        return []
    steps: list[dict] = [_key_step()]
    for n, c in enumerate(job.caches):
        steps.append({"name": f"the last image of {c.service} (cached: true)", "id": f"c2c-cache-{n}",
                      "uses": "actions/cache/restore@v4",
                      "with": {"path": _cache_path(c), "key": _key(c), "restore-keys": _restore_keys(c)}})
    load = {"name": "load the cached images", "shell": "bash",
            "run": "\n".join(cache.github_load_lines(job.caches)) + "\n"}
    return steps + [load]


def _save_caches(plan: CiPlan, job: Job) -> list[dict]:
    """The images the run built, for the next runs: also when a step failed (the image is fine)."""
    if not job.caches:
        return []
    save: dict = {"name": "keep the built images for the next runs", "id": "c2c-images",
                  "if": expr("!cancelled()"), "shell": "bash",
                  "run": "\n".join(cache.github_save_lines(job.caches)) + "\n"}
    steps = [save]
    for n, c in enumerate(job.caches):
        steps.append({"name": f"cache the image of {c.service}", "uses": "actions/cache/save@v4",
                      "if": expr(f"!cancelled() && steps.c2c-images.outputs.save_{n} == 'true' && "
                                 f"steps.c2c-cache-{n}.outputs.cache-hit != 'true'"),
                      "with": {"path": _cache_path(c), "key": _key(c)}})
    return steps
