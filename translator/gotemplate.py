"""The Go text/template subset Codeship configs use in build args and image tags.

Supported: `{{ .Var }}` and `{{ printf "%.Ns" .Var }}` (truncation), which is all the corpus of
real configs uses. Anything else is reported instead of being passed on half-understood.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .errors import UserError

# Template variable → the environment variable the script sets (None: a literal value).
VARIABLES = {
    "ProjectID": "CI_PROJECT_ID",
    "BuildID": "CI_BUILD_ID",
    "RepoName": "CI_REPO_NAME",
    "Branch": "CI_BRANCH",
    "CommitID": "CI_COMMIT_ID",
    "CommitMessage": "CI_COMMIT_MESSAGE",
    "CommitDescription": "CI_COMMIT_DESCRIPTION",
    "CommitterName": "CI_COMMITTER_NAME",
    "CommitterEmail": "CI_COMMITTER_EMAIL",
    "CommitterUsername": "CI_COMMITTER_USERNAME",
    "Time": "C2C_TIME",  # Go's time.Time printed by its String(): "2006-01-02 15:04:05.999999999 +0000 UTC"
    "Timestamp": "CI_TIMESTAMP",
    "StringTime": "CI_STRING_TIME",
    "StepName": "C2C_STEP_NAME",
    "ServiceName": "C2C_SERVICE_NAME",
    "ImageName": "C2C_IMAGE_NAME",
}
LITERALS = {"Ci": "true", "CiName": "codeship"}
STEP_ONLY = ("StepName", "ServiceName", "ImageName", "CiName")

# Go's trim markers: "{{- " drops the white space before the action, " -}}" the white space after.
_ACTION = re.compile(r"\{\{(?:(-)(?=\s))?\s*(.*?)\s*(?:(?<=\s)(-))?\}\}", re.S)
_GO_SPACE = " \t\r\n"
_VAR = re.compile(r"^\.([A-Za-z]+)$")
_PRINTF = re.compile(r'^printf\s+\\?"%\.(\d+)s\\?"\s+\.([A-Za-z]+)$')
_PIPE_PRINTF = re.compile(r'^\.([A-Za-z]+)\s*\|\s*printf\s+\\?"%\.(\d+)s\\?"$')
_GO_MAX_PRECISION = 1_000_000  # fmt's parsenum: a number already past this does not take another digit


class TemplateError(UserError):
    pass


class Var(NamedTuple):
    env: str
    width: int | None = None


Part = str | Var


def parse(text: str, allow_step_vars: bool = True) -> list[Part]:
    parts: list[Part] = []
    pos = 0
    trim_next = False
    for match in _ACTION.finditer(text):
        before = text[pos:match.start()]
        if trim_next:
            before = before.lstrip(_GO_SPACE)
        if match.group(1):
            before = before.rstrip(_GO_SPACE)
        if before:
            parts.append(before)
        parts.append(_action(match.group(2), allow_step_vars))
        trim_next = bool(match.group(3))
        pos = match.end()
    rest = text[pos:].lstrip(_GO_SPACE) if trim_next else text[pos:]
    if "{{" in rest:
        raise TemplateError("'{{' is not closed by '}}'")
    if rest:
        parts.append(rest)
    return [p for p in _merge_literals(parts)]


def _action(body: str, allow_step_vars: bool) -> Part:
    width = None
    m = _VAR.match(body)
    if m:
        name = m.group(1)
    elif (m := _PRINTF.match(body)):
        width, name = _precision(m.group(1)), m.group(2)
    elif (m := _PIPE_PRINTF.match(body)):
        name, width = m.group(1), _precision(m.group(2))
    else:
        raise TemplateError(f"the template action '{{{{ {body} }}}}' is not supported "
                            "(only {{ .Var }} and {{ printf \"%.Ns\" .Var }})")
    if not allow_step_vars and name in STEP_ONLY:
        raise TemplateError(f"'.{name}' is not available in build arguments")
    if name in LITERALS:
        value = LITERALS[name]
        return value[:width] if width is not None else value
    if name not in VARIABLES:
        known = ", ".join(sorted([*VARIABLES, *LITERALS]))
        raise TemplateError(f"unknown template variable '.{name}' (known: {known})")
    return Var(VARIABLES[name], width)


def _precision(digits: str) -> int:
    """The N of `%.Ns`. Go's fmt stops reading a precision that passes a million (the rest of the
    format becomes `%!(NOVERB)`, not the value), so such a template is refused, digits unread
    (int() refuses over 4,300 of them)."""
    head = digits[:-1].lstrip("0")
    if len(head) > 7 or int(head or "0") > _GO_MAX_PRECISION:
        shown = digits if len(digits) <= 12 else f"{digits[:6]}…({len(digits)} digits)"
        raise TemplateError(f"the printf precision {shown} is too large: Go's fmt stops at "
                            f"{_GO_MAX_PRECISION:,} and prints %!(NOVERB) instead of the value")
    return int(head + digits[-1])


def _merge_literals(parts: list[Part]):
    buf = ""
    for part in parts:
        if isinstance(part, str):
            buf += part
            continue
        if buf:
            yield buf
            buf = ""
        yield part
    if buf:
        yield buf


def to_compose(parts: list[Part]) -> str:
    """Compose interpolation: literal `$` doubled, variables as `${NAME:-}`."""
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part.replace("$", "$$"))
        elif part.width is not None:
            raise TemplateError("printf truncation is not supported in build arguments")
        else:
            out.append("${%s:-}" % part.env)
    return "".join(out)
