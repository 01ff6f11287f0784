"""The migration report: every source key with what became of it, counts, and the manual tasks
left to the user. Built from the same rule table and diagnostics as the terminal output; rendered
by reporters.report_markdown/report_json."""

from __future__ import annotations

from dataclasses import dataclass, field

from .diagnostics import Diagnostic, Level, Loc
from .model import GroupStep, Project, PushStep, walk, with_credentials
from .rules import (BUILD_RULES, CAVEAT, CONVERTED, HOSTED_ONLY, IGNORED, LOCAL, SERVICE_RULES, STEP_RULES,
                    UNSUPPORTED, KeyRule)

ERROR = "error"  # the outcome of a key a diagnostic of level error points at
OUTCOMES = (CONVERTED, CAVEAT, LOCAL, IGNORED, HOSTED_ONLY, UNSUPPORTED, ERROR)
# The kinds of manual task, so that many projects' tasks can be counted together (`audit`).
TASK_KINDS = ("secrets", "push", "cached", "approval", "docker-socket", "missing-file", "host-path")
_TASK_KIND_OF_CODE = {"C2C402": "missing-file", "C2C405": "missing-file", "C2C403": "host-path"}


@dataclass
class Entry:
    where: str  # "service app", "service app build", "step tests"
    key: str
    outcome: str
    becomes: str
    location: str


@dataclass
class Report:
    services_file: str
    steps_file: str
    ok: bool
    entries: list[Entry] = field(default_factory=list)
    manual_tasks: list[str] = field(default_factory=list)
    manual_kinds: list[str] = field(default_factory=list)  # one per task: what kind of work (TASK_KINDS)
    diagnostics: list[dict] = field(default_factory=list)
    ci_setup: list[str] = field(default_factory=list)  # with translate --ci: what to set up on the platform
    ci_flowchart: str = ""  # … and the pipeline as a Mermaid flowchart

    def counts(self) -> dict[str, int]:
        counts = {outcome: 0 for outcome in OUTCOMES}
        for entry in self.entries:
            counts[entry.outcome] += 1
        return counts


_PUSH_ONLY = KeyRule("", IGNORED, "nothing: only `type: push` steps use it (jet ignores it here too)")
_UNKNOWN = KeyRule("", UNSUPPORTED, "nothing: not a Codeship key, dropped")


def build_report(project: Project, diagnostics: list[Diagnostic], services_file: str,
                 steps_file: str) -> Report:
    from .reporters import diagnostic_dict

    errors = {(d.loc.file, d.loc.line) for d in diagnostics if d.level == Level.ERROR and d.loc}
    report = Report(services_file, steps_file, not errors)

    def add(where: str, key: str, rule: KeyRule | None, loc: Loc) -> None:
        rule = rule or _UNKNOWN
        outcome = ERROR if (loc.file, loc.line) in errors else rule.outcome
        becomes = rule.becomes + (f" ({rule.hint})" if rule.hint else "")
        report.entries.append(Entry(where, key, outcome, becomes, str(loc)))

    for name, svc in project.services.items():
        for key, loc in svc.key_loc.items():
            add(f"service {name}", str(key), SERVICE_RULES.get(key), loc)
        if svc.build is not None:
            for key, loc in svc.build.key_loc.items():
                add(f"service {name} build", str(key), BUILD_RULES.get(key), loc)
    for step in walk(project.steps):
        label = f"step {step.name}"
        for key, loc in step.key_loc.items():
            rule = STEP_RULES.get(key)
            if key in ("registry", "image_name", "image_tag") and not isinstance(step, PushStep):
                rule = _PUSH_ONLY  # warned about (C2C213)
            add(label, str(key), rule, loc)
    tasks = _manual_tasks(project, diagnostics)
    report.manual_tasks = [text for _, text in tasks]
    report.manual_kinds = [kind for kind, _ in tasks]
    report.diagnostics = [diagnostic_dict(d) for d in diagnostics]
    return report


def _manual_tasks(project: Project, diagnostics: list[Diagnostic]) -> list[tuple[str, str]]:
    """(kind, text) of each task, kind one of TASK_KINDS."""
    tasks: list[tuple[str, str]] = []
    secrets = [s for s in project.services.values()
               if s.encrypted_env_file or s.encrypted_environment
               or (s.build and (s.build.encrypted_args_file or s.build.encrypted_args))]
    steps = list(with_credentials(project.steps))
    encrypted_cfg = any(s.encrypted_dockercfg_path for s in project.services.values()) or any(
        s.encrypted_dockercfg_path for s, _ in steps)
    if secrets or encrypted_cfg:
        names = ", ".join(s.name for s in secrets) or "registry credentials"
        tasks.append(("secrets", f"Provide the project's AES key as `codeship.aes` (or `--key-path`, or the base64 "
                      f"text in `CODESHIP_AES_KEY`) when running the script: encrypted files are used by {names}."))
    for step, (cfg_path, cfg_service) in steps:
        if not isinstance(step, PushStep):
            continue
        how = ("its encrypted_dockercfg_path is decrypted for the push" if cfg_path
               else f"its dockercfg_service {cfg_service} writes the credentials"
               if cfg_service else "log in with `docker login` first")
        tasks.append(("push", f"Push step '{step.name}' ({step.loc}) pushes {step.image_name}: run the script with "
                      f"`--push`; {how}."))
    cached = [s.name for s in project.services.values() if s.cached]
    if cached:
        tasks.append(("cached", f"`cached: true` ({', '.join(cached)}) has no local equivalent: Docker's local layer "
                      "cache applies; `translate --ci github|gitlab` writes jobs that keep their images in the CI "
                      "platform's cache."))
    manual = [s for s in walk(project.steps) if isinstance(s, GroupStep) and s.kind == "manual"]
    for group in manual:
        tasks.append(("approval", f"Manual approval group '{group.name}' ({group.loc}) runs only with `--manual`: "
                      "put the approval in your new CI."))
    docker = [s.name for s in project.services.values() if s.add_docker]
    if docker:
        tasks.append(("docker-socket", f"add_docker services ({', '.join(docker)}) drive the host's Docker engine "
                      "through /var/run/docker.sock (or the socket, TLS settings and certificates of `DOCKER_HOST`, "
                      "`DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` when the script runs): check that this is "
                      "acceptable where the script runs."))
    for d in diagnostics:
        if d.code in _TASK_KIND_OF_CODE:
            tasks.append((_TASK_KIND_OF_CODE[d.code], f"{d.message} ({d.loc})" + (f": {d.hint}" if d.hint else "")))
    return tasks
