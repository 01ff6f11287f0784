"""The local-development side of the outputs: compose.override.yaml.

Codeship ignored `ports` (and `stdin_open`, `tty`), so the steps must never publish a port: two
parallel steps would collide on it. A developer running `docker compose up` expects them, though.
Compose reads `compose.override.yaml` next to `compose.yaml` by default when no `-f` is given; the
steps script always passes its own `-f compose.yaml`, so it never reads this file.

The same file gives the services that only steps use (credential generators, data containers,
Docker-driving tools, `command: true` placeholders) the Compose profile `steps`, so that a bare
`docker compose up` starts the application and what it depends on, and nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

from .compose import esc
from .diagnostics import Diagnostics, Loc
from .model import Project, PushStep, RunStep, walk
from .records import Record
from .yaml_loader import LMap, LSeq

PROFILE = "steps"
# Compose's default file names: with any of these next to compose.yaml, a bare `docker compose up`
# may read another file (v1 prefers docker-compose.yml) or refuse two override files (v1).
OTHER_DEFAULT_FILES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml",
                       "docker-compose.override.yml", "docker-compose.override.yaml", "compose.override.yml")

# What Compose v2 (docker/go-connections nat.ParsePortSpec) and v1 both accept, matched whole (`$`
# would let "8080:80\n" through): [IP:[HOST]:]CONTAINER[/PROTO]. An IP needs the HOST part
# ("127.0.0.1:80" is refused by both); HOST and CONTAINER are ports or ranges.
_PORT = re.compile(r"(?:(?:(?P<ip>[0-9.]+|\[[0-9A-Fa-f:.]*\]):)?(?P<host>\d+(?:-\d+)?)?:)?"
                   r"(?P<container>\d+(?:-\d+)?)(?:/(?P<proto>tcp|udp|sctp))?")
_NUMBER = re.compile(r"[1-9][0-9]{0,4}")  # long form: v1 reads "08080" as octal and refuses it
_LONG_PORT_VALUES = {"target": _NUMBER, "published": _NUMBER,
                     "protocol": re.compile(r"tcp|udp|sctp"),  # no host_ip: Compose v1 refuses it
                     "mode": re.compile(r"host|ingress")}
_LONG_PORT_KEYS = set(_LONG_PORT_VALUES)
_MAX_PORT = 65535
_ANY_ADDRESS = ("", "0.0.0.0", "[::]")
_NOOP_COMMANDS = (["true"], ["/bin/true"], [":"])


class Published(Record):
    service: str
    container: str  # container port (or range), with /udp or /sctp when not tcp
    host: str = ""  # host port (or range); empty: Docker picks one
    ip: str = ""  # host address, when the mapping names one
    loc: Loc | None = None  # the entry in the services file


class LocalDev(Record):
    document: dict  # the override file's content ({} when there is nothing to override)
    started: list[str]  # what a bare `docker compose up` starts, in file order
    step_only: dict[str, str]  # service → why only steps use it
    published: list[Published]


def plan_local(project: Project, diags: Diagnostics) -> LocalDev:
    step_only = _step_only(project)
    services: dict[str, dict] = {}
    published: list[Published] = []
    for name, svc in project.services.items():
        out: dict = {}
        ports = _ports(name, svc.local.get("ports"), svc.key_loc.get("ports", svc.loc), diags)
        if ports:
            out["ports"] = [text for text, _ in ports]
            published += [p for _, p in ports]
        for key in ("stdin_open", "tty"):
            if key in svc.local:
                flag = _flag(svc.local[key])
                if flag is None:
                    diags.warning("C2C603", f"service '{name}': '{key}' must be true or false; it is left out "
                                  "of compose.override.yaml", svc.key_loc.get(key, svc.loc))
                else:
                    out[key] = flag
        if name in step_only:
            out["profiles"] = [PROFILE]
        if out:
            services[name] = out
    _warn_shared_host_ports(project, published, diags)
    started = [n for n in project.services if n not in step_only]
    return LocalDev({"services": services} if services else {}, started, step_only,
                    [p for p in published if p.service not in step_only])


def _step_only(project: Project) -> dict[str, str]:
    """Services a bare `docker compose up` should not start, with the reason. Only services known
    to be helpers are held back; anything a started service depends on starts too."""
    generators = {s.dockercfg_service for s in project.services.values() if s.dockercfg_service}
    generators |= {s.dockercfg_service for s in walk(project.steps) if s.dockercfg_service}
    run_by_steps = {s.service for s in walk(project.steps) if isinstance(s, (RunStep, PushStep))}
    volume_sources = {r.service for s in project.services.values() for r in s.volumes_from}
    reasons: dict[str, str] = {}
    for name, svc in project.services.items():
        if "ports" in svc.local:
            continue  # a published port says: this is meant to be reached
        if name in generators:
            reasons[name] = "writes registry credentials"
        elif name in volume_sources and name not in run_by_steps:
            reasons[name] = "a data container (compose.yaml shares its volumes by name)"
        elif svc.add_docker:
            reasons[name] = "drives the Docker engine (add_docker)"
        elif svc.command in _NOOP_COMMANDS:
            reasons[name] = "its command does nothing"
    # what a started service needs starts with it
    needed: set[str] = set()
    stack = [n for n in project.services if n not in reasons]
    while stack:
        for ref in project.services[stack.pop()].dependencies:
            if ref.service in project.services and ref.service not in needed:
                needed.add(ref.service)
                stack.append(ref.service)
    return {n: why for n, why in reasons.items() if n not in needed}


def _flag(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _ports(service: str, value, loc, diags: Diagnostics) -> list[tuple[str | dict, Published]]:
    """The valid entries of `ports`, as Compose values with what they publish; the others are
    reported and left out (Codeship never read them, so they were never checked)."""
    if value is None:
        return []
    if not isinstance(value, LSeq):
        diags.warning("C2C601", f"service '{service}': 'ports' must be a list; it is left out of "
                      "compose.override.yaml", loc, "write `ports: [\"8080:80\"]`")
        return []
    out: list[tuple[str | dict, Published]] = []
    for i, item in enumerate(value):
        where = value.loc_of(i)
        if isinstance(item, LMap):
            entry = _long_port(service, item, where)
            if entry is None:
                diags.warning("C2C601", f"service '{service}': a long-form 'ports' entry needs a numeric "
                              f"'target' and only the keys {', '.join(sorted(_LONG_PORT_KEYS))} (ports "
                              f"1 to {_MAX_PORT}, tcp/udp/sctp, host/ingress); it is left out of "
                              "compose.override.yaml",
                              where, "or write the short form IP:HOST:CONTAINER, e.g. \"127.0.0.1:8080:80\"")
                continue
            out.append(entry)
            continue
        if isinstance(item, LSeq):
            diags.warning("C2C601", f"service '{service}': a ports entry must be text like \"8080:80\" or a "
                          "mapping, not a list; it is left out of compose.override.yaml", where)
            continue
        text = value.text_of(i)
        why = _short_port_problem(text)
        if why:
            diags.warning("C2C601", f"service '{service}': ports entry {_shown(text)} {why}; it is left out of "
                          "compose.override.yaml", where,
                          "write CONTAINER, HOST:CONTAINER or IP:HOST:CONTAINER (e.g. \"8080:80\")")
            continue
        match = _PORT.fullmatch(text)
        assert match is not None  # _short_port_problem said it matches
        proto = match["proto"] or "tcp"
        container = match["container"] + ("" if proto == "tcp" else f"/{proto}")
        out.append((esc(text), Published(service, container, match["host"] or "", match["ip"] or "", where)))
    return _without_repeats(service, out, diags)


def _shown(text: str) -> str:
    """A user's value in a message: quoted, control characters visible, a long one cut."""
    shown = text if len(text) <= 60 else f"{text[:40]}…({len(text)} characters)"
    return repr(shown) if any(c in shown for c in "\n\r\t'") or not shown.isprintable() else f"'{shown}'"


