"""The migration report: every source key with what became of it, counts, and the manual tasks
left to the user. Built from the same rule table and diagnostics as the terminal output; rendered
by reporters.report_markdown/report_json."""

from __future__ import annotations

from dataclasses import dataclass, field

from .diagnostics import Diagnostic, Level, Loc
from .markup import Prose
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
    manual_tasks: list[Prose] = field(default_factory=list)  # ours with a user's names: str() or markdown()
    manual_kinds: list[str] = field(default_factory=list)  # one per task: what kind of work (TASK_KINDS)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # rendered by the reporters
    ci_setup: list[Prose] = field(default_factory=list)  # with translate --ci: what to set up on the platform
    ci_flowchart: str = ""  # … and the pipeline as a Mermaid flowchart

    def counts(self) -> dict[str, int]:
        counts = {outcome: 0 for outcome in OUTCOMES}
        for entry in self.entries:
            counts[entry.outcome] += 1
        return counts


_PUSH_ONLY = KeyRule("", IGNORED, "nothing: only `type: push` steps use it (jet ignores it here too)")
_UNKNOWN = KeyRule("", UNSUPPORTED, "nothing: not a Codeship key, dropped")


def build_report(project: Project, diagnostics: list[Diagnostic], services_file: str,
                 steps_file: str, ci: tuple[str, ...] = ()) -> Report:
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
    tasks = _manual_tasks(project, diagnostics, ci)
    report.manual_tasks = [text for _, text in tasks]
    report.manual_kinds = [kind for kind, _ in tasks]
    report.diagnostics = list(diagnostics)
    return report


def _manual_tasks(project: Project, diagnostics: list[Diagnostic],
                  ci: tuple[str, ...] = ()) -> list[tuple[str, Prose]]:
    """(kind, text) of each task (kind one of TASK_KINDS): what is left to the user, one item per
    thing to do (naming every place it concerns), the blockers first: without them the first run
    fails. The text is ours with the user's names as values (markup.Prose). `ci`: the CI platforms
    translate --ci wrote pipelines for (they hold the approval gate)."""
    blockers: list[tuple[str, Prose]] = []
    notes: list[tuple[str, Prose]] = []
    secrets = [s for s in project.services.values()
               if s.encrypted_env_file or s.encrypted_environment
               or (s.build and (s.build.encrypted_args_file or s.build.encrypted_args))]
    steps = list(with_credentials(project.steps))
    encrypted_cfg = any(s.encrypted_dockercfg_path for s in project.services.values()) or any(
        s.encrypted_dockercfg_path for s, _ in steps)
    if secrets or encrypted_cfg:
        users = Prose(", ".join("{}" for _ in secrets) + (" and registry credentials" if secrets and encrypted_cfg
                                                            else "registry credentials" if not secrets else ""),
                      *(s.name for s in secrets))
        blockers.append(("secrets", Prose("Provide the project's AES key as `codeship.aes` (or `--key-path`, or the "
                                          "base64 text in `CODESHIP_AES_KEY`) when running the script: encrypted "
                                          f"files are used by {users.template}.", *users.values)))
    for d in diagnostics:  # one diagnostic per missing file, naming everything that uses it
        if d.code in ("C2C405", "C2C402"):
            blockers.append((_TASK_KIND_OF_CODE[d.code], Prose("{} ({}){}.", d.message, d.loc,
                                                               f": {d.hint}" if d.hint else "")))
    pushes: dict[str, list[Prose]] = {}
    hows: dict[str, Prose] = {}
    for step, (cfg_path, cfg_service) in steps:
        if isinstance(step, PushStep):
            how = (Prose("the registry credentials (encrypted_dockercfg_path) are decrypted for the push") if cfg_path
                   else Prose("dockercfg_service {} writes the registry credentials", cfg_service)
                   if cfg_service else Prose("log in with `docker login` first"))
            hows.setdefault(str(how), how)
            pushes.setdefault(str(how), []).append(Prose("'{}' ({}) pushes {}", step.name, step.loc, step.image_name))
    if pushes:
        template, values = [], []
        for key, where in pushes.items():
            template.append(", ".join(w.template for w in where) + ": " + hows[key].template)
            values += [v for w in where for v in w.values] + list(hows[key].values)
        notes.append(("push", Prose("Run the script with `--push` for the push steps: " + "; ".join(template) + ".",
                                    *values)))
    manual = [s for s in walk(project.steps) if isinstance(s, GroupStep) and s.kind == "manual"]
    if manual:
        groups = ", ".join("'{}' ({})" for _ in manual)
        notes.append(("approval", Prose(
            f"Manual approval group{'s' if len(manual) > 1 else ''} {groups} run{'' if len(manual) > 1 else 's'} "
            "only with `--manual`: " + ("the CI jobs wait for an approval (see the CI set-up below)." if ci else
                                        "put the approval in your new CI (`translate --ci github|gitlab` writes it)."),
            *(v for g in manual for v in (g.name, g.loc)))))
    cached = [s.name for s in project.services.values() if s.cached]
    if cached:
        notes.append(("cached", Prose(
            "`cached: true` ({}) has no local equivalent: Docker's local layer cache applies; "
            + ("the CI jobs keep their images in the platform's cache (see the CI set-up below)." if ci else
               "`translate --ci github|gitlab` writes jobs that keep their images in the CI platform's cache."),
            ", ".join(cached))))
    docker = [s.name for s in project.services.values() if s.add_docker]
    if docker:
        notes.append(("docker-socket", Prose(
            "add_docker services ({}) drive the host's Docker engine through /var/run/docker.sock (or the socket, "
            "TLS settings and certificates of `DOCKER_HOST`, `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` when the "
            "script runs): check that this is acceptable where the script runs.", ", ".join(docker))))
        if ci:
            notes.append(("docker-socket", Prose(
                "Each CI job runs on a runner of its own: an image that an add_docker step ({}) builds or pulls with "
                "the host's Docker does not reach later jobs; push it to a registry in that step, or keep the steps "
                "that need it in one job (one group).", ", ".join(docker))))
    outside = [d for d in diagnostics if d.code == "C2C403"]
    if outside:
        notes.append(("host-path", Prose(
            "Check that these host paths exist on every machine that runs the script: "
            + "; ".join("{} ({})" for _ in outside) + ".", *(v for d in outside for v in (d.message, d.loc)))))
    unique: dict[str, tuple[str, Prose]] = {}
    for kind, text in [(k, Prose("Before the first run: " + t.template, *t.values)) for k, t in blockers] + notes:
        unique.setdefault(f"{kind}\0{text}", (kind, text))
    return list(unique.values())
