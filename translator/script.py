"""Codeship steps → the data the script template renders: one bash function per step node."""

from __future__ import annotations

import re

from . import gotemplate
from .compose import ComposeResult, read_env_keys
from .diagnostics import Diagnostics, Loc
from .model import Credentials, GroupStep, Project, PushStep, RunStep, Step, credentials_of, walk
from .records import Record


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def sq(value: str) -> str:
    """Quote a value for bash so that nothing inside is expanded: '…', or $'…' when it holds
    control characters, which keeps the script printable."""
    value = str(value)
    if not _CONTROL.search(value):
        return "'" + value.replace("'", "'\\''") + "'"
    return "$'" + "".join(_ESCAPES.get(c) or (f"\\x{ord(c):02x}" if _CONTROL.match(c) else c)
                          for c in value) + "'"


class Node(Record):
    fn: str
    kind: str  # run | push | serial | parallel | manual
    name: str
    where: str
    tag: str = ""  # as written
    tag_re: str = ""  # the bash ERE, when the tag is a regex
    exclude: str = ""
    exclude_re: str = ""
    index: int = 0
    service: str = ""
    argv: list[str] = []
    children: list[str] = []
    on_fail: list[str] = []
    image_name: str = ""
    tag_expr: str = ""
    registry: str = ""
    dockercfg: str = ""  # registry credentials of the step (own or its group's): an encrypted
    dockercfg_service: str = ""  # Docker config relative to the script, or the service that writes one
    detail: str = ""


class ServiceInfo(Record):
    name: str
    image: str
    deps: str
    builds: str
    secret_services: str = ""  # services started with this one that have encrypted environment
    encrypted_env: list[str] = []  # kind, value, kind, value…
    encrypted_args: list[str] = []
    pulls: str = ""  # services started with this one whose image is pulled, not built
    dockercfg: str = ""  # the service's own credentials for pulling its image (or its base images)
    dockercfg_service: str = ""
    env_services: str = ""  # services started with this one that have both env_file and environment
    env_files: list[str] = []  # this service's env files, relative to the script
    env_kept: str = ""  # its environment keys compose.yaml holds (no env file set them when translating)
    env_dropped: list[str] = []  # key, value… of those it left to the env files then


class ScriptPlan(Record):
    nodes: list[Node]
    top: list[str]
    services: list[ServiceInfo]
    host_dirs: list[str]
    build_volumes: list[str]
    key_path: str = "codeship.aes"  # relative to the script's directory
    source_dir: str = "."  # the services file's directory, relative to the script's
    built_images: list[str] = []  # service, image name, service, image name…: what the script builds
    add_docker: list[str] = []  # services with add_docker: they follow the host's Docker settings


def plan_script(project: Project, compose: ComposeResult, diags: Diagnostics,
                volumes_from_scope: str = "step") -> ScriptPlan:
    rebase = compose.rebase
    builder = _Builder(diags, rebase)
    top = [builder.node(step) for step in project.steps]
    top = [fn for fn in top if fn]
    base_images = _base_image_services(project, compose)
    # which images a step pulls with credentials is decided at run time; without any, Compose pulls
    private_pulls = any(s.encrypted_dockercfg_path or s.dockercfg_service for s in project.services.values()) or any(
        s.encrypted_dockercfg_path or s.dockercfg_service for s in walk(project.steps) if not isinstance(s, PushStep))
    services = []
    for name, svc in project.services.items():
        closure = _closure(project, name, base_images)
        services.append(ServiceInfo(
            name, compose.images.get(name, ""), " ".join(_deps(project, name)),
            " ".join(s for s in closure if s in compose.built),
            " ".join(s for s in closure if _has_encrypted_env(project.services[s])),
            _secret_sources([f.path for f in svc.encrypted_env_file], svc.encrypted_environment, rebase),
            _secret_sources([svc.build.encrypted_args_file] if svc.build and svc.build.encrypted_args_file
                            else [], svc.build.encrypted_args if svc.build else [], rebase),
            " ".join(s for s in closure if s not in compose.built and compose.images.get(s))
            if private_pulls else "",
            rebase.path(svc.encrypted_dockercfg_path) if svc.encrypted_dockercfg_path else "",
            "" if svc.encrypted_dockercfg_path else svc.dockercfg_service or "",
            " ".join(s for s in closure if _has_env_precedence(project.services[s])),
            *_env_precedence(svc, project, rebase)))
    build_volumes = compose.shared_volumes if volumes_from_scope == "build" else []
    built_images = [part for name in compose.built for part in (name, compose.images[name])]
    return ScriptPlan(builder.nodes, top, services, compose.host_dirs, build_volumes,
                      rebase.path("codeship.aes"), rebase.path(".").rstrip("/") or ".", built_images,
                      [name for name, svc in project.services.items() if svc.add_docker])



def _has_env_precedence(svc) -> bool:
    return bool(svc.env_file and svc.environment)


def _env_precedence(svc, project: Project, rebase) -> tuple[list[str], str, list[str]]:
    """What the script needs to let env_file win over environment with the files as they are
    when a step runs (Codeship's order; Compose's is the reverse): the env files, the environment
    keys compose.yaml holds, and the ones it left out because an env file set them at translate
    time (with their values, for when the file no longer does)."""
    if not _has_env_precedence(svc):
        return [], "", []
    in_files: set[str] = set()
    for env_file in svc.env_file:
        in_files.update(read_env_keys(project.base_dir / env_file.path) or [])
    kept = [k for k in svc.environment if k not in in_files]
    dropped = [x for k, v in svc.environment.items() if k in in_files for x in (k, v)]
    return [rebase.path(f.path) for f in svc.env_file], " ".join(kept), dropped