def _short_port_problem(text: str) -> str:
    """Why Compose refuses a short-form entry ('' when it accepts it)."""
    match = _PORT.fullmatch(text) if text and not text.startswith(":") else None
    if match is None:
        return "is not a port mapping"
    ip = match["ip"]
    if ip is not None and not _valid_ip(ip):
        return f"has an invalid IP address ({ip})"
    ranges: dict[str, tuple[int, int]] = {}
    for group in ("host", "container"):
        if match[group]:
            span = _port_range(match[group])
            if span is None:
                return f"is not a port mapping: ports are 1 to {_MAX_PORT}, ranges low-high"
            ranges[group] = span
    host, container = ranges.get("host"), ranges["container"]
    if host and container[1] > container[0] and host[1] - host[0] != container[1] - container[0]:
        return "maps ranges of different lengths"
    return ""


def _valid_ip(text: str) -> bool:
    import ipaddress

    try:
        if text.startswith("["):
            ipaddress.IPv6Address(text[1:-1])
        else:
            ipaddress.IPv4Address(text)  # refuses 999.… and leading zeros, as Go's net.ParseIP does
    except ValueError:
        return False
    return True


def _port_range(text: str) -> tuple[int, int] | None:
    """(low, high) of a port or range in 1..65535, or None; numbers of any length are read safely
    (int() refuses more than 4,300 digits)."""
    low, _, high = text.partition("-")
    numbers = [_port_number(low), _port_number(high or low)]
    if None in numbers or numbers[0] > numbers[1]:  # type: ignore[operator]
        return None
    return numbers[0], numbers[1]  # type: ignore[return-value]


