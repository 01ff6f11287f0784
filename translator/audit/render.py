"""An audit as text (for the terminal), JSON (for scripts: the shape in docs/audit.md, kept
stable) or Markdown (a report to share). Text from the users' files (folder, service and step
names) is data: control and bidirectional characters are shown escaped in text, Markdown's
and HTML's special characters are escaped in Markdown."""

from __future__ import annotations

import json
import re

from .. import __version__
from ..outputs import MARKER
from ..report import CAVEAT, CONVERTED, UNSUPPORTED
from ..reporters import message_text
from ..words import plural
from .forecast_adapter import BUILDS, LAYOUTS
from .run import FAILED, MANUAL, TRANSLATED, Audit, ProjectAudit
from .secrets import Secret

JSON_FORMAT = 1  # the version of the JSON shape: raised only for a change that breaks a reader
GENERATOR = f"{MARKER} {__version__} (audit); do not edit"
BUILD_LABELS = {"default_branch": "the default branch", "feature_branch": "a feature branch", "tag": "a tag"}
# "re-create 14 secrets in 6 projects": what each kind of manual task asks for, and its unit.
TASK_TEXT = {
    "secrets": ("re-create", "secret", "secrets", "in the new platform's secret store (encrypted files and values)"),
    "push": ("set up registry credentials for", "push step", "push steps", ""),
    "cached": ("choose an image cache for", "cached service", "cached services", ""),
    "approval": ("re-create", "manual approval", "manual approvals", ""),
    "docker-socket": ("check Docker engine access for", "add_docker service", "add_docker services", ""),
    "missing-file": ("create or fix", "missing file", "missing files", "(env files, encrypted files)"),
    "host-path": ("check", "host path outside its project", "host paths outside their projects", ""),
}
# ...and lone surrogates: a file name that is not UTF-8 (Python decodes its bytes to \udc80-\udcff)
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def shown(text: str) -> str:
    """Text from a user's file for a terminal: control, invisible and bidirectional characters
    as escapes, so that a name can neither move the cursor nor reorder the line."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def where(audit: Audit, p: ProjectAudit | object) -> str:
    """A project's folder as a person names it: relative to its root, or root/path with several roots."""
    path, root = getattr(p, "path"), getattr(p, "root")
    if len(audit.roots) == 1:
        return path
    return root.rstrip("/") + ("" if path == "." else "/" + path)


def task_line(kind: str, count: int, projects: int) -> str:
    verb, one, many, note = TASK_TEXT[kind]
    text = f"{verb} {plural(count, one, many)} in {plural(projects, 'project')}"
    return text + (f" {note}" if note else "")


def _runners(p: ProjectAudit) -> str:
    if p.forecast is None:
        return "-"
    default, *others = ["/".join(str(p.forecast[layout]["runner_starts"][b]) for b in BUILDS) for layout in LAYOUTS]
    return ", ".join([default, *(f"{layout} {n}" for layout, n in zip(LAYOUTS[1:], others))])


def _row(p: ProjectAudit) -> list[str]:
    def n(value) -> str:
        return "-" if value is None else str(value)

    keys = "/".join(str(p.keys.get(k, 0)) for k in (CONVERTED, CAVEAT, UNSUPPORTED)) if p.keys else "-"
    if p.steps is None:  # the files could not be read: nothing is known
        return [p.outcome, "-", "-", "-", "-", "-", "-"]
    secrets = len(p.encrypted_files) + len(p.encrypted_values)
    return [p.outcome, n(p.steps), n(p.services), keys, str(len(p.manual_tasks)), str(secrets), _runners(p)]


HEADER = ["OUTCOME", "STEPS", "SERVICES", "KEYS", "TASKS", "ENCRYPTED", "RUNNERS"]
LEGEND = ("KEYS: converted/with a caveat/unsupported; ENCRYPTED: encrypted files and values; RUNNERS: runner "
          "starts of a build of the default branch/a feature branch/a tag, one runner per build, then fanned out")


