"""What a team sets up on the platform before the first run (printed by `translate --ci`, in the
pipeline files' header, and in the migration report), and the pipeline as a Mermaid flowchart
(GitHub and GitLab render ```mermaid blocks in Markdown)."""

from __future__ import annotations

from ..markup import Code, Prose, mermaid_text
from ..model import Project, PushStep, walk, with_credentials
from . import gitlab
from .github import APPROVERS_VARIABLE, DEFAULT_TIMEOUT, TIMEOUT_VARIABLE, workflow_name
from .plan import ROOT, CiPlan, Job, display

NAMES = {"github": "GitHub", "gitlab": "GitLab"}


def _encrypted(project: Project) -> bool:
    return any(s.encrypted_env_file or s.encrypted_environment or s.encrypted_dockercfg_path
               or (s.build and (s.build.encrypted_args_file or s.build.encrypted_args))
               for s in project.services.values()) or any(s.encrypted_dockercfg_path for s in walk(project.steps))


def setup_items(project: Project, plan: CiPlan, platform: str) -> list[Prose]:
    """The platform's set-up items, in the order a team does them: runner, secrets, approval gate,
    registry logins, then what is optional. Sentences of ours with the user's names as values
    (markup.Prose): str() for the terminal and the pipeline files' header, markdown() for the report."""
    gh = platform == "github"
    items: list[Prose] = []
    if not gh:
        items.append(Prose(f"Runner: the jobs run in {gitlab.IMAGE} beside a {gitlab.DIND} service over TLS, which "
                     "GitLab.com's hosted runners give as they are; a self-managed docker-executor runner needs "
                     "privileged = true and volumes = [\"/certs/client\"]; on a shell-executor runner (Docker and "
                     "Compose installed) or one that binds /var/run/docker.sock set the CI/CD variable "
                     f"{gitlab.DOCKER_MODE_VAR}=host; another job image: {gitlab.IMAGE_VAR}"))
    if _encrypted(project):
        scopes = gitlab.SECRETS_ENVIRONMENT + (
            f" (and {gitlab.APPROVAL_ENVIRONMENT}: a manual job decrypts)"
            if any(j.manual and j.decrypts for j in plan.jobs) else "")
        items.append(Prose("Secret: " + ("a repository secret" if gh else "a masked CI/CD variable")
                     + " CODESHIP_AES_KEY, the project's AES key in base64 (Codeship's project settings or "
                     "codeship.aes; never commit codeship.aes)"
                     + (": only the steps that decrypt get it" if gh else
                        f", with environment scope {scopes} so that only the jobs that decrypt receive it; "
                        "also protected if only builds of protected branches and tags may decrypt")))
    if any(p.manual for p in plan.parts):
        if gh:
            items.append(Prose("Approval gate: a push build skips the manual groups; to approve, run this workflow on "
                         "the branch with approve (Actions > {} > Run workflow): it builds the branch "
                         "again with them, as Codeship re-ran an approved build. Anyone with write access may; set "
                         f"the repository variable {APPROVERS_VARIABLE} to a comma-separated list of logins to "
                         "allow only them (Codeship: only project owners)", workflow_name(plan.workdir)))
        else:
            items.append(Prose("Approval gate: the manual group is a when: manual job deploying to environment "
                         f"{gitlab.APPROVAL_ENVIRONMENT}; protect that environment (Settings > CI/CD > Protected "
                         "environments) to say who may start it, and require approvals there on Premium for "
                         "Codeship's rule (only project owners approved); otherwise whoever may run pipelines on "
                         "the branch can start it"))
    for step, (cfg_path, cfg_service) in with_credentials(project.steps):
        if isinstance(step, PushStep) and not cfg_path and not cfg_service:
            where = step.registry or "the image's registry"
            items.append(Prose("Registry login: push step '{}' pushes {} with the runner's own Docker login: log in "
                               "to {} on the runners (or give the step an encrypted_dockercfg_path)",
                               display(step), step.image_name, where))
    if gh:
        items.append(Prose(f"Optional: the repository variable {TIMEOUT_VARIABLE} sets every job's time limit "
                     f"(default {DEFAULT_TIMEOUT} minutes)"))
    return items


