"""The typed intermediate representation between parsing and transforming.

Everything here is already validated and normalised: names are resolved, commands are split
into argv, paths are as written (relative to the services file's directory).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import Loc


@dataclass
class Build:
    loc: Loc
    context: str = "."
    dockerfile: str | None = None
    image: str | None = None
    args: dict[str, str] = field(default_factory=dict)
    arg_loc: dict[str, Loc] = field(default_factory=dict)
    encrypted_args_file: str | None = None
    encrypted_args: list[str] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)  # compose build keys passed through
    key_loc: dict[str, Loc] = field(default_factory=dict)


@dataclass
class Volume:
    loc: Loc
    container: str
    host: str | None = None  # None: a container-only (anonymous) volume
    mode: str | None = None  # "ro", "rw", … as written after the second colon

    @property
    def is_named(self) -> bool:
        """A Docker named volume (`cache:/path`) rather than a host path."""
        h = self.host
        return h is not None and not (h.startswith((".", "/", "~")) or h.startswith("$"))


@dataclass
class Ref:
    """A reference to another service, with an optional alias or mode."""

    loc: Loc
    service: str
    extra: str | None = None  # link alias, or volumes_from mode (ro/rw)


@dataclass
class EnvFile:
    loc: Loc
    path: str


@dataclass
class Service:
    name: str
    loc: Loc
    image: str | None = None
    build: Build | None = None
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    working_dir: str | None = None
    user: str | None = None
    hostname: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    env_loc: dict[str, Loc] = field(default_factory=dict)
    env_file: list[EnvFile] = field(default_factory=list)
    encrypted_env_file: list[EnvFile] = field(default_factory=list)
    encrypted_environment: list[str] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)
    volumes_from: list[Ref] = field(default_factory=list)
    links: list[Ref] = field(default_factory=list)
    depends_on: list[Ref] = field(default_factory=list)
    add_docker: bool = False
    cached: bool = False
    default_cache_branch: str | None = None
    encrypted_dockercfg_path: str | None = None
    dockercfg_service: str | None = None
    extra: dict[str, object] = field(default_factory=dict)  # compose keys passed through
    key_loc: dict[str, Loc] = field(default_factory=dict)

    @property
    def dependencies(self) -> list[Ref]:
        """Services started with this one in a step: links and depends_on, in file order."""
        return self.links + self.depends_on


@dataclass
class Step:
    name: str
    loc: Loc
    tag: str | None = None
    exclude: str | None = None
    auto_named: bool = False
    key_loc: dict[str, Loc] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)  # service names as the file spells them
    encrypted_dockercfg_path: str | None = None  # registry credentials, for this step and a group's steps
    dockercfg_service: str | None = None


@dataclass
class RunStep(Step):
    service: str = ""
    command: list[str] = field(default_factory=list)
    on_fail: list[Step] = field(default_factory=list)


@dataclass
class PushStep(Step):
    service: str = ""
    image_name: str = ""
    image_tag: str = "latest"
    registry: str | None = None


@dataclass
class GroupStep(Step):
    kind: str = "serial"  # serial | parallel | manual
    steps: list[Step] = field(default_factory=list)


@dataclass
class Project:
    base_dir: Path  # the directory of the services file: relative paths start here
    services_file: Path
    steps_file: Path | None
    services: dict[str, Service]
    steps: list[Step]


def walk(steps: list[Step]):
    """Every step of a tree, parents before children, on_fail steps after their step."""
    for step in steps:
        yield step
        if isinstance(step, GroupStep):
            yield from walk(step.steps)
        elif isinstance(step, RunStep):
            yield from walk(step.on_fail)


Credentials = tuple[str | None, str | None]  # (encrypted_dockercfg_path, dockercfg_service)


def credentials_of(step: Step, inherited: Credentials = (None, None)) -> Credentials:
    if step.encrypted_dockercfg_path:
        return step.encrypted_dockercfg_path, None
    if step.dockercfg_service:
        return None, step.dockercfg_service
    return inherited


def with_credentials(steps: list[Step], inherited: Credentials = (None, None)):
    """Every step as `walk` orders them, each with the registry credentials it uses: its own, else
    its group's (a step's on_fail steps use the step's). The encrypted file wins when a step
    names both, as in jet."""
    for step in steps:
        creds = credentials_of(step, inherited)
        yield step, creds
        if isinstance(step, GroupStep):
            yield from with_credentials(step.steps, creds)
        elif isinstance(step, RunStep):
            yield from with_credentials(step.on_fail, creds)
