"""For the migration report: what the team sets up on the platform, and the pipeline as a
Mermaid flowchart (GitHub and GitLab render ```mermaid blocks in Markdown)."""

from __future__ import annotations

from ..markup import Code, Prose, mermaid_text
from ..model import Project, PushStep, walk, with_credentials
from .github import APPROVAL_ENVIRONMENT, APPROVAL_VARIABLE
from .plan import CiPlan, Job


def setup_tasks(project: Project, plan: CiPlan, platforms: tuple[str, ...]) -> list[Prose]:
    """Sentences of ours (Markdown) with the user's names as values (see markup.Prose)."""
    tasks: list[Prose] = []
    gh, gl = "github" in platforms, "gitlab" in platforms
    encrypted = any(s.encrypted_env_file or s.encrypted_environment or s.encrypted_dockercfg_path
                    or (s.build and (s.build.encrypted_args_file or s.build.encrypted_args))
                    for s in project.services.values()) or any(
        s.encrypted_dockercfg_path for s in walk(project.steps))
    if encrypted:
        where = " and ".join(w for w, on in (("GitHub: a repository secret `CODESHIP_AES_KEY`", gh),
                                             ("GitLab: a masked CI/CD variable `CODESHIP_AES_KEY`", gl)) if on)
        tasks.append(Prose(f"The AES key (base64, from Codeship's project settings or `codeship.aes`) — {where}. "
                           "Never commit codeship.aes."))
    if any(j.manual for j in plan.jobs):
        if gh:
            tasks.append(Prose(f"GitHub: an environment `{APPROVAL_ENVIRONMENT}` with required reviewers "
                               "(Settings > Environments): the manual group's job waits for their approval. Then set "
                               f"the repository variable `{APPROVAL_VARIABLE}` to `true`: until then manual jobs, and "
                               "the jobs after them, do not run (GitHub would create the environment without "
                               "reviewers, and the job would run unapproved)."))
        if gl:
            tasks.append(Prose("GitLab: the manual group is a `when: manual` job; who may start it is whoever may "
                               "run pipelines on the branch (add a protected environment to restrict it)."))
    pushes = [(s, creds) for s, creds in with_credentials(project.steps) if isinstance(s, PushStep)]
    for step, (cfg_path, cfg_service) in pushes:
        if not cfg_path and not cfg_service:
            tasks.append(Prose("Push step '{}' pushes {} with the runner's Docker login: log in to the registry on "
                               "the runners (or add an encrypted_dockercfg_path).", step.name, step.image_name))
    if pushes:
        tasks.append(Prose("Push steps run with `--push` on pushes only, never for pull/merge requests."))
    runner = []
    if gh:
        runner.append("GitHub: `ubuntu-latest` has Docker and Compose v2; a self-hosted runner needs both")
    if gl:
        runner.append("GitLab: the jobs set no image: use a shell-executor runner with Docker and Compose "
                      "(or set `default: image:` to one with them and Docker-in-Docker)")
    if runner:
        tasks.append(Prose("Runners with Docker — " + "; ".join(runner) + "."))
    cached = list(dict.fromkeys(c.service for j in plan.jobs for c in j.caches))
    if cached:
        kept = []
        if gh:
            kept.append("GitHub: the Actions cache (10 GB per repository; entries unused for 7 days go; a run reads "
                        "only its own branch's, the default branch's and a pull request's base branch's entries, so a "
                        "`default_cache_branch` that is none of these falls back to the default branch)")
        if gl:
            kept.append("GitLab: the runners' cache (shared between runners only with a distributed cache; for a "
                         "branch to start from the default branch's, turn off 'Use separate caches for protected "
                         "branches'; the fallback to the default branch uses $CI_DEFAULT_BRANCH_SLUG, a predefined "
                         "variable of GitLab 17.x: on an older GitLab define it as a CI/CD variable)")
        tasks.append(Prose("`cached: true` ({}): each job keeps the image it built in the platform's cache, per "
                           "branch, and the next run builds from it — " + "; ".join(kept) + ".", ", ".join(cached)))
    if plan.host_dirs:
        tasks.append(Prose("Host directories (" + ", ".join("{}" for _ in plan.host_dirs) + ") travel between jobs "
                           "as artifacts kept 1 day: check the platform's artifact storage quota.",
                           *(Code(d) for d in plan.host_dirs)))
    return tasks


def flowchart(plan: CiPlan) -> str:
    """Each top-level step a box (a parallel group's branches side by side in it), in order. Names
    are text in quoted labels (markup.mermaid_text); node ids are the jobs' slugged ids."""
    lines = ["flowchart TD"]
    for n, stage in enumerate(plan.stages, 1):
        jobs = plan.jobs_of(n)
        if not jobs:
            continue
        node = stage.replace("-", "_")
        if len(jobs) == 1:
            lines.append(f'  {node}["{_label(jobs[0])}"]')
        else:
            title = mermaid_text(jobs[0].group)
            lines.append(f'  subgraph {node}["{title} (parallel: one job per branch)"]')
            lines += [f'    {j.id.replace("-", "_")}["{_label(j, branch=True)}"]' for j in jobs]
            lines.append("  end")
    nodes = [s.replace("-", "_") for n, s in enumerate(plan.stages, 1) if plan.jobs_of(n)]
    lines += [f"  {a} --> {b}" for a, b in zip(nodes, nodes[1:])]
    return "\n".join(lines) + "\n"


def _label(job: Job, branch: bool = False) -> str:
    """The job's name (in a group's box, the branch's own) and its notes, as label HTML."""
    text = mermaid_text(job.step if branch else job.name)
    notes = [f"{f.kind}: {mermaid_text(f.text)}" for f in job.filters]
    if job.manual:
        notes.append("manual approval")
    if job.push:
        notes.append("push on pushes only")
    return text + "".join(f"<br/><i>{note}</i>" for note in notes)
