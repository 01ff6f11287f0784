"""The migration report shows a user's names as text (issue 21, item 9): rendered as GitHub does
(cmark-gfm, raw HTML let through so that any would show), a report for a hostile name has the
same headings, tables, links, images, code blocks and HTML elements as one for a plain name, the
name reads as written, and the Mermaid flowchart keeps one quoted label per job."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from translator.api import translate
from translator.ci.plan import CiPlan, Filter, Job, Part
from translator.ci.setup import flowchart
from translator.markup import md_code, md_text, mermaid_text, visible
from translator.reporters import report_markdown

from helpers import write_project

cmarkgfm = pytest.importorskip("cmarkgfm")

HOSTILE = json.loads((Path(__file__).parent / "data" / "hostile-names.json").read_text(encoding="utf-8"))["names"]
NAMES = list(dict.fromkeys(HOSTILE + [
    "```\nfenced\n```", "# heading", "[link](https://example.invalid)", "<img src=x onerror=alert(1)>",
    "front / back", "a\"] --> b[\"c", "%%{init: {'theme': 'dark'}}%%", "www.example.com", "x@example.com",
    "1. one", "    indented", "$x$", "**bold** _em_ ~~gone~~", "a | b", "&lt;b&gt;", "\\", "`", "``a``",
]))

STEPS = """\
- name: {q}
  service: app
  command: 'true'
  tag: {q}
- type: parallel
  name: {q}
  steps:
    - name: {q}
      service: app
      command: 'true'
    - name: other
      service: app
      command: 'true'
- type: manual
  name: {q}
  steps:
    - type: push
      name: push
      service: app
      image_name: me/app
"""
SERVICES = "app:\n  image: busybox\n  {q}: 1\n"


def _render(tmp_path: Path, name: str) -> tuple[str, object]:
    q = _yaml_quoted(name)
    write_project(tmp_path, SERVICES.format(q=q), STEPS.format(q=q))
    result = translate(tmp_path, report=True, ci=("github", "gitlab"))
    assert result.report is not None
    return report_markdown(result.report), result


def _yaml_quoted(text: str) -> str:
    """A YAML double-quoted scalar that holds any text, escapes for all but plain characters."""
    body = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else
                   f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}" if ord(c) < 0x10000 else
                   f"\\U{ord(c):08x}" for c in text)
    return f'"{body}"'


def _structure(markdown: str) -> tuple[list[str], dict[str, int]]:
    """The HTML GitHub would make: its headings and how many of each element it has."""
    page = cmarkgfm.github_flavored_markdown_to_html(markdown, options=cmarkgfm.cmark.Options.CMARK_OPT_UNSAFE)
    headings = re.findall(r"<h\d>(.*?)</h\d>", page)
    tags = re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", page)
    counts = {tag: tags.count(tag) for tag in set(tags)}
    return headings, counts


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    markdown, result = _render(tmp_path_factory.mktemp("plain"), "plain-name")
    assert result.ok and "```mermaid" in markdown
    return _structure(markdown)


@pytest.mark.parametrize("name", NAMES, ids=range(len(NAMES)))
def test_a_name_is_text_in_the_report(tmp_path, plain, name):
    markdown, result = _render(tmp_path, name)
    headings, counts = _structure(markdown)
    assert headings == plain[0]
    for tag in ("a", "img", "script", "pre", "table", "h1", "h2", "h3", "blockquote", "ol", "strong",
                "em", "del", "hr", "br", "input", "span", "math"):
        assert counts.get(tag, 0) == plain[1].get(tag, 0), (tag, markdown)
    assert set(counts) <= set(plain[1]), markdown  # no element the plain report does not have
    page = cmarkgfm.github_flavored_markdown_to_html(markdown, options=cmarkgfm.cmark.Options.CMARK_OPT_UNSAFE)
    text = html.unescape(re.sub(r"<[^>]*>", "", page))
    assert visible(name) in text  # the name reads as written (line breaks shown as \n)
    if result.ok:  # the CI layer may refuse a name (with a diagnostic): then there is no chart
        _assert_flowchart(markdown, jobs=3)  # one runner: a box per top-level step


def _assert_flowchart(markdown: str, jobs: int) -> None:
    assert len(re.findall(r"^ {0,3}(?:```|~~~)", markdown, re.M)) == 2  # the mermaid fence's own two
    chart = markdown.split("```mermaid\n", 1)[1].split("\n```", 1)[0].splitlines()
    label = r'\["[^"\n`%#]*(?:#[a-z0-9]+;[^"\n`%#]*)*"\]'
    shapes = [r"flowchart TD", rf"  \w+{label}", rf"  subgraph \w+{label}", rf"    \w+{label}", r"  end",
              r"  \w+ --> \w+"]
    for line in chart:
        assert any(re.fullmatch(shape, line) for shape in shapes), line
    assert sum(1 for line in chart if re.fullmatch(rf" +\w+{label}", line)) == jobs


def _fanout_plan(jobs: list[tuple[str, str, str, list[Part]]]) -> CiPlan:
    """(job id, stage name, stage, parts) → a --ci-fanout plan, one job per part list."""
    made = [Job(id=job_id, name=parts[0].name, stage=stage, stage_name=stage_name, parts=parts)
            for job_id, stage_name, stage, parts in jobs]
    return CiPlan(jobs=made, stages=list(dict.fromkeys(j.stage_name for j in made)), workdir=".", fanout=True,
                  parts=[p for j in made for p in j.parts])


def test_a_group_named_with_a_slash_is_one_box():
    a = Part(name="front / back / a", step="a", slug="a", group="front / back")
    b = Part(name="front / back / b", step="b", slug="b", group="front / back")
    chart = flowchart(_fanout_plan([("s01-front-back-a", "s01-front-back", 1, [a]),
                                    ("s01-front-back-b", "s01-front-back", 1, [b])]))
    assert 'subgraph s01_front_back["front / back (parallel: one job per branch)"]' in chart
    assert '["a"]' in chart and '["b"]' in chart


@pytest.mark.parametrize("name", NAMES, ids=range(len(NAMES)))
def test_every_flowchart_label_is_one_quoted_string(name):
    chart = flowchart(_fanout_plan([
        ("s01-x", "s01-x", 1, [Part(name=name, step=name, slug="x", filters=[Filter(kind="tag", text=name)])]),
        ("s02-g-a", "s02-g", 2, [Part(name=f"{name} / {name}", step=name, slug="a", group=name)]),
        ("s02-g-b", "s02-g", 2, [Part(name=f"{name} / b", step="b", slug="b", group=name)])]))
    _assert_flowchart(f"```mermaid\n{chart}```\n", jobs=3)


def test_the_escapes_keep_plain_names_readable():
    assert md_text("app-web.1 (db)") == "app-web.1 (db)"
    assert md_code("a`b") == "``a`b``" and md_code("a|b", table=True) == "`a\\|b`"
    assert mermaid_text('say "hi"') == "say #quot;hi#quot;"
    assert visible("a\nb\u202ec") == "a\\nb\\u202ec"
