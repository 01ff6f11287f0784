"""codeship-services.yml → model.Service objects (syntax and per-service rules only)."""

from __future__ import annotations

from .diagnostics import Diagnostics, Loc
from .fields import Fields, is_scalar, type_name
from .model import Build, EnvFile, Ref, Service, Volume
from .names import compose_service_name
from .rules import (BUILD_RULES, IGNORED, LOCAL, MISPLACED_BUILD_KEYS, MISPLACED_SERVICE_KEYS, PASSTHROUGH,
                    SERVICE_RULES, suggest)
from .yaml_loader import LMap, LSeq

_TOP_LEVEL_COMPOSE_KEYS = ("version", "services", "volumes", "networks", "secrets", "configs")


def services_mapping(doc, filename: str, diags: Diagnostics) -> LMap | None:
    """The mapping of service definitions: top level, or under `services:` (Compose style)."""
    if doc is None:
        diags.error("C2C100", "the services file is empty", Loc(filename, 1, 1),
                    "define at least one service: `app:` with an `image:` or a `build:`")
        return None
    if not isinstance(doc, LMap):
        diags.error("C2C100", f"the services file must be a mapping of service names, not {type_name(doc)}",
                    doc.loc if isinstance(doc, LSeq) else Loc(filename, 1, 1),
                    "write each service as `name:` with its keys indented below it, e.g. `app:` and "
                    "`  image: busybox` on the next line")
        return None
    services = doc.get("services")
    compose_style = isinstance(services, LMap) and (
        "version" in doc or all(isinstance(v, LMap) for v in services.values()))
    if not compose_style:
        if "version" in doc:
            diags.error("C2C100", "a services file with `version:` must define its services under "
                        "`services:`", doc.key_loc["version"], "add `services:` or remove `version:`")
            return None
        return doc
    for key in doc:
        if key in ("volumes", "networks", "secrets", "configs"):
            diags.warning("C2C101", f"top-level '{key}' is not supported by Codeship and is ignored",
                          doc.key_loc[key], f"remove the top-level '{key}' section"
                          + ("; volumes are declared on each service" if key == "volumes" else ""))
        elif key not in _TOP_LEVEL_COMPOSE_KEYS:
            diags.error("C2C100", f"unknown top-level key '{key}' next to `services:`", doc.key_loc[key],
                        "move it under `services:` if it is a service")
    return services


def parse_services(doc, filename: str, diags: Diagnostics) -> dict[str, Service] | None:
    """The services, or None when the file as a whole is unusable (so that steps naming
    services are not blamed for it)."""
    mapping = services_mapping(doc, filename, diags)
    if mapping is None:
        return None
    if not mapping:
        diags.error("C2C100", "the services file defines no services", mapping.loc)
    services: dict[str, Service] = {}
    originals: dict[str, str] = {}
    for name, body in mapping.items():
        loc = mapping.key_loc[name]
        original = str(name)
        name = compose_service_name(original)
        if name in originals:
            diags.error("C2C115", f"services '{originals[name]}' and '{original}' both become '{name}' in "
                        "Compose, which allows only letters, digits, '.', '_' and '-'", loc,
                        "rename one of them")
            continue
        originals[name] = original
        if name != original:
            diags.warning("C2C116", f"service '{original}' is named '{name}' in compose.yaml (Compose allows only "
                          "letters, digits, '.', '_' and '-', not first '-' or '.')", loc,
                          "references to it are renamed too; rename it in the services file to avoid this")
        if original in SERVICE_RULES and not _looks_like_a_service(body):
            above = [str(k) for k in mapping if mapping.key_loc[k].line < loc.line]
            where = f"service '{above[-1]}' above it" if above else "a service"
            diags.error("C2C760", f"'{original}' is at the top level, so it is read as a service; it looks "
                        f"like a key of {where}, indented too little", loc,
                        f"indent `{original}:` under {where.removesuffix(' above it')}, like its other keys")
            continue
        if not isinstance(body, LMap):
            diags.error("C2C102", f"service '{name}' must be a mapping of keys, not {type_name(body)}",
                        mapping.loc_of(name) if body is not None else loc,
                        "give the service an `image:` or a `build:` indented under its name")
            continue
        services[name] = _service(name, body, loc, diags)
    return services


