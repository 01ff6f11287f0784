"""`.github/workflows/codeship.yml`: one job per top-level step (per branch of a parallel
group), each `needs:` the jobs of the step before. GitHub expressions have no regex, so when
steps have tag/exclude filters a first job, `filters`, decides with bash the way the script
does and the other jobs are skipped with `if:` (a skipped job starts no runner). Every job runs
while no job before it failed (`!failure()`): a skipped job does not stop the ones after it."""

from __future__ import annotations

from ..shell import sq
from . import cache
from .plan import CiPlan, Job
from .yamlout import dump

RUNS_ON = "ubuntu-latest"
APPROVAL_ENVIRONMENT = "codeship-approval"
# GitHub creates a missing environment without reviewers, and its job would then run unapproved:
# manual jobs run only once this repository variable says the reviewers are set up (fail closed).
APPROVAL_VARIABLE = "CODESHIP_APPROVAL_READY"
FILTERS_JOB = "filters"
TAG = "${{ github.head_ref || github.ref_name }}"
DEFAULT_BRANCH = "${{ github.event.repository.default_branch }}"


def render(plan: CiPlan, source: str) -> str:
    jobs: dict = {}
    filtered = [j for j in plan.jobs if j.filters]
    if filtered:
        jobs[FILTERS_JOB] = _filters_job(filtered)
    previous: list[str] = []
    gates: list[Job] = []  # manual jobs so far: the jobs after one wait for it to be approved and run
    carried = False  # an earlier job uploaded the host directories
    for stage in sorted({j.stage for j in plan.jobs}):
        current = plan.jobs_of(stage)
        for job in current:
            jobs[job.id] = _job(plan, job, previous, bool(filtered), carried, gates)
        previous = [j.id for j in current]
        gates = gates + [j for j in current if j.manual]
        carried = carried or bool(plan.host_dirs)
    doc = {
        "name": "Codeship steps",
        "on": {"push": None, "pull_request": None, "workflow_dispatch": None},
        "permissions": {"contents": "read"},
        "env": {  # values as data: the scripts read them from the environment, never from ${{ }} in the text
            "CODESHIP_AES_KEY": "${{ secrets.CODESHIP_AES_KEY }}",
            "C2C_TAG": TAG,
            "C2C_COMMIT": "${{ github.event.pull_request.head.sha || github.sha }}",
            "CI_PR_NUMBER": "${{ github.event.pull_request.number }}",
            "CI_PULL_REQUEST": "${{ github.event.pull_request.html_url || 'false' }}",
        },
        "jobs": jobs,
    }
    return dump(doc, "the Codeship steps as GitHub Actions jobs", source, plan.workdir)


def output_name(job: Job) -> str:
    return "run_" + job.id.replace("-", "_")


def _filters_job(filtered: list[Job]) -> dict:
    lines = [
        "# the script's rule: a tag equal to the filter's text matches; a regex filter (^ or $) also by regex",
        'm() { [[ $C2C_TAG == "$1" ]] || { [[ -n $2 ]] && [[ $C2C_TAG =~ $2 ]]; }; }',
    ]
    for job in filtered:
        lines.append("run=true")
        for f in job.filters:
            test = f"m {sq(f.text)} {sq(f.ere)}"
            lines.append(f"if {test}; then run=false; fi" if f.kind == "exclude" else
                         f"if ! {test}; then run=false; fi")
        lines.append(f'echo "{output_name(job)}=$run" >> "$GITHUB_OUTPUT"')
    return {
        "name": "filters (tag/exclude)",
        "runs-on": RUNS_ON,
        "outputs": {output_name(j): "${{ steps.decide.outputs.%s }}" % output_name(j) for j in filtered},
        "steps": [{"id": "decide", "shell": "bash", "run": "\n".join(lines) + "\n"}],
    }


