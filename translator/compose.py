"""Codeship services → one Compose file (a plain dict, emitted later).

Every step later runs as its own Compose project against this one file, so this module only
describes services; the per-step freshness lives in the script.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from . import gotemplate
from .diagnostics import Diagnostics, Loc
from .model import GroupStep, Options, Project, Service, Volume, walk
from .names import slug
from .paths import Rebaser
from .records import Record

DOCKER_SOCKET = "/var/run/docker.sock"
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([^#=\s][^=\s]*)\s*=")


class ComposeResult(Record):
    document: dict
    images: dict[str, str]  # service → image name the script builds or runs
    built: list[str]  # services with a build section, in file order
    shared_volumes: list[str] = []  # volumes_from named volumes
    host_dirs: list[str] = []  # relative host paths the script creates
    base_images: dict[str, list[str]] = {}  # service → the built services its Dockerfile starts FROM


def esc(text: str) -> str:
    """Compose interpolates `$`; Codeship did not, so every literal `$` is doubled. Compose (v2 and
    v1) interpolates every value, and no key: a mapping's keys (environment names, build args,
    labels) are written as they are, where `$$` would stay two dollars."""
    return text.replace("$", "$$")


def to_compose(project: Project, rebase: Rebaser, diags: Diagnostics, options: Options) -> ComposeResult:
    project_slug = slug(project.base_dir.name)
    images: dict[str, str] = {}
    built: list[str] = []
    for name, svc in project.services.items():
        if svc.build is not None:
            images[name] = svc.build.image or f"{project_slug}-{slug(name)}"
            built.append(name)
        elif svc.image:
            images[name] = svc.image
    _warn_shared_image_names(project, images, diags)
    user_named = sorted({v.host for svc in project.services.values() for v in svc.volumes
                         if v.is_named and v.host})
    named = _volumes_from_names(project, set(user_named))
    services: dict[str, dict] = {}
    host_dirs: list[str] = []
    for name, svc in project.services.items():
        services[name] = _service(svc, project, images, named, rebase, diags, host_dirs)
    doc: dict = {"services": services}
    if named or user_named:
        # Named volumes the services file uses itself belong to each step's project, like the
        # containers: Codeship had no volume outliving a step other than host paths.
        volumes: dict[str, dict] = {key: {} for key in user_named}
        for key in sorted(set(named.values())):
            if options.volumes_from_scope == "build":
                # Outlives each step's project: the script creates it once and removes it at exit.
                volumes[key] = {"name": "${C2C_RUN_ID:-c2c}_" + key, "external": True}
            else:
                volumes[key] = {}
        doc["volumes"] = dict(sorted(volumes.items()))
    _check_encrypted_files(project, diags)
    return ComposeResult(doc, images, built, sorted(set(named.values())), sorted(set(host_dirs)),
                         _base_image_services(project, images, built))


def _base_image_services(project: Project, images: dict[str, str], built: list[str]) -> dict[str, list[str]]:
    """service → the services whose built image its Dockerfile starts FROM. Codeship made users
    build those in an earlier step; the script builds them first."""
    by_image = {}
    for name in built:
        image = images[name]
        by_image[image] = name
        if ":" not in image.rsplit("/", 1)[-1]:
            by_image[image + ":latest"] = name
    out: dict[str, list[str]] = {}
    for name in built:
        build = project.services[name].build
        assert build is not None  # built holds only services with a build
        dockerfile = project.base_dir / build.context / (build.dockerfile or "Dockerfile")
        try:
            text = dockerfile.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        bases = [m.group(1) for m in _FROM.finditer(text)]
        out[name] = [by_image[b] for b in bases if b in by_image and by_image[b] != name]
    return out


_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", re.M | re.I)


def _check_encrypted_files(project: Project, diags: Diagnostics) -> None:
    """One warning per missing encrypted file, at its first use, naming everything that uses it
    (one file shared by services and steps is one thing to do)."""
    uses: dict[str, list[tuple[str, str, Loc]]] = {}  # path → (user, key, loc)

    def use(path: str, user: str, key: str, loc: Loc) -> None:
        if not os.path.isfile(project.base_dir / path):  # False, not OSError, for a name too long
            uses.setdefault(os.path.normpath(path), []).append((user, key, loc))

    for svc in project.services.values():
        for f in svc.encrypted_env_file:
            use(f.path, f"service '{svc.name}'", "encrypted_env_file", f.loc)
        if svc.build and svc.build.encrypted_args_file:
            use(svc.build.encrypted_args_file, f"service '{svc.name}'", "build.encrypted_args_file",
                svc.build.key_loc.get("encrypted_args_file", svc.build.loc))
        if svc.encrypted_dockercfg_path:
            use(svc.encrypted_dockercfg_path, f"service '{svc.name}'", "encrypted_dockercfg_path",
                svc.key_loc.get("encrypted_dockercfg_path", svc.loc))
    for step in walk(project.steps):
        if step.encrypted_dockercfg_path:
            what = "group" if isinstance(step, GroupStep) else "step"
            use(step.encrypted_dockercfg_path, f"{what} '{step.name}'", "encrypted_dockercfg_path",
                step.key_loc.get("encrypted_dockercfg_path", step.loc))
    for path, users in uses.items():
        named = list(dict.fromkeys(f"{user} ({key})" for user, key, _ in users))
        hint = ("encrypt your Docker config.json with `codeship2compose encrypt`, or fix the path"
                if all(key == "encrypted_dockercfg_path" for _, key, _ in users) else
                "encrypt it with `codeship2compose encrypt` (or `jet encrypt`), or fix the path")
        diags.warning("C2C405", f"encrypted file '{path}' does not exist; what uses it fails until it does: "
                      + ", ".join(named), min(loc for _, _, loc in users), hint)


def _volumes_from_names(project: Project, taken: set[str]) -> dict[tuple[str, str], str]:
    """(source service, container path) → named volume, for container-only volumes of every
    service some other service takes volumes_from."""
    sources = {ref.service for svc in project.services.values() for ref in svc.volumes_from
               if ref.service in project.services}
    names: dict[tuple[str, str], str] = {}
    taken = set(taken)
    for src in sorted(sources):
        for vol in project.services[src].volumes:
            if vol.host is None:
                base = f"{slug(src)}_{slug(vol.container)}"
                key, n = base, 2
                while key in taken:
                    key, n = f"{base}_{n}", n + 1
                taken.add(key)
                names[(src, vol.container)] = key
    return names


def _mounts(name: str, project: Project, named, rebase: Rebaser, seen: frozenset = frozenset()):
    """A service's mounts as Compose volume strings, with those it takes via volumes_from
    (transitively, as Docker copies a source's own volumes_from too)."""
    svc = project.services[name]
    out: dict[str, str] = {}  # container path → compose string: Docker mounts one thing per path
    for vol in svc.volumes:
        out[vol.container.rstrip("/") or "/"] = _mount(name, vol, named, rebase)
    for ref in svc.volumes_from:
        if ref.service not in project.services or ref.service in seen or ref.service == name:
            continue
        for path, spec in _mounts(ref.service, project, named, rebase, seen | {name}):
            if ref.extra:
                spec = _with_mode(spec, ref.extra)
            own = out.get(path)
            if own is None or ":" not in own:  # an own anonymous volume gives way to the shared one
                out[path] = spec
    return list(out.items())


def _mount(service: str, vol: Volume, named, rebase: Rebaser) -> str:
    if vol.host is None:
        key = named.get((service, vol.container))
        return f"{key}:{vol.container}" if key else vol.container
    host = vol.host if vol.is_named else rebase.path(vol.host)
    spec = f"{host}:{vol.container}"
    return f"{spec}:{vol.mode}" if vol.mode else spec


def _with_mode(spec: str, mode: str) -> str:
    parts = spec.split(":")
    if len(parts) == 1:  # anonymous volume from the source: Docker shares it, with the mode
        return spec
    if len(parts) == 3:
        modes = [m for m in parts[2].split(",") if m not in ("ro", "rw")] + [mode]
        return f"{parts[0]}:{parts[1]}:{','.join(modes)}"
    return f"{spec}:{mode}"


def _service(svc: Service, project: Project, images, named, rebase: Rebaser, diags: Diagnostics,
             host_dirs: list[str]) -> dict:
    out: dict = {}
    if svc.name in images:
        out["image"] = esc(images[svc.name])
    if svc.build is not None:
        out["build"] = _build(svc, rebase, diags)
    if svc.command is not None:
        out["command"] = [esc(a) for a in svc.command]
    if svc.entrypoint is not None:
        out["entrypoint"] = [esc(a) for a in svc.entrypoint]
    for key in ("working_dir", "user", "hostname"):
        value = getattr(svc, key)
        if value is not None:
            out[key] = esc(value)
    env = _environment(svc, project, diags)
    if svc.add_docker and "DOCKER_HOST" not in env:
        env["DOCKER_HOST"] = f"unix://{DOCKER_SOCKET}"
    if env:
        out["environment"] = {k: esc(v) for k, v in env.items()}
    if svc.env_file:
        out["env_file"] = [esc(rebase.path(f.path)) for f in svc.env_file]
    mounts = [spec for _, spec in _mounts(svc.name, project, named, rebase)]
    if svc.add_docker:
        mounts.append(f"{DOCKER_SOCKET}:{DOCKER_SOCKET}")
    if mounts:
        out["volumes"] = [esc(m) for m in _dedupe(mounts)]
    for vol in svc.volumes:
        if vol.host is not None and not vol.is_named:
            _host_path_note(svc, vol, diags, host_dirs, rebase)
    if svc.links:
        out["links"] = [esc(f"{r.service}:{r.extra}" if r.extra else r.service) for r in svc.links]
    if svc.depends_on:
        out["depends_on"] = _dedupe([esc(r.service) for r in svc.depends_on])
    for key, value in svc.extra.items():
        out[key] = _plain(value)
    return out


def _build(svc: Service, rebase: Rebaser, diags: Diagnostics) -> dict:
    b = svc.build
    assert b is not None
    out: dict = {"context": esc(rebase.path(b.context))}
    if os.path.isabs(b.context) or b.context.startswith("~"):
        diags.warning("C2C407", f"service '{svc.name}': the build context '{b.context}' is an absolute host "
                      "path; it must exist wherever the script runs", b.key_loc.get("context") or
                      b.key_loc.get("path") or b.loc, "use a path relative to the services file")
    if b.dockerfile:
        out["dockerfile"] = esc(b.dockerfile)
    args: dict[str, object] = {}
    for key, value in b.args.items():
        try:
            args[key] = gotemplate.to_compose(gotemplate.parse(value, allow_step_vars=False))
        except gotemplate.TemplateError as exc:
            diags.error("C2C401", f"service '{svc.name}': build arg {key!r}: {exc}", b.arg_loc.get(key, b.loc),
                        "use {{ .Branch }}-style variables only, or a literal value")
    if args:
        out["args"] = args
    for key, extra in b.extra.items():
        out[key] = _plain(extra)
    return out


def read_env_keys(path: Path) -> list[str] | None:
    """The variable names an env file sets, or None if it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return [m.group(1) for line in text.splitlines() if (m := _ENV_LINE.match(line))]


def _environment(svc: Service, project: Project, diags: Diagnostics) -> dict[str, str]:
    """`environment`, minus the keys an env_file sets: in Codeship env_file wins, in Compose
    `environment` would, so the overlap is left to the env_file."""
    env = dict(svc.environment)
    for env_file in svc.env_file:
        keys = read_env_keys(project.base_dir / env_file.path)
        if keys is None:
            hint = "create the file (it is often kept out of git), or remove the entry"
            if "encrypted" in env_file.path.lower() or env_file.path.lower().endswith((".enc", ".crypt")):
                hint = ("this looks encrypted: did you mean `encrypted_env_file:`? (env_file reads plain "
                        "KEY=value files)")
            diags.warning("C2C402", f"service '{svc.name}': env_file '{env_file.path}' does not exist; Compose "
                          "refuses to start the service until it does", env_file.loc, hint)
            continue
        for key in keys:
            env.pop(key, None)
    return env


def _host_path_note(svc: Service, vol: Volume, diags: Diagnostics, host_dirs: list[str],
                    rebase: Rebaser) -> None:
    host = vol.host or ""
    if os.path.isabs(host) or host.startswith("~"):
        if host != DOCKER_SOCKET:
            diags.warning("C2C403", f"service '{svc.name}': volume '{host}:{vol.container}' mounts an "
                          "absolute host path", vol.loc,
                          "Codeship discouraged absolute paths; check that it exists on every machine")
        return
    if ".." in Path(host).parts:
        diags.warning("C2C403", f"service '{svc.name}': volume '{host}:{vol.container}' points outside the "
                      "project directory", vol.loc)
    host_dirs.append(rebase.path(host))  # the script makes them relative to itself, like the mounts


def _warn_shared_image_names(project: Project, images: dict[str, str], diags: Diagnostics) -> None:
    """Two builds of one image name: harmless when they build the same thing, else the later
    replaces the earlier."""
    by_image: dict[str, str] = {}
    for name, svc in project.services.items():
        if svc.build is None:
            continue
        image = images[name]
        if image not in by_image:
            by_image[image] = name
            continue
        first = project.services[by_image[image]].build
        assert first is not None  # by_image holds only services with a build
        differ = [key for key, (a, b) in zip(_BUILD_INPUTS, zip(_build_inputs(first), _build_inputs(svc.build)))
                  if a != b]
        if differ:
            diags.warning("C2C404", f"services '{by_image[image]}' and '{name}' both build image '{image}', with "
                          f"different {', '.join(differ)}; the later build replaces the earlier one",
                          svc.build.loc, "give each build its own build.image")


_BUILD_INPUTS = ("context", "dockerfile", "args", "encrypted args", "target or cache_from")


def _build_inputs(build) -> tuple:
    """What decides the image a build makes, in the order of _BUILD_INPUTS."""
    return (os.path.normpath(build.context), os.path.normpath(build.dockerfile or "Dockerfile"),
            sorted(build.args.items()), (build.encrypted_args_file, sorted(build.encrypted_args)),
            _plain(build.extra))


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _plain(value):
    """Located YAML values → plain dicts/lists/strings with `$` escaped, for pass-through keys."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return esc(value)
    return value