def setup_tasks(project: Project, plans: dict[str, CiPlan]) -> list[Prose]:
    """For the migration report: each platform's items, then what each plan gives. Sentences of
    ours with the user's names as values (markup.Prose); an item that names a user's step or
    image is shown whole as text."""
    tasks: list[Prose] = []
    for platform, plan in plans.items():
        tasks += [Prose(f"{NAMES[platform]}: {item.template}.", *item.values)
                  for item in setup_items(project, plan, platform)]
    any_plan = next(iter(plans.values()))
    if any(p.manual for p in any_plan.parts):
        if "github" in plans:
            tasks.append(Prose("GitHub plans and manual approval: the `workflow_dispatch` approval works on every plan "
                         "(Free, Pro, Team, Enterprise; public and private repositories). Environments with "
                         "required reviewers exist on every plan for public repositories but for private ones only "
                         "on Enterprise plans, so the workflow does not rely on them. Codeship let only the project's "
                         f"owners approve: `{APPROVERS_VARIABLE}` comes closest."))
        if "gitlab" in plans:
            tasks.append(Prose("GitLab plans and manual approval: manual jobs work on every tier; protected environments "
                         "(who may start the job) on every tier, approval rules for deployments on Premium and up."))
    if "github" in plans:
        tasks.append(Prose("GitHub triggers: pushes to branches and tags build (as on Codeship); a pull request from a "
                     "fork builds without secrets and runs no tag:/exclude: or push step; a newer push to a branch "
                     "cancels its waiting build, and a running one only when it cannot be deploying."))
    for platform, plan in plans.items():
        if plan.carried:
            dirs = [] if plan.carried == [ROOT] else [Code(d) for d in plan.carried]
            what = "the whole checkout" if not dirs else ", ".join("{}" for _ in dirs)
            tasks.append(Prose(f"{NAMES[platform]}: the build is split into {len(plan.jobs)} jobs: {what} travels "
                               "from job to job as an artifact kept 1 day (check the artifact storage quota).", *dirs))
        rebuilt = [(j.name, j.images) for j in plan.jobs if j.images]
        if plan.split and len(rebuilt) > 1:
            tasks.append(Prose(f"{NAMES[platform]}: images are not handed between jobs; each job builds those it "
                               "uses (a `cached: true` service's from the platform's cache): {}.",
                               "; ".join(f"{name}: {', '.join(images)}" for name, images in rebuilt)))
    cached = list(dict.fromkeys(c.service for plan in plans.values() for j in plan.jobs for c in j.caches))
    if cached:
        kept = []
        if "github" in plans:
            kept.append("GitHub: the Actions cache (10 GB per repository; entries unused for 7 days go; a run reads "
                        "only its own branch's, the default branch's and a pull request's base branch's entries, so a "
                        "`default_cache_branch` that is none of these falls back to the default branch)")
        if "gitlab" in plans:
            kept.append("GitLab: the runners' cache (shared between runners only with a distributed cache; for a "
                        "branch to start from the default branch's, turn off 'Use separate caches for protected "
                        "branches'; the fallback to the default branch uses $CI_DEFAULT_BRANCH_SLUG, a predefined "
                        "variable of GitLab 17.x: on an older GitLab define it as a CI/CD variable)")
        tasks.append(Prose("`cached: true` ({}): each job keeps the image it built in the platform's cache, per "
                           "branch, and the next run builds from it — " + "; ".join(kept) + ".", ", ".join(cached)))
    return tasks


def flowchart(plan: CiPlan) -> str:
    """Each job a box holding its steps in order, the jobs in order."""
    lines = ["flowchart TD"]
    nodes = []
    for n, stage in enumerate(plan.stages, 1):
        jobs = plan.jobs_of(n)
        if not jobs:
            continue
        node = stage.replace("-", "_")
        nodes.append(node)
        if len(jobs) == 1 and len(jobs[0].parts) == 1:
            lines.append(f'  {node}["{_label(jobs[0], 0)}"]')
            continue
        lines.append(f'  subgraph {node}["{_title(jobs)}"]')
        for job in jobs:
            for k, _part in enumerate(job.parts):
                lines.append(f'    {job.id.replace("-", "_")}_{k}["{_label(job, k)}"]')
        lines.append("  end")
    lines += [f"  {a} --> {b}" for a, b in zip(nodes, nodes[1:])]
    return "\n".join(lines) + "\n"


def _title(jobs: list[Job]) -> str:
    if len(jobs) > 1:
        return mermaid_text(jobs[0].parts[0].group) + " (parallel: one job per branch)"
    return mermaid_text(jobs[0].name) + " (one runner, steps in order)"


def _label(job: Job, k: int) -> str:
    part = job.parts[k]
    text = mermaid_text(part.name[len(f"{part.group} / "):] if part.group else part.name)
    notes = [f"{f.kind}: {mermaid_text(f.text)}" for f in part.filters]
    if part.manual:
        notes.append("manual approval")
    if part.push:
        notes.append("push on pushes only")
    return text + "".join(f"<br/><i>{note}</i>" for note in notes)