def _secret_where(s: Secret) -> str:
    return s.path if s.path is not None else f"{s.kind} value at {s.declared_at}"


def _secret_use(s: Secret) -> str:
    used = []
    if s.services:
        used.append("services " + ", ".join(s.services))
    if s.steps:
        used.append("steps " + ", ".join(s.steps))
    text = "; ".join(used) or "used by no step"
    if s.variables is not None:
        text += "; names: " + (", ".join(s.variables) or "(none)")
    elif s.problem:
        text += f"; names not listed: {s.problem}"
    if s.path is not None and not s.exists:
        text += " (missing)"
    return text


def _totals_lines(audit: Audit) -> list[str]:
    t = audit.totals()
    o, k = t["outcomes"], t["keys"]
    lines = [f"{plural(t['projects'], 'project')}: {o[TRANSLATED]} translated, {o[MANUAL]} translated with manual "
             f"tasks, {o[FAILED]} failed; {plural(t['steps'], 'step')}, {plural(t['services'], 'service')}; keys: "
             f"{k[CONVERTED]} converted, {k[CAVEAT]} with a caveat, {k[UNSUPPORTED]} unsupported; "
             f"{plural(t['encrypted_files'], 'encrypted file')}, {plural(t['encrypted_values'], 'encrypted value')}"
             + (_variables(audit, t["variables"]) if t["variables"] is not None else "")]
    f = t["forecast"]
    for build in BUILDS:
        lines.append(f"a build of {BUILD_LABELS[build]} in every project: "
                     + "; ".join(f"{layout} layout {f[layout]['runner_starts'][build]} runner starts, "
                                 f"{f[layout]['images_built'][build]} images built" for layout in LAYOUTS))
    return lines


def _variables(audit: Audit, count: int) -> str:
    """The variable names listed, and how many secrets the keys did not open (missing, wrong key…):
    "holding 0 variables" would say they are empty."""
    closed = sum(1 for p in audit.projects for s in p.encrypted_files + p.encrypted_values if s.variables is None)
    return f"; {plural(count, 'variable name')} listed" + (f" ({closed} not opened: see below)" if closed else "")


def text(audit: Audit) -> str:
    rows = [["PROJECT", *HEADER]] + [[shown(where(audit, p)), *_row(p)] for p in audit.projects]
    width = [min(max(len(r[i]) for r in rows), 60) for i in range(len(HEADER))]
    out = ["  ".join(cell.ljust(width[i]) if i < len(HEADER) else cell for i, cell in enumerate(r)).rstrip()
           for r in rows]
    out += [LEGEND, "", "Totals:", *(f"  {line}" for line in _totals_lines(audit)), ""]
    groups = audit.task_groups()
    out += ["Manual tasks:", *([f"  {task_line(*g)}" for g in groups] or ["  none"]), ""]
    secrets = [(p, s) for p in audit.projects for s in p.encrypted_files + p.encrypted_values]
    if secrets:
        out.append("Secrets to re-create" + ("" if audit.keys_asked else " (give --key-path to list the variable "
                                                                         "names inside)") + ":")
        out += [f"  {shown(where(audit, p))}: {shown(_secret_where(s))} ({s.kind}): {shown(_secret_use(s))}"
                for p, s in secrets]
        out.append("")
    if audit.skipped:
        out.append("Not audited:")
        out += [f"  {shown(where(audit, s))}: {shown(s.diagnostic.message)}" for s in audit.skipped]
        out.append("")
    out += failures(audit)
    return "\n".join(out).rstrip("\n") + "\n"


def failures(audit: Audit) -> list[str]:
    """Each failed project with its first error, for the terminal."""
    failed = audit.failed
    if not failed:
        return []
    out = [f"Failed: {len(failed)} of {plural(len(audit.projects), 'project')} do not translate:"]
    out += [f"  {shown(first_error_line(audit, p))}" for p in failed]
    return out


