"""The secrets inventory of one project: every encrypted file and value, where it is declared,
which services and steps use it and, given the project's AES key, the names of the variables
inside (never their values), so that a team knows what to create in its new secret store."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..diagnostics import Loc
from ..model import GroupStep, Project, PushStep, RunStep, Step, walk, with_credentials
from ..records import Record
from ..script import started_with
from .find import inside

_NAME = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*=")


class Secret(Record):
    kind: str  # env_file | build_args_file | dockercfg (files); environment | build_args (values)
    declared_at: str  # FILE:LINE:COL of the key that names it
    path: str | None = None  # a file's path, relative to the project's folder, / separated
    services: list[str] = []  # the services whose containers or builds read it
    steps: list[str] = []  # the steps that start those services (or that push or pull with it)
    exists: bool = True
    variables: list[str] | None = None  # the names inside, when a key was given and opened it
    problem: str | None = None  # why the names are not listed, when a key was given

    def as_dict(self) -> dict:
        data = {name: getattr(self, name) for name in self._fields}
        if self.path is None:
            del data["path"], data["exists"]
        return data


Key = tuple[bytes | None, str | None]  # (the key, or why there is none)


def inventory(project: Project, root: Path, base_images: dict[str, list[str]], key: Key | None,
              ) -> tuple[list[Secret], list[Secret]]:
    """(encrypted files, encrypted values). `key` None: no key was asked for (names not listed)."""
    users = _steps_by_service(project, base_images)
    files: dict[tuple[str, str], Secret] = {}
    values: list[Secret] = []

    def add_file(kind: str, path: str, loc: object, service: str | None, steps: list[str]) -> None:
        absolute = Path(os.path.normpath(project.base_dir / path))
        shown = Path(os.path.relpath(absolute, project.base_dir)).as_posix()
        entry = files.get((kind, shown))
        if entry is None:
            entry = files[(kind, shown)] = Secret(kind=kind, declared_at=str(loc), path=shown,
                                                  exists=os.path.isfile(absolute))
            if key is not None:
                _open_file(entry, absolute, root, key)
        if service and service not in entry.services:
            entry.services.append(service)
        entry.steps.extend(s for s in steps if s not in entry.steps)

    for name, svc in project.services.items():
        for env_file in svc.encrypted_env_file:
            add_file("env_file", env_file.path, env_file.loc, name, users.get(name, []))
        if svc.build and svc.build.encrypted_args_file:
            add_file("build_args_file", svc.build.encrypted_args_file, svc.build.loc, name, users.get(name, []))
        if svc.encrypted_dockercfg_path:
            add_file("dockercfg", svc.encrypted_dockercfg_path, svc.key_loc.get("encrypted_dockercfg_path", svc.loc),
                     name, users.get(name, []))
        blobs = [("environment", svc.encrypted_environment, svc.key_loc.get("encrypted_environment", svc.loc))]
        if svc.build:
            blobs.append(("build_args", svc.build.encrypted_args,
                          svc.build.key_loc.get("encrypted_args", svc.build.loc)))
        for kind, texts, loc in blobs:
            for text in texts:
                entry = Secret(kind=kind, declared_at=str(loc), services=[name], steps=list(users.get(name, [])))
                if key is not None:
                    _open(entry, text.encode("utf-8"), key)
                values.append(entry)
    for step, (cfg_path, _) in with_credentials(project.steps):
        if cfg_path and isinstance(step, (RunStep, PushStep)):
            add_file("dockercfg", cfg_path, _declared(project, cfg_path, step), None, [step.name])
    return list(files.values()), values


def _declared(project: Project, path: str, step: Step) -> Loc:
    """Where a step's (or its group's) encrypted_dockercfg_path is written."""
    for s in walk(project.steps):
        if s.encrypted_dockercfg_path == path and (s is step or isinstance(s, GroupStep)):
            return s.key_loc.get("encrypted_dockercfg_path", s.loc)
    return step.loc


def _steps_by_service(project: Project, base_images: dict[str, list[str]]) -> dict[str, list[str]]:
    """service → the names of the steps that start it (run on it, or on a service that needs it)."""
    users: dict[str, list[str]] = {}
    for step in walk(project.steps):
        if isinstance(step, (RunStep, PushStep)) and step.service in project.services:
            for service in started_with(project, step.service, base_images):
                names = users.setdefault(service, [])
                if step.name not in names:
                    names.append(step.name)
    return users


def _open_file(entry: Secret, absolute: Path, root: Path, key: Key) -> None:
    if not entry.exists:
        entry.problem = "the file does not exist"
        return
    if not inside(absolute, root):
        entry.problem = "the file is outside the audited folder (or a symlink out of it): not read"
        return
    try:
        data = absolute.read_bytes()
    except OSError as exc:
        entry.problem = f"cannot read the file: {exc.strerror or exc}"
        return
    _open(entry, data, key)


def _open(entry: Secret, data: bytes, key: Key) -> None:
    from .. import codeship_aes

    secret, why = key
    if secret is None:
        entry.problem = why
        return
    try:
        plain = codeship_aes.decrypt_checked(data, secret, entry.path or "the encrypted value")
    except codeship_aes.AesError as exc:
        entry.problem = exc.message
        return
    entry.variables = names_in(plain)


def names_in(plain: bytes) -> list[str]:
    """The variable names of an env file, or the registries of a Docker config (JSON)."""
    text = plain.decode("utf-8", "replace")
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        auths = doc.get("auths")
        return sorted(str(k) for k in (auths if isinstance(auths, dict) else doc))
    names: list[str] = []
    quote = None
    for line in text.splitlines():
        if quote is not None:  # inside a quoted value over several lines
            quote = None if quote in line else quote
            continue
        match = _NAME.match(line)
        if match and not line.lstrip().startswith("#"):
            names.append(match.group(1))
            value = line[match.end():].lstrip()
            if value[:1] in ("'", '"') and value[0] not in value[1:]:
                quote = value[0]
    return list(dict.fromkeys(names))
