"""What to do after `translate`, for this project, in order: the closing lines of the command.

Plain data (`NextStep`: a command to type, or '' for something to do by hand, and why); the CLI
prints them. A plain run is suggested only when it runs something: a project whose steps all
wait for --tag, --push or --manual is told those options instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from .model import GroupStep, Project, PushStep, RunStep, Step
from .paths import for_messages
from .records import Record
from .shell import word
from .words import plural

KEY_NAME = "codeship.aes"  # the script's default key, next to the services file
_FIRST_ALTERNATIVE = re.compile(r"^\^?\(?(?:\?:)?([\w./-]+)(?:[|)$]|$)")


class NextStep(Record):
    command: str  # what to type ('' when it is something to do by hand)
    why: str


class _Counts(Record):
    plain: int = 0  # steps a run without options runs
    tagged: int = 0
    push: int = 0
    manual: int = 0
    total: int = 0
    tag: str = ""  # a branch that the first tag: filter matches ('' when none is plain)
    push_tagged: bool = False


def _count(steps: list[Step], counts: _Counts, tags: list[str], tagged: bool = False,
           manual: bool = False) -> None:
    for step in steps:
        is_tagged = tagged or bool(step.tag)
        if step.tag:
            tags.append(step.tag)
        if isinstance(step, GroupStep):
            _count(step.steps, counts, tags, is_tagged, manual or step.kind == "manual")
            continue
        if not isinstance(step, (RunStep, PushStep)):
            continue
        counts.total += 1
        counts.tagged += is_tagged
        counts.manual += manual
        if isinstance(step, PushStep):
            counts.push += 1
            counts.push_tagged = counts.push_tagged or is_tagged
        elif not is_tagged and not manual:
            counts.plain += 1


def _branch(tag: str) -> str:
    """A branch name a tag: filter matches, for an example command ('' when none is obvious)."""
    if "^" not in tag and "$" not in tag:  # the script matches it as a whole name first, like jet
        return tag
    match = _FIRST_ALTERNATIVE.match(tag)
    return match.group(1) if match and "." not in match.group(1) else ""


def _encrypted(project: Project) -> int:
    """How many encrypted files and values the project's steps need the AES key for."""
    count = 0
    for svc in project.services.values():
        count += len(svc.encrypted_env_file) + len(svc.encrypted_environment)
        count += bool(svc.encrypted_dockercfg_path)
        if svc.build:
            count += bool(svc.build.encrypted_args_file) + len(svc.build.encrypted_args)
    from .model import walk

    count += sum(1 for step in walk(project.steps) if step.encrypted_dockercfg_path)
    return count


def next_steps(project: Project, script: str, environ: Mapping[str, str], *, warnings: int = 0,
               report: str | None = None, manual_tasks: int = 0) -> list[NextStep]:
    """The next steps after translating `project` into the script run as `script` (a shell word):
    `report` is the migration report's path when one was written (with its `manual_tasks`);
    `warnings`: how many diagnostics translate printed."""
    counts, tags = _Counts(), list[str]()
    _count(project.steps, counts, tags)
    steps: list[NextStep] = []
    secrets = _encrypted(project)
    key = Path(project.base_dir) / KEY_NAME
    if secrets and not environ.get("CODESHIP_AES_KEY") and not key.is_file():
        steps.append(NextStep("", f"put the project's AES key (Codeship: Project Settings > General) in "
                                  f"{for_messages(key)}, or set CODESHIP_AES_KEY: "
                                  f"{plural(secrets, 'encrypted file or value', 'encrypted files and values')} "
                                  f"{'needs' if secrets == 1 else 'need'} it"))
    if not counts.total:
        steps.append(NextStep("", "write the steps in codeship-steps.yml and translate again: the script has "
                                  "no steps to run"))
    else:
        steps.append(NextStep(f"{script} --list", "the steps, and which ones a run selects"))
        branch = next((b for b in map(_branch, tags) if b), "")
        tag = f" --tag {word(branch)}" if branch else " --tag BRANCH"
        if counts.plain:
            steps.append(NextStep(script, "runs every step" if counts.plain == counts.total else
                                  f"runs the {plural(counts.plain, 'step')} that need no option"))
        if counts.tagged:
            steps.append(NextStep(f"{script}{tag}", f"runs as a build of {branch or 'BRANCH'}: also the steps whose "
                                  f"tag: filter matches it ({plural(counts.tagged, 'step')} with a filter)"))
        if counts.push:
            steps.append(NextStep(f"{script}{tag if counts.push_tagged else ''} --push",
                                  f"also pushes the images ({plural(counts.push, 'push step')}), to the real "
                                  "registry"))
        if counts.manual:
            steps.append(NextStep(f"{script} --manual",
                                  f"also runs the manual (approval) groups ({plural(counts.manual, 'step')})"))
    if report:
        if manual_tasks:
            steps.append(NextStep("", f"read {report}: {plural(manual_tasks, 'manual task')}"))
    elif warnings:
        steps.append(NextStep("", "translate again with --report migration.md: what became of every key, and the "
                                  "manual tasks left to you"))
    return steps