def _looks_like_a_service(body) -> bool:
    """A service named like a service key (`build`, `links`) is still a service if it has an
    image or a build."""
    return isinstance(body, LMap) and ("image" in body or "build" in body)


def _service(name: str, m: LMap, loc: Loc, diags: Diagnostics) -> Service:
    f = Fields(m, diags, f"service '{name}'")
    svc = Service(name=name, loc=loc, key_loc=dict(m.key_loc))
    for key in m:
        key_loc = m.key_loc[key]
        rule = SERVICE_RULES.get(key)
        if rule is None:
            guess = suggest(str(key), SERVICE_RULES, MISPLACED_SERVICE_KEYS)
            diags.warning("C2C103", f"service '{name}': unknown key '{key}' is ignored", key_loc,
                          f"did you mean {guess}?" if guess else "Codeship ignores keys it does not know")
        elif rule.outcome == IGNORED:
            diags.warning("C2C104", f"service '{name}': '{key}' is ignored by Codeship and dropped",
                          key_loc, rule.hint or "remove it: the build behaves the same without it, as on Codeship")
        elif key in PASSTHROUGH:
            svc.extra[key] = m[key]
        elif rule.outcome == LOCAL:  # checked and emitted by localdev.py
            svc.local[key] = m[key]
    svc.image = f.text("image")
    if "build" in m:
        svc.build = _build(name, m, diags)
    if svc.image is not None and svc.build is not None:
        diags.error("C2C105", f"service '{name}' sets both 'image' and 'build'", m.key_loc["build"],
                    "use build.image to name the image a build produces, or remove one of them")
    elif svc.image is None and svc.build is None:
        diags.error("C2C105", f"service '{name}' has neither 'image' nor 'build'", loc,
                    "add `image: NAME` to use an image, or `build: DIR` to build one")
    svc.command = f.argv("command")
    svc.entrypoint = f.argv("entrypoint")
    svc.working_dir = f.text("working_dir")
    svc.user = f.text("user")
    svc.hostname = f.text("hostname")
    svc.environment, svc.env_loc = f.env("environment")
    svc.env_file = [EnvFile(l, p) for p, l in f.texts("env_file")]
    svc.encrypted_env_file = [EnvFile(l, p) for p, l in f.texts("encrypted_env_file")]
    svc.encrypted_environment = [t for t, _ in f.texts("encrypted_environment")]
    svc.volumes = _volumes(f)
    svc.volumes_from = _refs(f, "volumes_from", mode=True)
    svc.links = _refs(f, "links", mode=False)
    svc.depends_on = _depends_on(f)
    svc.add_docker = f.flag("add_docker")
    svc.cached = f.flag("cached")
    svc.default_cache_branch = f.text("default_cache_branch")
    svc.encrypted_dockercfg_path = f.text("encrypted_dockercfg_path")
    svc.dockercfg_service = f.text("dockercfg_service")
    if svc.dockercfg_service:
        svc.dockercfg_service = compose_service_name(svc.dockercfg_service)
    if "dockerfile" in m and svc.build is not None:
        dockerfile = f.text("dockerfile")
        if svc.build.dockerfile is None and dockerfile is not None:
            svc.build.dockerfile = dockerfile
    elif "dockerfile" in m:
        diags.warning("C2C106", f"service '{name}': 'dockerfile' without 'build' is ignored",
                      m.key_loc["dockerfile"], "did you mean build.dockerfile?")
    return svc