def _port_number(digits: str) -> int | None:
    """A port of at most 5 digits ("08080" is one: Compose reads it as 8080), in 1..65535."""
    return int(digits) if 0 < len(digits) <= 5 and 0 < int(digits) <= _MAX_PORT else None


def _without_repeats(service: str, entries: list[tuple[str | dict, Published]],
                     diags: Diagnostics) -> list[tuple[str | dict, Published]]:
    """Compose v1 refuses a `ports` list with the same entry twice ("non-unique elements")."""
    out: list[tuple[str | dict, Published]] = []
    for value, published in entries:
        first = next((p for v, p in out if v == value), None)
        if first is not None:
            shown = _shown(value) if isinstance(value, str) else "the long-form entry"
            diags.warning("C2C601", f"service '{service}': ports entry {shown} repeats the one at line "
                          f"{first.loc.line if first.loc else '?'}; it is left out of compose.override.yaml "
                          "(Compose v1 refuses a repeated entry)", published.loc, "remove the repeat")
            continue
        out.append((value, published))
    return out


def _long_port(service: str, item: LMap, where: Loc) -> tuple[dict, Published] | None:
    if set(map(str, item)) - _LONG_PORT_KEYS or "target" not in item:
        return None
    texts = {str(k): item.text_of(k) for k in item if item[k] is not None and not isinstance(item[k], (LMap, LSeq))}
    if len(texts) != len(item):
        return None
    if not all(_LONG_PORT_VALUES[k].fullmatch(v) for k, v in texts.items()):
        return None
    if any(int(texts[k]) > _MAX_PORT for k in ("target", "published") if k in texts):  # 5 digits at most
        return None
    value: dict = {}
    for key, text in texts.items():
        value[key] = int(text) if key == "target" else esc(text)
    proto = texts.get("protocol", "tcp")
    container = texts["target"] + ("" if proto == "tcp" else f"/{proto}")
    return value, Published(service, container, texts.get("published", ""), "", where)


