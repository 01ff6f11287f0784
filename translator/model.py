"""The typed intermediate representation between parsing and transforming.

Everything here is already validated and normalised: names are resolved, commands are split
into argv, paths are as written (relative to the services file's directory).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from .diagnostics import Loc
from .records import Record


class Build(Record):
    loc: Loc
    context: str = "."
    dockerfile: str | None = None
    image: str | None = None
    args: dict[str, str] = {}
    arg_loc: dict[str, Loc] = {}
    encrypted_args_file: str | None = None
    encrypted_args: list[str] = []
    extra: dict[str, object] = {}  # compose build keys passed through
    key_loc: dict[str, Loc] = {}


class Volume(Record):
    loc: Loc
    container: str
    host: str | None = None  # None: a container-only (anonymous) volume
    mode: str | None = None  # "ro", "rw", … as written after the second colon

    @property
    def is_named(self) -> bool:
        """A Docker named volume (`cache:/path`) rather than a host path."""
        h = self.host
        return h is not None and not (h.startswith((".", "/", "~")) or h.startswith("$"))


class Ref(Record):
    """A reference to another service, with an optional alias or mode."""

    loc: Loc
    service: str
    extra: str | None = None  # link alias, or volumes_from mode (ro/rw)


class EnvFile(Record):
    loc: Loc
    path: str


class Service(Record):
    name: str
    loc: Loc
    image: str | None = None
    build: Build | None = None
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    working_dir: str | None = None
    user: str | None = None
    hostname: str | None = None
    environment: dict[str, str] = {}
    env_loc: dict[str, Loc] = {}
    env_file: list[EnvFile] = []
    encrypted_env_file: list[EnvFile] = []
    encrypted_environment: list[str] = []
    volumes: list[Volume] = []
    volumes_from: list[Ref] = []
    links: list[Ref] = []
    depends_on: list[Ref] = []
    add_docker: bool = False
    cached: bool = False
    default_cache_branch: str | None = None
    encrypted_dockercfg_path: str | None = None
    dockercfg_service: str | None = None
    extra: dict[str, object] = {}  # compose keys passed through
    local: dict[str, object] = {}  # keys for `docker compose up` only (rules.LOCAL_ONLY), as located YAML
    key_loc: dict[str, Loc] = {}

    @property
    def dependencies(self) -> list[Ref]:
        """Services started with this one in a step: links and depends_on, in file order."""
        return self.links + self.depends_on


class Step(Record):
    name: str
    loc: Loc
    tag: str | None = None
    exclude: str | None = None
    auto_named: bool = False
    key_loc: dict[str, Loc] = {}
    written: dict[str, str] = {}  # service names as the file spells them
    encrypted_dockercfg_path: str | None = None  # registry credentials, for this step and a group's steps
    dockercfg_service: str | None = None


class RunStep(Step):
    service: str = ""
    command: list[str] = []
    on_fail: list[Step] = []


class PushStep(Step):
    service: str = ""
    image_name: str = ""
    image_tag: str = "latest"
    registry: str | None = None


class GroupStep(Step):
    kind: str = "serial"  # serial | parallel | manual
    steps: list[Step] = []


class Project(Record):
    base_dir: Path  # the directory of the services file: relative paths start here
    services_file: Path
    steps_file: Path | None
    services: dict[str, Service]
    steps: list[Step]


# How long container-only volumes shared with volumes_from live: one step (the Codeship volumes
# tutorial) or the whole run (what jet 2.x does).
VolumesFromScope = Literal["step", "build"]
VOLUMES_FROM_SCOPES: tuple[VolumesFromScope, ...] = ("step", "build")


class Options(Record):
    """The choices a translation takes beyond the Codeship files (the command line's flags):
    one record from the api to the checks and the transforms."""

    volumes_from_scope: VolumesFromScope = "step"
    ci_fanout: bool = False  # --ci-fanout: parallel groups' branches as CI jobs on runners of their own


def walk(steps: list[Step]):
    """Every step of a tree, parents before children, on_fail steps after their step."""
    for step in steps:
        yield step
        if isinstance(step, GroupStep):
            yield from walk(step.steps)
        elif isinstance(step, RunStep):
            yield from walk(step.on_fail)


Credentials = tuple[str | None, str | None]  # (encrypted_dockercfg_path, dockercfg_service)


def count_steps(steps: list[Step]) -> int:
    """The run and push steps of the tree (a group is not a step a build runs)."""
    return sum(1 for s in walk(steps) if not isinstance(s, GroupStep))


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
