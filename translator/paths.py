"""Where files are, as each reader of a path sees them.

The Codeship files write paths relative to the services file's folder; Compose, the script and
the CI pipelines resolve them against the output folder. One Rebaser per translation, built
from the project and the output folder, answers for all of them. The two helpers at the end
answer for a person at the terminal instead: relative to the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Project


def relative(path: Path | str, start: Path | str) -> str:
    """`path` as seen from the folder `start` (either may be relative to the current directory)."""
    try:
        return os.path.relpath(os.path.abspath(path), os.path.abspath(start))
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)


class Rebaser:
    """Input-relative paths → output-relative paths, for one translation."""

    def __init__(self, source_dir: Path | str, out_dir: Path | str):
        self.source = Path(os.path.abspath(source_dir))  # the services file's folder
        self.out = Path(os.path.abspath(out_dir))  # where compose.yaml and the script are written
        self.same = self.source == self.out

    @classmethod
    def for_project(cls, project: Project, out_dir: Path | str) -> Rebaser:
        return cls(project.base_dir, out_dir)

    def path(self, text: str) -> str:
        """A path as the Codeship files write it, as the outputs must write it. Written as is when
        the two folders are the same, and for absolute, home (~) and variable ($) paths; else
        relative with a leading ./ or ../ (Compose reads a bare word as a named volume) and the
        trailing slash kept."""
        if self.same or os.path.isabs(text) or text.startswith(("~", "$")):
            return text
        rel = os.path.relpath(self.source / text, self.out)
        if not rel.startswith("."):
            rel = "./" + rel
        return rel + ("/" if text.endswith("/") and not rel.endswith("/") else "")

    def locate(self, path: Path | str) -> str:
        """A file on disk (a path relative to the current directory, or absolute) as the outputs
        name the files they were generated from (their headers, the script's `--list`, the
        migration report). The name never depends on the current directory, so the outputs are
        the same bytes wherever translate runs:
        - in the output folder or below it: from the output folder (`codeship-steps.yml`, beside
          the script);
        - elsewhere in the git repository that holds the output folder: from that repository's
          root (`project/codeship-steps.yml`), as git, code review and the CI pipeline files
          name it, rather than `../../project/codeship-steps.yml` from the output folder;
        - elsewhere (no repository, or outside it): from the output folder, `../` and all: the
          one name that is exact on every machine."""
        where = Path(os.path.abspath(path))
        rel = relative(where, self.out)
        if rel != os.pardir and not rel.startswith(os.pardir + os.sep):
            return rel
        root = repository_root(self.out)
        if root is not None and where.is_relative_to(root):
            return str(where.relative_to(root))
        return rel


def repository_root(folder: Path | str) -> Path | None:
    """The root of the git repository that holds `folder` (which need not exist yet): the
    nearest folder, `folder` itself or above, with a `.git`; None when there is none."""
    start = Path(os.path.abspath(folder))
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def for_messages(path: Path | str) -> str:
    """A path for diagnostics: relative to the current directory when below it, else as given.
    Not relative(): a message never says ../, which reads worse than the path the user typed."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        return absolute[len(cwd.rstrip(os.sep)) + 1:]
    return str(path)


def for_command(path: Path) -> str:
    """A path the user runs or cds to from here: ./ in front when below the current directory
    (bash looks a bare command name up in PATH), both resolved so that a symlinked current
    directory still counts; else as given."""
    try:
        rel = path.resolve().relative_to(Path.cwd().resolve())
        return f"./{rel}"
    except ValueError:
        return str(path)
