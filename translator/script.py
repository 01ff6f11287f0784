"""Codeship steps → the data the script template renders: the pipeline's lines and the services."""

from __future__ import annotations

from . import gotemplate
from .compose import ComposeResult, read_env_keys
from .diagnostics import Diagnostics, Loc
from .model import Credentials, GroupStep, Options, Project, PushStep, RunStep, Step, credentials_of, walk
from .paths import Rebaser
from .records import Record
from .shell import word


class ServiceInfo(Record):
    """What the script knows of a service. Plain data: the template writes it as bash."""

    name: str
    image: str
    deps: list[str]  # the services it depends on directly
    builds: list[str]  # the images a step on it builds first (its closure's built services), in order
    secret_services: list[str] = []  # services started with this one that have encrypted environment
    encrypted_env: list[tuple[str, str]] = []  # ("file", path relative to the script) or ("inline", blob)
    encrypted_args: list[tuple[str, str]] = []  # the same, for build args
    pulls: list[str] = []  # services started with this one whose image is pulled, not built
    dockercfg: str = ""  # the service's own credentials for pulling its image (or its base images)
    dockercfg_service: str = ""
    env_services: list[str] = []  # services started with this one that have both env_file and environment
    env_files: list[str] = []  # this service's env files, relative to the script
    env_kept: list[str] = []  # its environment keys compose.yaml holds (no env file set them when translating)
    env_dropped: list[tuple[str, str]] = []  # (key, value) of those it left to the env files then


class ScriptPlan(Record):
    pipeline: list[str]  # the lines of c2c_pipeline, indented: one per step, group and `end`
    services: list[ServiceInfo]
    host_dirs: list[str]
    build_volumes: list[str]
    key_path: str = "codeship.aes"  # relative to the script's directory
    source_dir: str = "."  # the services file's directory, relative to the script's
    built_images: list[tuple[str, str]] = []  # (service, image name): what the script builds
    add_docker: list[str] = []  # services with add_docker: they follow the host's Docker settings
    # (path relative to the script, sha256): the Codeship files as translated, so that the script
    # can say when one has changed since
    sources: list[tuple[str, str]] = []


def plan_script(project: Project, compose: ComposeResult, rebase: Rebaser, diags: Diagnostics,
                options: Options) -> ScriptPlan:
    builder = _Builder(diags, rebase)
    for step in project.steps:
        builder.node(step)
    # which images a step pulls with credentials is decided at run time; without any, Compose pulls
    private_pulls = any(s.encrypted_dockercfg_path or s.dockercfg_service for s in project.services.values()) or any(
        s.encrypted_dockercfg_path or s.dockercfg_service for s in walk(project.steps) if not isinstance(s, PushStep))
    services = []
    for name, svc in project.services.items():
        closure = started_with(project, name, compose.base_images)
        env_files, env_kept, env_dropped = _env_precedence(svc, project, rebase)
        services.append(ServiceInfo(
            name, compose.images.get(name, ""), _deps(project, name),
            builds=[s for s in closure if s in compose.built],
            secret_services=[s for s in closure if _has_encrypted_env(project.services[s])],
            encrypted_env=_secret_sources([f.path for f in svc.encrypted_env_file], svc.encrypted_environment,
                                          rebase),
            encrypted_args=_secret_sources([svc.build.encrypted_args_file] if svc.build and
                                           svc.build.encrypted_args_file else [],
                                           svc.build.encrypted_args if svc.build else [], rebase),
            pulls=[s for s in closure if s not in compose.built and compose.images.get(s)] if private_pulls else [],
            dockercfg=rebase.path(svc.encrypted_dockercfg_path) if svc.encrypted_dockercfg_path else "",
            dockercfg_service="" if svc.encrypted_dockercfg_path else svc.dockercfg_service or "",
            env_services=[s for s in closure if _has_env_precedence(project.services[s])],
            env_files=env_files, env_kept=env_kept, env_dropped=env_dropped))
    build_volumes = compose.shared_volumes if options.volumes_from_scope == "build" else []
    built_images = [(name, compose.images[name]) for name in compose.built]
    return ScriptPlan(builder.lines, services, compose.host_dirs, build_volumes,
                      rebase.path("codeship.aes"), rebase.path(".").rstrip("/") or ".", built_images,
                      [name for name, svc in project.services.items() if svc.add_docker],
                      _sources(project, rebase))


def _sources(project: Project, rebase: Rebaser) -> list[tuple[str, str]]:
    """The services and steps files with the sha256 of their bytes now (what the script hashes)."""
    import hashlib

    sources = []
    for path in (project.services_file, project.steps_file):
        if path is None:
            continue
        try:
            sources.append((rebase.locate(path), hashlib.sha256(path.read_bytes()).hexdigest()))
        except OSError:  # it was just read: gone since, there is nothing to compare with
            pass
    return sources



def _has_env_precedence(svc) -> bool:
    return bool(svc.env_file and svc.environment)


def _env_precedence(svc, project: Project, rebase: Rebaser) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """What the script needs to let env_file win over environment with the files as they are
    when a step runs (Codeship's order; Compose's is the reverse): the env files, the environment
    keys compose.yaml holds, and the ones it left out because an env file set them at translate
    time (with their values, for when the file no longer does)."""
    if not _has_env_precedence(svc):
        return [], [], []
    in_files: set[str] = set()
    for env_file in svc.env_file:
        in_files.update(read_env_keys(project.base_dir / env_file.path) or [])
    kept = [k for k in svc.environment if k not in in_files]
    dropped = [(k, v) for k, v in svc.environment.items() if k in in_files]
    return [rebase.path(f.path) for f in svc.env_file], kept, dropped