def first_error_line(audit: Audit, p: ProjectAudit) -> str:
    """The project's first error as translate prints it (its location names the project's file)."""
    first = p.first_error
    if first is None:
        return f"{where(audit, p)}: failed"
    # without its hint, not cut at a line break: a folder name may hold one (the caller escapes it)
    line = message_text(first.level, first.message, first.loc, first.code)
    return line if first.loc and first.loc.file else f"{where(audit, p)}: {line}"


# ------------------------------------------------------------------------------------------------
# JSON


def data(audit: Audit) -> dict:
    from ..reporters import diagnostic_dict

    return {
        "generator": GENERATOR,
        "format": JSON_FORMAT,
        "roots": audit.roots,
        "projects": [{
            "root": p.root,
            "path": p.path,
            "outcome": p.outcome,
            "steps": p.steps,
            "services": p.services,
            "keys": p.keys,
            "manual_tasks": [{"kind": kind, "text": task} for kind, task in p.manual_tasks],
            "encrypted_files": [s.as_dict() for s in p.encrypted_files],
            "encrypted_values": [s.as_dict() for s in p.encrypted_values],
            "diagnostics": [diagnostic_dict(d) for d in p.diagnostics],
            "forecast": p.forecast,
        } for p in audit.projects],
        "skipped": [{"root": s.root, "path": s.path, "diagnostic": diagnostic_dict(s.diagnostic)}
                    for s in audit.skipped],
        "totals": audit.totals(),
    }


def as_json(audit: Audit) -> str:
    text = json.dumps(data(audit), indent=2, ensure_ascii=False) + "\n"
    # a name that is not UTF-8 as a JSON escape (only strings hold one): the file stays UTF-8
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# ------------------------------------------------------------------------------------------------
# Markdown

_MD_INLINE = re.compile(r"([\\`*_\[\]|~])")
_MD_BLOCK_START = re.compile(r"^(\s*)([#+\-=]|\d+(?=[.)]))")


def md(text: str) -> str:
    """Text from a user's file as Markdown that shows it as written (it always follows `- `,
    `| ` or words of ours): HTML and inline Markdown escaped, a heading, list or quote marker at
    its start too; line breaks and other controls as escapes, table cells kept whole."""
    text = shown(str(text)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_INLINE.sub(r"\\\1", text)
    match = _MD_BLOCK_START.match(text)
    if match and match.group(2)[0].isdigit():  # `1.` or `1)`: escape what follows the number
        end = match.end()
        return text[:end] + "\\" + text[end:]
    return _MD_BLOCK_START.sub(r"\1\\\2", text) if match else text


def markdown(audit: Audit) -> str:
    lines = [f"<!-- {GENERATOR} -->", "# Codeship audit", "",
             f"Folders: {', '.join(md(r) for r in audit.roots)}.", "",
             "| project | outcome | steps | services | keys | manual tasks | encrypted | runner starts |",
             "|---|---|---:|---:|---|---:|---:|---|"]
    lines += ["| " + " | ".join([md(where(audit, p)), *_row(p)]) + " |" for p in audit.projects]
    lines += ["", LEGEND + ".", "", "## Totals", "", *(f"- {line}" for line in _totals_lines(audit)), "",
              "## Manual tasks", "", *([f"- {task_line(*g)}" for g in audit.task_groups()] or ["None."]), ""]
    secrets = [(p, s) for p in audit.projects for s in p.encrypted_files + p.encrypted_values]
    if secrets:
        lines += ["## Secrets to re-create", "", "| project | encrypted | kind | used by |", "|---|---|---|---|"]
        lines += [f"| {md(where(audit, p))} | {md(_secret_where(s))} | {s.kind} | {md(_secret_use(s))} |"
                  for p, s in secrets]
        lines.append("")
    if audit.skipped:
        lines += ["## Not audited", "", *(f"- {md(where(audit, s))}: {md(s.diagnostic.message)}"
                                          for s in audit.skipped), ""]
    failed = audit.failed
    if failed:
        lines += ["## Failed", ""]
        lines += [f"- {md(first_error_line(audit, p))}" for p in failed]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


FORMATS = {"text": text, "json": as_json, "markdown": markdown}