def _job(plan: CiPlan, job: Job, previous: list[str], have_filters: bool, download: bool,
         gates: list[Job]) -> dict:
    needs = ([FILTERS_JOB] if have_filters else []) + previous
    needs += [g.id for g in gates if g.id not in needs]
    out: dict = {"name": job.name, "runs-on": RUNS_ON}
    conditions = []
    if needs:
        out["needs"] = needs
        conditions.append("!cancelled() && !failure()")
    if job.filters:
        conditions.append(f"needs.{FILTERS_JOB}.outputs.{output_name(job)} == 'true'")
    for gate in gates:  # a skipped manual job holds back the rest, unless its filters left it out
        ran = f"needs.{gate.id}.result == 'success'"
        conditions.append(f"({ran} || needs.{FILTERS_JOB}.outputs.{output_name(gate)} != 'true')"
                          if gate.filters else ran)
    if job.manual:
        conditions.append(f"vars.{APPROVAL_VARIABLE} == 'true'")
    if conditions:
        out["if"] = "${{ %s }}" % " && ".join(conditions)
    if job.manual:  # required reviewers on this environment are Codeship's manual approval
        out["environment"] = APPROVAL_ENVIRONMENT
    steps: list[dict] = [{"uses": "actions/checkout@v4"}]
    if download:
        steps.append({"name": "host directories from the jobs before", "uses": "actions/download-artifact@v4",
                      "with": {"pattern": "c2c-*", "merge-multiple": True, "path": ".c2c-artifacts"}})
        steps.append({"name": "unpack them", "shell": "bash",
                      "run": 'for f in .c2c-artifacts/*.tar; do if [[ -e $f ]]; then tar -xf "$f"; fi; done\n'
                             "rm -rf .c2c-artifacts\n"})
    steps += _restore_caches(plan, job)
    lines = ["flags=()"]
    if job.push:  # push steps push on pushes, never for pull requests (secrets are not there for forks)
        lines.append("if [[ $GITHUB_EVENT_NAME != pull_request* ]]; then flags+=(--push); fi")
    if job.manual:
        lines.append("flags+=(--manual)")
    lines.append("./codeship-steps.sh" + (f" --step {sq(job.step)}" if job.step else "") + f" --tag \"$C2C_TAG\" --ci-branch \"$C2C_TAG\" "
                 '--ci-commit-id "$C2C_COMMIT" --ci-build-id "$GITHUB_RUN_ID" '
                 '--ci-repo-name "${GITHUB_REPOSITORY#*/}" --ci-committer-username "$GITHUB_ACTOR" '
                 '${flags[@]+"${flags[@]}"}')
    run: dict = {"name": job.name, "shell": "bash"}
    if plan.workdir != ".":
        run["working-directory"] = plan.workdir
    run["run"] = "\n".join(lines) + "\n"
    if job.caches:
        run["env"] = {cache.ENV: cache.services(job.caches)}
    steps.append(run)
    steps += _save_caches(plan, job)
    if plan.host_dirs:
        archive = f"c2c-{job.id}.tar"
        dirs = " ".join(sq(d) for d in plan.host_dirs)
        steps.append({"name": "host directories for the jobs after", "shell": "bash",
                      "run": f"all=({dirs})\ndirs=()\nfor d in \"${{all[@]}}\"; do if [[ -e $d ]]; then dirs+=(\"$d\"); fi; done\n"
                             f"if ((${{#dirs[@]}})); then tar -cf {archive} \"${{dirs[@]}}\"; fi\n"})
        steps.append({"uses": "actions/upload-artifact@v4",
                      "with": {"name": f"c2c-{job.id}", "path": archive, "if-no-files-found": "ignore",
                               "retention-days": 1}})
    out["steps"] = steps
    return out


KEY_STEP = "c2c-key"


def _escape(branch: str) -> str:
    """A branch as it goes into a cache key: actions/cache refuses commas, which git allows."""
    return branch.replace("%", "%25").replace(",", "%2C")


def _key_step() -> dict:
    """The branches of the keys, escaped by bash into step outputs (`${{ }}` has no replace)."""
    return {"name": "the cache keys' branches", "id": KEY_STEP, "shell": "bash",
            "env": {"C2C_DEFAULT_BRANCH": DEFAULT_BRANCH},
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
    return _prefix(c, "${{ steps.%s.outputs.branch }}" % KEY_STEP) + "${{ github.run_id }}"


def _restore_keys(c) -> str:
    branches = ["${{ steps.%s.outputs.branch }}" % KEY_STEP]
    if c.fallback:
        branches.append(_escape(c.fallback))
    branches.append("${{ steps.%s.outputs.default }}" % KEY_STEP)
    return "".join(_prefix(c, b) + "\n" for b in branches)


def _restore_caches(plan: CiPlan, job: Job) -> list[dict]:
    if not job.caches:
        return []
    steps: list[dict] = [_key_step()]
    for n, c in enumerate(job.caches):
        steps.append({"name": f"the last image of {c.service} (cached: true)", "id": f"c2c-cache-{n}",
                      "uses": "actions/cache/restore@v4",
                      "with": {"path": cache.github_path(c), "key": _key(c), "restore-keys": _restore_keys(c)}})
    load = {"name": "load the cached images", "shell": "bash",
            "run": "\n".join(cache.github_load_lines(job.caches)) + "\n"}
    return steps + [load]


def _save_caches(plan: CiPlan, job: Job) -> list[dict]:
    """The images the run built, for the next runs: also when a step failed (the image is fine)."""
    if not job.caches:
        return []
    save: dict = {"name": "keep the built images for the next runs", "id": "c2c-images",
                  "if": "${{ !cancelled() }}", "shell": "bash",
                  "run": "\n".join(cache.github_save_lines(job.caches)) + "\n"}
    steps = [save]
    for n, c in enumerate(job.caches):
        steps.append({"name": f"cache the image of {c.service}", "uses": "actions/cache/save@v4",
                      "if": f"${{{{ !cancelled() && steps.c2c-images.outputs.save_{n} == 'true' && "
                            f"steps.c2c-cache-{n}.outputs.cache-hit != 'true' }}}}",
                      "with": {"path": cache.github_path(c), "key": _key(c)}})
    return steps
