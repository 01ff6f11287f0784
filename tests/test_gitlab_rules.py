"""GitLab rule expressions decide as the script does, and any filter text stays data: every
`rules: if:` (and the `workflow:` rule) is evaluated by gitlab-ci-local's own evaluator
(Utils.evaluateRuleIf: variables expanded, /…/ literals run with RE2) against the Codeship rule
(a tag equal to the text, or a regex search), for hostile texts (tests/../shared hostile names,
quotes that would close a string, `||` that would rewrite the logic, newlines, `$NAME`, `/`)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

import re2_reference

from test_ci_pipelines import _schema
from test_ci_runs import _runner

from translator.api import translate
from translator.ci.plan import Filter, _regex

HOSTILE = json.loads((Path(__file__).parent / "data" / "hostile-names.json").read_text())["names"]  # shared/data/ copy
FILTERS = HOSTILE + [
    "a'b\"c", "x' || '1' == '1' || '\"", "master\nfeature", "release/v1", "%CI_JOB_TOKEN%",
    "^(master|release/.*)$", "^feature/", r"^v\d+\.\d+$", r"^a\/b$", "^[$/]x$", r"^\Qa/b$\"'\E$",
    "^a b$", "^a$|^b$", "^a\\\\$", "^x' || '1' == '1' || '\"$", "^(a|b)$/ || $CI_JOB_TOKEN =~ /x",
    r"^a\x{2F}b$", "^ñ$", "^[[:alpha:]]+$", "^a\nb$", "^a${CI_JOB_TOKEN}$", "^\\$HOME$",
]
REFS = ["master", "main", "feature/x", "release/v1", "v1.2", "a/b", "$x", "a", "b", "ab", "a'b\"c", "ñ", "a$"]
# Names git allows for a branch or tag: no space, control character or `\\~^:?*[` (gitlab-ci-local's
# evaluator also breaks on such values itself: it unescapes `\\` and scans for `=~ /` after expanding).
GIT_REFUSES = re.compile(r"[\x00-\x20\x7f\\~^:?*\[]")

def evaluate(cases: list[tuple[str, dict[str, str]]]) -> list:
    """gitlab-ci-local's evaluateRuleIf on each (expression, variables): True/False, or the
    error text when it cannot evaluate the expression."""
    gcl = Path(_runner("gitlab-ci-local")).resolve().parents[1]  # .bin/ links to PACKAGE/src/index.js
    script = (f'import {{Utils}} from {json.dumps(str(gcl / "src" / "utils.js"))};\n'
              'import fs from "fs";\n'
              'const out = JSON.parse(fs.readFileSync(0, "utf8")).map(([e, v]) => {\n'
              '  try { return Utils.evaluateRuleIf(e, v); } catch (err) { return "ERROR " + err.message; } });\n'
              'process.stdout.write(JSON.stringify(out));\n')
    proc = subprocess.run(["node", "--input-type=module", "-e", script], input=json.dumps(cases),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def expected(step_filters, ref: str) -> bool:
    """The plan's decision (what the script decides): each tag filter matches, no exclude does."""
    def matches(f) -> bool:
        return ref == f.text or bool(f.regex) and re2_reference.regex_search(f.regex, ref)
    return all(matches(f) if f.kind == "tag" else not matches(f) for f in step_filters)


def project(tmp_path: Path, kind: str) -> tuple[dict, list]:
    steps = [{"name": HOSTILE[i % len(HOSTILE)] + f" {i}", "service": "app", "command": "true", kind: text}
             for i, text in enumerate(FILTERS)]
    (tmp_path / "codeship-services.yml").write_text("app:\n  image: busybox\n")
    (tmp_path / "codeship-steps.yml").write_text(yaml.safe_dump(steps))
    result = translate(tmp_path, ci=("gitlab",), ci_fanout=True)  # a job, and its rules, per step
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    text = next(t for p, t in result.outputs.items() if p.name == ".gitlab-ci.yml")
    (tmp_path / ".gitlab-ci.yml").write_text(text)
    doc = yaml.safe_load(text)
    errors = list(_schema("gitlab-ci.json").iter_errors(doc))
    assert not errors, errors[:3]
    jobs = [job for key, job in doc.items() if isinstance(job, dict) and "script" in job]
    filters = [[Filter(kind=kind, text=text, regex=_regex(text)[0])] for text in FILTERS]
    return doc, list(zip(jobs, filters, FILTERS))


@pytest.mark.parametrize("kind", ["tag", "exclude"])
def test_rules_decide_like_the_script_for_any_filter_text(tmp_path, kind):
    doc, jobs = project(tmp_path, kind)
    cases, want = [], []
    for job, step_filters, text in jobs:
        assert len(job["rules"]) == 1 and set(job["rules"][0]) == {"if"}  # one rule, no fall-through
        expr = job["rules"][0]["if"]
        assert "\n" not in expr and "'" not in expr
        for ref in REFS + [t for t in (text, text + "x") if not GIT_REFUSES.search(t)]:
            cases.append((expr, {"CI_COMMIT_REF_NAME": ref, "CI_PIPELINE_SOURCE": "push", "CI_JOB_TOKEN": "x"}))
            want.append((text, ref, expected(step_filters, ref)))
        cases.append((expr, {"CI_COMMIT_REF_NAME": "master", "CI_PIPELINE_SOURCE": "merge_request_event"}))
        want.append((text, "(merge request)", False))  # a filtered job never runs for a merge request
    got = evaluate(cases)
    wrong = [(text, ref, runs, g) for (text, ref, runs), g in zip(want, got) if g is not runs]
    assert not wrong, wrong[:10]


def test_the_workflow_starts_no_merge_request_pipeline(tmp_path):
    doc, _ = project(tmp_path, "tag")
    rules = doc["workflow"]["rules"]
    assert rules[-1] == {"when": "always"} and rules[0]["when"] == "never"
    sources = {"push": True, "web": True, "schedule": True, "api": True, "trigger": True,
               "merge_request_event": False, "external_pull_request_event": False}
    got = evaluate([(rules[0]["if"], {"CI_PIPELINE_SOURCE": s}) for s in sources])
    assert [not g for g in got] == list(sources.values())


def test_gitlab_ci_local_accepts_the_whole_file(tmp_path):
    """gitlab-ci-local parses the file, checks it against GitLab's schema and evaluates every
    job's rules on the current branch (`--list`)."""
    doc, _ = project(tmp_path, "tag")
    gcl = _runner("gitlab-ci-local")
    subprocess.run(["git", "init", "-q", "-b", "master", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com",
                    "commit", "-q", "-m", "c"], check=True)
    proc = subprocess.run([gcl, "--list", "--no-color"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = proc.stdout
    ids = {text: key for key, job in doc.items() for text in [_text_of(doc, key)] if text is not None}
    assert ids["^(master|release/.*)$"] in listed  # the branch is master: its rule lets it run
    assert ids["^feature/"] not in listed


def _text_of(doc: dict, key: str):
    job = doc[key]
    if not (isinstance(job, dict) and "script" in job):
        return None
    index = int(key.split("-")[0][1:]) - 1
    return FILTERS[index]