def _build(name: str, m: LMap, diags: Diagnostics) -> Build | None:
    value = m["build"]
    loc = m.loc_of("build")
    if value is None:
        diags.error("C2C110", f"service '{name}': 'build' is empty", loc,
                    "write `build: .` or a mapping with `context:` and `dockerfile:`")
        return None
    if is_scalar(value):
        return Build(loc=loc, context=m.text_of("build"))
    if not isinstance(value, LMap):
        diags.error("C2C110", f"service '{name}': 'build' must be a directory or a mapping, not "
                    f"{type_name(value)}", loc)
        return None
    f = Fields(value, diags, f"service '{name}' build")
    build = Build(loc=loc, key_loc=dict(value.key_loc))
    for key in value:
        if key not in BUILD_RULES:
            guess = suggest(str(key), BUILD_RULES, MISPLACED_BUILD_KEYS)
            diags.warning("C2C107", f"service '{name}': unknown build key '{key}' is ignored",
                          value.key_loc[key], f"did you mean {guess}?" if guess else None)
    if "context" in value and "path" in value:
        diags.warning("C2C108", f"service '{name}': build sets both 'context' and its old alias 'path'; "
                      "'context' is used", value.key_loc["path"])
    if "dockerfile" in value and "dockerfile_path" in value:
        diags.warning("C2C108", f"service '{name}': build sets both 'dockerfile' and its old alias "
                      "'dockerfile_path'; 'dockerfile' is used", value.key_loc["dockerfile_path"])
    build.context = f.text("context") or f.text("path") or "."
    build.dockerfile = f.text("dockerfile") or f.text("dockerfile_path")
    build.image = f.text("image")
    args = value.get("args")
    if isinstance(args, (LMap, LSeq)):
        build.args, build.arg_loc = f.env("args")
    elif args is not None:
        f.wrong("args", "a mapping of build arguments")
    build.encrypted_args_file = f.text("encrypted_args_file")
    build.encrypted_args = [t for t, _ in f.texts("encrypted_args")]
    for key in ("target", "cache_from"):
        if key in value:
            build.extra[key] = value[key]
    return build


def _volumes(f: Fields) -> list[Volume]:
    out = []
    for text, loc in f.texts("volumes"):
        if not text:
            f.diags.error("C2C112", f"{f.where}: a volume entry is empty", loc)
            continue
        parts = text.split(":")
        if len(parts) == 1:
            out.append(Volume(loc, container=parts[0]))
        elif len(parts) in (2, 3) and parts[0] and parts[1]:
            mode = parts[2] if len(parts) == 3 else None
            if mode is not None and not all(m in ("ro", "rw", "z", "Z", "cached", "delegated", "consistent",
                                                  "nocopy") for m in mode.split(",")):
                f.diags.error("C2C112", f"{f.where}: volume '{text}' has an unknown mode '{mode}'", loc,
                              "use ':ro' or ':rw'")
                continue
            out.append(Volume(loc, container=parts[1], host=parts[0], mode=mode))
        else:
            f.diags.error("C2C112", f"{f.where}: volume '{text}' is not 'PATH', 'HOST:PATH' or "
                          "'HOST:PATH:MODE'", loc)
            continue
        if not out[-1].container.startswith("/"):
            f.diags.error("C2C112", f"{f.where}: volume '{text}': the container path must be absolute",
                          loc, "write the path inside the container starting with '/'")
            out.pop()
    return out


def _refs(f: Fields, key: str, mode: bool) -> list[Ref]:
    refs = []
    for text, loc in f.texts(key):
        service, sep, extra = text.partition(":")
        if not service or (sep and not extra):
            f.diags.error("C2C113", f"{f.where}: '{key}' entry '{text}' is malformed", loc,
                          "write SERVICE or SERVICE:ALIAS" if not mode else "write SERVICE or SERVICE:ro")
            continue
        if mode and extra and extra not in ("ro", "rw"):
            f.diags.error("C2C113", f"{f.where}: volumes_from '{text}': mode must be 'ro' or 'rw'", loc)
            continue
        refs.append(Ref(loc, compose_service_name(service), extra or None))
    return refs


def _depends_on(f: Fields) -> list[Ref]:
    value = f.m.get("depends_on")
    if isinstance(value, LMap):  # Compose long form: {db: {condition: ...}}; only the names matter
        f.diags.warning("C2C114", f"{f.where}: depends_on conditions are not Codeship syntax; only the "
                        "service names are used", f.loc("depends_on"))
        return [Ref(value.key_loc[k], compose_service_name(str(k))) for k in value]
    return [Ref(loc, compose_service_name(text)) for text, loc in f.texts("depends_on")]