def _has_encrypted_env(svc) -> bool:
    return bool(svc.encrypted_env_file or svc.encrypted_environment)


def _secret_sources(files: list[str], inline: list[str], rebase) -> list[str]:
    out: list[str] = []
    for path in files:
        out += ["file", rebase.path(path)]
    for blob in inline:
        out += ["inline", blob]
    return out


def _deps(project: Project, name: str) -> list[str]:
    svc = project.services[name]
    return list(dict.fromkeys(r.service for r in svc.dependencies if r.service in project.services))


def _base_image_services(project: Project, compose: ComposeResult) -> dict[str, list[str]]:
    """service → the services whose built image its Dockerfile starts FROM. Codeship made users
    build those in an earlier step; the script builds them first."""
    by_image = {}
    for name in compose.built:
        image = compose.images[name]
        by_image[image] = name
        if ":" not in image.rsplit("/", 1)[-1]:
            by_image[image + ":latest"] = name
    out: dict[str, list[str]] = {}
    for name in compose.built:
        build = project.services[name].build
        dockerfile = project.base_dir / build.context / (build.dockerfile or "Dockerfile")
        try:
            text = dockerfile.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        bases = [m.group(1) for m in _FROM.finditer(text)]
        out[name] = [by_image[b] for b in bases if b in by_image and by_image[b] != name]
    return out


_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", re.M | re.I)


def _closure(project: Project, name: str, base_images: dict[str, list[str]] | None = None) -> list[str]:
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
    def __init__(self, diags: Diagnostics, rebase):
        self.diags = diags
        self.rebase = rebase
        self.nodes: list[Node] = []
        self.leaf_count = 0

    def _new(self, step: Step, kind: str) -> Node:
        node = Node(fn=f"c2c_n{len(self.nodes) + 1}", kind=kind, name=step.name, where=_where(step.loc),
                    tag=step.tag or "", tag_re=self._regex(step.tag, step.key_loc.get("tag", step.loc), "tag"),
                    exclude=step.exclude or "",
                    exclude_re=self._regex(step.exclude, step.key_loc.get("exclude", step.loc), "exclude"))
        self.nodes.append(node)
        return node

    def _regex(self, value: str | None, loc: Loc, key: str) -> str:
        """The bash ERE for a regex filter ('' for a plain one, matched by equality only)."""
        if not value or ("^" not in value and "$" not in value):
            return ""
        from . import tag_filter  # loaded only when a pattern needs it

        try:
            return tag_filter.to_bash_ere(value)
        except tag_filter.UnsupportedRegex as exc:
            if not exc.re2_valid:  # jet: an invalid regex never errors, it never matches
                self.diags.warning("C2C503", f"{key} '{value}' is not a valid RE2 regex: {exc.message}; it "
                                   "only matches a tag equal to the whole text, as in jet", loc,
                                   "fix the regex, or write the branch name without ^ and $")
                return "x^"  # never matches
            self.diags.error("C2C501", f"{key} '{value}': {exc.message}", loc,
                             "rewrite the pattern with RE2 syntax that POSIX regular expressions share "
                             "(groups, |, [classes], \\d, \\w, anchors)")
            return "x^"

    def _leaf(self, step: RunStep | PushStep, kind: str, creds: Credentials) -> Node:
        """A step that runs something: numbered, as its Compose project is named by the number."""
        node = self._new(step, kind)
        self.leaf_count += 1
        node.index = self.leaf_count
        node.service = step.service
        node.dockercfg = self.rebase.path(creds[0]) if creds[0] else ""
        node.dockercfg_service = creds[1] or ""
        return node

    def node(self, step: Step, inherited: Credentials = (None, None)) -> str:
        """`inherited`: the registry credentials of the enclosing group."""
        creds = credentials_of(step, inherited)
        if isinstance(step, GroupStep):
            node = self._new(step, step.kind)
            node.children = [fn for fn in (self.node(child, creds) for child in step.steps) if fn]
            return node.fn
        if isinstance(step, RunStep):
            node = self._leaf(step, "run", creds)
            node.argv = step.command
            node.detail = f"[{step.service}] " + " ".join(_display_word(a) for a in step.command)
            node.on_fail = [fn for fn in (self.node(child, creds) for child in step.on_fail) if fn]
            return node.fn
        if isinstance(step, PushStep):
            node = self._leaf(step, "push", creds)
            node.image_name = step.image_name
            node.registry = step.registry or ""
            node.tag_expr = self._tag_expr(step)
            return node.fn
        raise TypeError(step)  # pragma: no cover - the parser creates only these kinds

    def _tag_expr(self, step: PushStep) -> str:
        try:
            parts = gotemplate.parse(step.image_tag)
        except gotemplate.TemplateError as exc:
            self.diags.error("C2C502", f"push step '{step.name}': image_tag: {exc}", step.loc)
            return sq("latest")
        out = []
        for part in parts:
            if isinstance(part, str):
                out.append(sq(part))
            elif part.width is not None:
                out.append('"${%s:0:%d}"' % (part.env, part.width))
            else:
                out.append('"${%s}"' % part.env)
        return "".join(out) or sq("latest")


def _where(loc: Loc) -> str:
    """A step's place for the script's comments: the file's name, not the path it was read by,
    so that the output does not depend on the directory translate ran from."""
    return str(loc._replace(file=loc.file.replace("\\", "/").rsplit("/", 1)[-1]))


def _display_word(word: str) -> str:
    """A command word for people (--list): bare when plain, else in double quotes. Single quotes
    here would be quoted a second time in the script, which reads badly."""
    if word and all(c.isalnum() or c in "-_./=:,@%+" for c in word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