def _has_encrypted_env(svc) -> bool:
    return bool(svc.encrypted_env_file or svc.encrypted_environment)


def _secret_sources(files: list[str], inline: list[str], rebase: Rebaser) -> list[tuple[str, str]]:
    return [("file", rebase.path(path)) for path in files] + [("inline", blob) for blob in inline]


def _deps(project: Project, name: str) -> list[str]:
    svc = project.services[name]
    return list(dict.fromkeys(r.service for r in svc.dependencies if r.service in project.services))


def started_with(project: Project, name: str, base_images: dict[str, list[str]] | None = None) -> list[str]:
    """The services a step on `name` needs: itself and its dependencies, transitively, and the
    services whose images its Dockerfile builds on; dependencies first."""
    order: list[str] = []
    seen: set[str] = set()
    stack = [(name, False)]
    while stack:
        current, expanded = stack.pop()
        if expanded:
            order.append(current)
            continue
        if current in seen:
            continue
        seen.add(current)
        stack.append((current, True))
        for dep in reversed(_deps(project, current) + (base_images or {}).get(current, [])):
            if dep not in seen:
                stack.append((dep, False))
    return order


class _Builder:
    """Writes the pipeline: `step`, `push`, `group … end` lines, `on_fail` before the steps that
    run when the step above fails (see the script's --help for the syntax)."""

    def __init__(self, diags: Diagnostics, rebase: Rebaser):
        self.diags = diags
        self.rebase = rebase
        self.lines: list[str] = []

    def _filters(self, step: Step) -> str:
        out = ""
        for key in ("tag", "exclude"):
            text = getattr(step, key)
            if not text:
                continue
            regex = self._regex(text, step.key_loc.get(key, step.loc), key)
            out += f" --{key} {word(regex or text)}"
            if regex and regex != text:  # the Codeship text, for messages and jet's whole-name match
                out += f" --codeship-{key} {word(text)}"
        return out

    def _regex(self, value: str | None, loc: Loc, key: str) -> str:
        """The bash ERE for a regex filter ('' for a plain one, matched by equality only)."""
        if not value or ("^" not in value and "$" not in value):
            return ""
        from . import tag_filter  # loaded only when a pattern needs it

        try:
            return tag_filter.to_bash_ere(value)
        except tag_filter.UnsupportedRegex as exc:
            if not exc.re2_valid:  # jet: an invalid regex never errors, it never matches
                # check fails on it; translate keeps jet's behaviour and only warns (api.translate: C2C762)
                self.diags.error("C2C503", f"{key} '{value}' is not a valid regex ({exc.message}), so it "
                                 f"matches no branch or tag except one named exactly '{value}'", loc,
                                 "fix the regex, or write the branch name without ^ and $")
                return "x^"  # never matches
            self.diags.error("C2C501", f"{key} '{value}': {exc.message}", loc,
                             "rewrite the pattern with RE2 syntax that POSIX regular expressions share "
                             "(groups, |, [classes], \\d, \\w, anchors)")
            return "x^"

    def _credentials(self, creds: Credentials) -> str:
        if creds[0]:
            return f" --dockercfg {word(self.rebase.path(creds[0]))}"
        if creds[1]:
            return f" --dockercfg-service {word(creds[1])}"
        return ""

    def node(self, step: Step, inherited: Credentials = (None, None), depth: int = 0, fails: int = 0) -> None:
        """`inherited`: the registry credentials of the enclosing group; `fails`: how many
        `on_fail` words lead the line (an on_fail step's own on_fail steps have two)."""
        creds = credentials_of(step, inherited)
        lead = "  " * (depth + 1) + "on_fail " * fails
        if isinstance(step, GroupStep):
            self.lines.append(f"{lead}group {step.kind} {word(step.name)}{self._filters(step)}")
            for child in step.steps:
                self.node(child, creds, depth + 1)
            self.lines.append("  " * (depth + 1) + "end")
        elif isinstance(step, RunStep):
            command = "".join(" " + word(a) for a in step.command)
            self.lines.append(f"{lead}step {word(step.name)} {word(step.service)}{self._filters(step)}"
                              f"{self._credentials(creds)} --{command}")
            for child in step.on_fail:
                self.node(child, creds, depth + 1, fails + 1)
        elif isinstance(step, PushStep):
            self._check_tag(step)
            registry = f" --registry {word(step.registry)}" if step.registry else ""
            self.lines.append(f"{lead}push {word(step.name)} {word(step.service)} {word(step.image_name)} "
                              f"{word(step.image_tag)}{registry}{self._filters(step)}{self._credentials(creds)}")
        else:  # pragma: no cover - the parser creates only these kinds
            raise TypeError(step)

    def _check_tag(self, step: PushStep) -> None:
        """The script renders image_tag when it pushes; what it cannot render is an error now."""
        try:
            gotemplate.parse(step.image_tag)
        except gotemplate.TemplateError as exc:
            self.diags.error("C2C502", f"push step '{step.name}': image_tag: {exc}", step.loc)