def _host_ports(p: Published) -> set[tuple[int, str]]:
    """The host ports an entry publishes, with the protocol (entries reaching here are valid)."""
    span = _port_range(p.host) if p.host else None
    if span is None:
        return set()
    proto = p.container.partition("/")[2] or "tcp"
    return {(n, proto) for n in range(span[0], span[1] + 1)}


def _same_address(a: Published, b: Published) -> bool:
    """Whether two entries bind one host address: the same one, or either binds them all."""
    return a.ip == b.ip or a.ip in _ANY_ADDRESS or b.ip in _ANY_ADDRESS


def _warn_shared_host_ports(project: Project, published: list[Published], diags: Diagnostics) -> None:
    seen: dict[tuple[int, str], list[Published]] = {}
    warned: set[tuple[int, int]] = set()
    for p in published:
        for key in sorted(_host_ports(p)):
            others = seen.setdefault(key, [])
            other = next((o for o in others if _same_address(o, p)), None)
            others.append(p)
            if other is None or (id(other), id(p)) in warned:
                continue
            warned.add((id(other), id(p)))
            svc = project.services[p.service]
            where = svc.key_loc.get("ports", svc.loc)
            if other.service == p.service:
                lines = ("" if not (other.loc and p.loc) else f" (line {p.loc.line})" if other.loc.line == p.loc.line
                         else f" (lines {other.loc.line} and {p.loc.line})")
                diags.warning("C2C602", f"service '{p.service}' publishes host port {key[0]} twice{lines}; "
                              "`docker compose up` cannot start it", p.loc or where,
                              "give each entry its own host port")
            else:
                diags.warning("C2C602", f"services '{other.service}' and '{p.service}' both publish host port "
                              f"{key[0]}; `docker compose up` cannot start both", where,
                              "give each its own host port")


def other_compose_files(out_dir: Path) -> list[str]:
    """Compose files next to the outputs that a bare `docker compose up` could read instead of
    ours (Compose v1 prefers docker-compose.yml) or refuse next to ours (two override files)."""
    return [name for name in OTHER_DEFAULT_FILES if (out_dir / name).exists()]


def compose_command(override: bool, others: list[str]) -> str:
    """`docker compose`, with the files named when another Compose file in the output directory
    could be read instead of ours."""
    if not others:
        return "docker compose"
    return "docker compose -f compose.yaml" + (" -f compose.override.yaml" if override else "")


def summary(local: LocalDev, compose: str, where: str = "") -> list[str]:
    """One or two lines: what `COMPOSE up` (run in the output directory: `where`, e.g. " in out")
    starts and where to reach it; what it leaves out and how to start that."""
    by_service: dict[str, list[str]] = {}
    for p in local.published:
        if p.host:
            host = "localhost" if p.ip in ("", "0.0.0.0") else p.ip
            address = f"{host}:{p.host}" + ("/" + p.container.partition("/")[2] if "/" in p.container else "")
        else:
            number, _, proto = p.container.partition("/")
            option = f"--protocol {proto} " if proto else ""
            address = f"a free port (`{compose} port {option}{p.service} {number}`)"
        by_service.setdefault(p.service, []).append(address)
    if not local.started:
        first = f"`{compose} up`{where} starts no service: only steps use them."
    else:
        first = f"`{compose} up`{where} starts {_names(local.started)}"
        if by_service:
            first += "; reach " + "; ".join(f"{s} on {', '.join(w)}" for s, w in by_service.items()) + "."
        else:
            first += " (no service publishes a port: add `ports:` to the services file)."
    lines = [first]
    if local.step_only:
        lines.append(f"Only steps use {_names(list(local.step_only))}: `{compose} run --rm SERVICE` runs one, "
                     f"`{compose} --profile {PROFILE} up` starts them too.")
    return lines


def _names(names: list[str], shown: int = 8) -> str:
    """A list a line can hold: the first few names, then how many more."""
    if len(names) <= shown:
        return ", ".join(names)
    return f"{len(names)} services ({', '.join(names[:shown])} and {len(names) - shown} more)"
