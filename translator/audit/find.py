"""Find the Codeship projects under a folder: each folder holding a services file and a steps
file under names translate accepts (translator/discovery.py), at any depth. No symlink out of
the root is followed, and folders of tools and dependencies (.git, node_modules, vendor…) are
skipped."""

from __future__ import annotations

import os
from pathlib import Path

from ..diagnostics import Diagnostic, Loc
from ..discovery import SERVICES_NAMES, STEPS_NAMES
from ..records import Record

SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".bzr", "node_modules", "bower_components", "jspm_packages", "vendor",
    ".venv", "venv", ".tox", ".nox", "__pycache__", ".mypy_cache", ".pytest_cache", ".terraform",
    ".bundle", ".gradle", ".cache",
})
# Names only Codeship uses: such a file without its partner is worth a word (docker-compose.yml alone is not).
_CODESHIP_ONLY = frozenset(SERVICES_NAMES[:6] + STEPS_NAMES)


class Found(Record):
    directory: Path  # as the user would type it: the root as given, joined with the relative path
    path: str  # relative to the root, / separated ("." for the root itself)


class Search(Record):
    projects: list[Found] = []
    skipped: list[tuple[str, Diagnostic]] = []  # (path relative to the root, why)


def find_projects(root: Path) -> Search:
    """The projects under `root`, in sorted path order."""
    out = Search()

    def unreadable(exc: OSError) -> None:  # os.walk passes such a folder over in silence
        folder = str(exc.filename or root)
        out.skipped.append((Path(os.path.relpath(folder, root)).as_posix(), Diagnostic.of(
            "C2C782", f"cannot read the folder ({exc.strerror or exc}): any project in it is not audited",
            Loc(folder), "give read access to the folder, or audit as a user who has it")))

    for directory, subdirs, files in os.walk(root, onerror=unreadable, followlinks=False):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRS)
        names = set(files)
        rel = Path(os.path.relpath(directory, root)).as_posix()
        services, services_out = _first(directory, names, SERVICES_NAMES, str(root))
        steps, steps_out = _first(directory, names, STEPS_NAMES, str(root))
        if services_out or steps_out:
            link = services if services_out else steps
            out.skipped.append((rel, Diagnostic.of(
                "C2C780", f"{link} is a symlink to a file outside the audited folder: the project is not "
                "audited", Loc(os.path.join(directory, str(link))),
                "audit the folder the link points into, or replace the link with the file")))
        elif services and steps:
            out.projects.append(Found(directory=Path(directory), path=rel))
        elif (services or steps) in _CODESHIP_ONLY:
            missing = "steps" if services else "services"
            out.skipped.append((rel, Diagnostic.of(
                "C2C781", f"{services or steps} has no {missing} file beside it: not a complete Codeship "
                "project, not audited", Loc(os.path.join(directory, str(services or steps))),
                f"add the {missing} file beside it (or translate the folder itself, with --{missing} PATH)")))
    return out


def _first(directory: str, names: set[str], candidates: tuple[str, ...], root: str) -> tuple[str | None, bool]:
    """The name that translate would pick, and whether it is a symlink out of the root."""
    for name in candidates:
        if name not in names:
            continue
        path = os.path.join(directory, name)
        if not os.path.isfile(path):  # a folder of that name, or a dangling link: translate looks on
            continue
        return name, os.path.islink(path) and not inside(path, root)
    return None, False


def inside(path: str | Path, folder: str | Path) -> bool:
    """Whether `path`, its symlinks resolved, is in `folder` (resolved too)."""
    real, top = os.path.realpath(path), os.path.realpath(folder)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)
