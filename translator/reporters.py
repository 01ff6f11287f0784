"""Reporters: every text the user reads about a result, in one place.

Like check-jsonschema's reporters, each takes a result and returns what to show; the CLI (the
only module that prints) chooses one and prints it. `check --format` picks a `Reporter` from
`REPORTERS` (text, json, github, sarif); `translate` uses the text form on stderr; the migration
report is rendered by `report_markdown`/`report_json`; the CLI's own lines (`wrote …`,
`failed: …`, `error: …`) are the functions at the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import __version__
from .catalogue import CATALOGUE
from .diagnostics import ERROR, Diagnostic, Loc
from .outputs import MARKER

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from .api import Result


# ------------------------------------------------------------------------------------------------
# one diagnostic


def message_text(level: str, message: str, where: object = None, code: str | None = None,
                 hint: str | None = None) -> str:
    """`WHERE: LEVEL[CODE]: MESSAGE` and an indented `hint:` line: diagnostics and CLI errors."""
    text = f"{where}: " if where else ""
    text += f"{level}[{code}]: {message}" if code else f"{level}: {message}"
    if hint:
        text += f"\n  hint: {hint}"
    return text


def diagnostic_text(d: Diagnostic) -> str:
    return message_text(d.level, d.message, d.loc, d.code, d.hint)


def diagnostic_dict(d: Diagnostic) -> dict:
    loc = d.loc or Loc("")
    return {
        "code": d.code,
        "level": str(d.level),
        "file": loc.file,
        "line": loc.line,
        "column": loc.col,
        "message": d.message,
        "hint": d.hint,
    }


# ------------------------------------------------------------------------------------------------
# a result's diagnostics (`check --format`, translate's stderr)


def failed(result: Result, strict: bool = False) -> bool:
    """Whether `check`/`translate` fail on this result: errors, or any diagnostic with --strict."""
    return not result.ok or bool(strict and result.diagnostics)


class Reporter:
    """Renders a result (api.Result: its diagnostics, and whether it failed); `render` returns the
    whole output, newlines included."""

    name = ""

    def render(self, result: Result, strict: bool = False) -> str:
        raise NotImplementedError


class TextReporter(Reporter):
    """For people: one diagnostic per line (and its hint), then `ok: …` or `failed: …`."""

    name = "text"

    def diagnostics(self, diagnostics: Iterable[Diagnostic]) -> str:
        return "".join(diagnostic_text(d) + "\n" for d in diagnostics)

    def render(self, result: Result, strict: bool = False) -> str:
        text = self.diagnostics(result.diagnostics)
        if failed(result, strict):
            return text + fail_summary(result.diagnostics, strict) + "\n"
        warnings = len(result.diagnostics)
        return text + "ok: the Codeship files are valid" + (f" ({count(warnings, 'warning')})" if warnings else "") + "\n"


class JsonReporter(Reporter):
    """For tools: a JSON list of {code, level, file, line, column, message, hint}."""

    name = "json"

    def render(self, result: Result, strict: bool = False) -> str:
        import json

        return json.dumps([diagnostic_dict(d) for d in result.diagnostics], indent=2) + "\n"


class GithubReporter(Reporter):
    """GitHub Actions workflow commands: an annotation per diagnostic."""

    name = "github"

    def render(self, result: Result, strict: bool = False) -> str:
        lines = []
        for d in result.diagnostics:
            loc = d.loc
            where = f" file={loc.file},line={loc.line},col={loc.col}" if loc and loc.line else (
                f" file={loc.file}" if loc else "")
            message = d.message + (f" (hint: {d.hint})" if d.hint else "")
            lines.append(f"::{d.level}{where},title={d.code}::{_gh_escape(message)}\n")
        return "".join(lines)


class SarifReporter(Reporter):
    """SARIF 2.1.0, for GitHub code scanning: rules from the catalogue, a result per diagnostic."""

    name = "sarif"

    def render(self, result: Result, strict: bool = False) -> str:
        import json

        diagnostics = result.diagnostics
        codes = sorted({d.code for d in diagnostics})
        rules = [{
            "id": code,
            "shortDescription": {"text": CATALOGUE[code].title},
            "fullDescription": {"text": CATALOGUE[code].why},
            "help": {"text": CATALOGUE[code].fix},
            "defaultConfiguration": {"level": str(CATALOGUE[code].level)},
        } for code in codes]
        results = []
        for d in diagnostics:
            entry: dict = {
                "ruleId": d.code,
                "ruleIndex": codes.index(d.code),
                "level": str(d.level),
                "message": {"text": d.message + (f" (hint: {d.hint})" if d.hint else "")},
            }
            if d.loc and d.loc.file:
                physical: dict = {"artifactLocation": {"uri": d.loc.file}}
                if d.loc.line:
                    physical["region"] = {"startLine": d.loc.line, "startColumn": max(d.loc.col, 1)}
                entry["locations"] = [{"physicalLocation": physical}]
            results.append(entry)
        sarif = {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "codeship2compose", "version": __version__, "rules": rules}},
                "results": results,
            }],
        }
        return json.dumps(sarif, indent=2) + "\n"


REPORTERS: dict[str, type[Reporter]] = {
    cls.name: cls for cls in (TextReporter, JsonReporter, GithubReporter, SarifReporter)
}


def _gh_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


# ------------------------------------------------------------------------------------------------
# the migration report


def report_markdown(report) -> str:
    """The report for people. Every name, key, path and message from the user's files is text
    (translator/markup.py escapes it); the headings, tables, lists and fence are ours."""
    from .markup import md_code, md_text

    counts = report.counts()
    lines = [
        f"<!-- {MARKER} {__version__}; do not edit -->",
        "# Migration report",
        "",
        f"Source: {md_code(report.services_file)} and {md_code(report.steps_file)}. "
        + ("Translated." if report.ok else "**Not translated: fix the errors below first.**"),
        "",
        "| outcome | keys |",
        "|---|---|",
        *(f"| {outcome} | {n} |" for outcome, n in counts.items()),
        "",
        "## Manual tasks",
        "",
        *([f"{n}. {task.markdown()}" for n, task in enumerate(report.manual_tasks, 1)] or ["None."]),
        "",
        *(["## CI pipeline: what to set up on the platform", "",
            *[f"- {task.markdown()}" for task in report.ci_setup], "",
            "The jobs the steps became (top to bottom; a failed job stops the ones below it):", "",
            "```mermaid", report.ci_flowchart.rstrip("\n"), "```", ""] if report.ci_flowchart else []),
        "## Every key",
        "",
        "| where | key | outcome | becomes | source |",
        "|---|---|---|---|---|",
        *(f"| {md_text(e.where)} | {md_code(e.key, table=True)} | {e.outcome} | {_md(e.becomes)} | "
          f"{md_text(e.location)} |" for e in report.entries),
        "",
        "## Diagnostics",
        "",
        *([f"- {md_text(loc.file)}:{loc.line}:{loc.col}: {d.level}[{d.code}]: {md_text(d.message)}"
           for d, loc in ((d, d.loc or Loc("")) for d in report.diagnostics)] or ["None."]),
    ]
    return "\n".join(lines) + "\n"


def report_json(report) -> str:
    import json
    from dataclasses import asdict, replace

    plain = replace(report, manual_tasks=[str(t) for t in report.manual_tasks],
                    ci_setup=[str(t) for t in report.ci_setup], diagnostics=[])
    data = {"generator": f"{MARKER} {__version__}; do not edit", **asdict(plain), "counts": report.counts(),
            "diagnostics": [diagnostic_dict(d) for d in report.diagnostics]}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


REPORT_FORMATS = {"markdown": report_markdown, "json": report_json}


def _md(text: str) -> str:
    """Our own Markdown (the rule table's words) in a table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


# ------------------------------------------------------------------------------------------------
# the CLI's own lines


def error_text(message: str, where: object = None, hint: str | None = None) -> str:
    """One of the CLI's own errors: `[WHERE: ]error: MESSAGE` and its hint."""
    return message_text(ERROR, message, where, hint=hint)


def user_error(exc, where: object = None, suffix: str = "") -> str:
    """A `UserError` (message and hint) as the CLI shows it."""
    return error_text(exc.message + suffix, where, exc.hint)


def fail_summary(diagnostics: Sequence[Diagnostic], strict: bool, written: str | None = None) -> str:
    """`failed: N error(s) …`; `written` adds `; nothing was written` (or `nothing else`)."""
    errors = sum(1 for d in diagnostics if d.level == ERROR)
    warnings = len(diagnostics) - errors
    what = count(errors, "error") + (f" and {count(warnings, 'warning')} (--strict)" if strict and warnings else "")
    return f"failed: {what}" + (f"; {written}" if written else "")


def count(n: int, noun: str) -> str:
    """`1 warning`, `2 warnings`, `0 errors`."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def wrote(path: object, what: str = "") -> str:
    return f"wrote {path}" + (f" ({what})" if what else "")


def freshness(stale: dict, outputs: list) -> str:
    """What `translate --check` found: each stale output and why, or that all are up to date."""
    if not stale:
        return f"up to date: {', '.join(str(p) for p in outputs)}"
    lines = [f"{path}: stale ({why})" for path, why in stale.items()]
    lines.append(f"failed: {len(stale)} of {len(outputs)} outputs differ from what translate would write now; "
                 "nothing was written\n  hint: run `codeship2compose translate` (with --force for a file edited "
                 "by hand) and commit the result")
    return "\n".join(lines)


def translated(services: int, steps: int, script: str) -> str:
    return (f"{services} services, {steps} steps. Next: `{script} --list`, then `{script}` to run them.")
