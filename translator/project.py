"""Read a Codeship project from disk: discovery, parsing and checks, as one call."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .checks import check_project
from .diagnostics import Diagnostics, InputError, Loc
from .discovery import SERVICES_NAMES, STEPS_NAMES, find_file
from .model import Options, Project
from .paths import for_messages
from .parse_services import parse_services
from .parse_steps import parse_steps
from .yaml_loader import decode, load

_DOCKERFILE_LINE = re.compile(r"^\s*(FROM|RUN|COPY|ADD|WORKDIR|ENTRYPOINT|CMD|ENV|EXPOSE)\s", re.M | re.I)
_SYMLINK_TEXT = re.compile(r"^[\w./-]+\.(ya?ml|json)$")


def read_document(path: Path, display: str, diags: Diagnostics):
    """Parse one file; on failure record a diagnostic and return (False, None)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        diags.error("C2C010", f"cannot read the file: {exc.strerror or exc}", Loc(display),
                    "check the path and its permissions")
        return False, None
    text = ""
    try:
        text = decode(raw, display)
        stripped = text.strip()
        if _SYMLINK_TEXT.match(stripped) and "\n" not in stripped:
            raise InputError("C2C011", f"the file only holds the path '{stripped}': it looks like a git "
                             "symlink checked out as a plain file", Loc(display, 1, 1),
                             f"point --services/--steps at '{stripped}' itself, or enable symlinks in git "
                             "(core.symlinks=true)")
        doc = load(text, display)
        if isinstance(doc, str) or doc is None:
            _reject_dockerfile(text, display)
        return True, doc
    except InputError as exc:
        if exc.diagnostic.code == "C2C002":
            try:
                _reject_dockerfile(text, display)
            except InputError as dockerfile:
                exc = dockerfile
        diags.items.append(exc.diagnostic)
        return False, None


def _reject_dockerfile(text: str, display: str) -> None:
    """A Dockerfile saved under the name of a Codeship file is a mistake worth naming."""
    match = _DOCKERFILE_LINE.search(text)
    if match and match.start() == len(text) - len(text.lstrip()) or (match and text.lstrip().startswith("#")):
        line = text.count("\n", 0, match.start()) + 1
        raise InputError("C2C014", f"the file is a Dockerfile ('{match.group(1)}' instruction), not YAML",
                         Loc(display, line, 1), "put Dockerfile instructions in a Dockerfile and point "
                         "build.dockerfile at it; this file must hold the Codeship configuration")


def load_project(directory: Path, services: Path | None = None, steps: Path | None = None,
                 options: Options | None = None) -> tuple[Project | None, Diagnostics]:
    diags = Diagnostics()
    directory = Path(directory)
    if services is None:
        try:
            missing = "" if directory.exists() else "no such folder"
        except OSError as exc:  # a name the system refuses (too long, …)
            missing = f"cannot read the folder ({exc.strerror or exc})"
        if missing:
            diags.error("C2C012", f"{missing}: {directory}", Loc(str(directory)),
                        "give the folder that holds codeship-services.yml (default: the current folder)")
            return None, diags
    services_path = services or find_file(directory, SERVICES_NAMES)
    if services_path is None:
        diags.error("C2C012", f"no services file in {directory}", Loc(str(directory)),
                    "run in the repository root, or pass --services PATH (looked for "
                    + ", ".join(SERVICES_NAMES[:3]) + ", docker-compose.yml)")
        return None, diags
    steps_path = steps or find_file(services_path.parent if services else directory, STEPS_NAMES)
    if steps and not os.path.isfile(steps):  # False, not OSError, for a name too long
        diags.error("C2C012", f"the steps file {steps} does not exist", Loc(str(steps)))
        return None, diags
    if not os.path.isfile(services_path):
        diags.error("C2C012", f"the services file {services_path} does not exist", Loc(str(services_path)))
        return None, diags
    services_ok, services_doc = read_document(services_path, for_messages(services_path), diags)
    ok, steps_ok = services_ok, True
    steps_doc = None
    if steps_path is not None:
        steps_ok, steps_doc = read_document(steps_path, for_messages(steps_path), diags)
        ok = services_ok and steps_ok
    else:
        diags.warning("C2C013", "no steps file (codeship-steps.yml): the script will have no steps",
                      Loc(for_messages(services_path)), "add codeship-steps.yml, or pass --steps PATH")
    # Each file that could be read is parsed, even when the other could not: one run reports
    # the problems of both files.
    svc_map = parse_services(services_doc, for_messages(services_path), diags) if services_ok else None
    step_list = parse_steps(steps_doc, for_messages(steps_path), diags) if steps_path and steps_ok else []
    if not ok:
        return None, diags
    project = Project(base_dir=Path(os.path.abspath(services_path.parent)), services_file=services_path,
                      steps_file=steps_path, services=svc_map or {}, steps=step_list)
    if svc_map is not None:
        check_project(project, diags, options or Options())
    return project, diags

