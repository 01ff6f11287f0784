"""The pipeline at the top of codeship-steps.sh is what runs: a person can edit it by hand, and
a malformed edit is refused with its line before anything runs. Also the runtime on its own,
with pipelines written by hand (the goldens compare only the generated part of scripts)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from e2e_support import make_project, run_script, script_env, write_codeship, translate

SERVICES = {"app": {"image": "busybox", "volumes": ["./shared:/shared"]}, "tool": {"image": "busybox"}}
STEPS = [
    {"name": "first", "service": "app", "command": "echo one"},
    {"name": "second", "service": "app", "command": "touch /shared/second"},
    {"type": "parallel", "name": "par", "steps": [
        # passes only when `second` runs beside it (it waits for the file `second` makes)
        {"name": "waiter", "service": "app",
         "command": ["sh", "-c", "for i in $(seq 150); do test -e /shared/second && exit 0; sleep 0.1; done; exit 1"]},
    ]},
]


def pipeline_lines(script: str) -> list[str]:
    lines = script.splitlines()
    start = lines.index("c2c_pipeline() {")
    return lines[start + 1:lines.index("}", start)]


def edit_pipeline(project: Path, edit) -> Path:
    """Replace the pipeline's lines by edit(lines) in the project's script."""
    path = project / "codeship-steps.sh"
    text = path.read_text()
    old = pipeline_lines(text)
    new = edit(list(old))
    path.write_text(text.replace("\n".join(old) + "\n", "\n".join(new) + "\n", 1))
    return path


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.fixture
def project(tmp_path) -> Path:
    return make_project(tmp_path / "proj", SERVICES, STEPS)


def test_the_generated_pipeline_reads_like_the_steps_file(project):
    assert pipeline_lines((project / "codeship-steps.sh").read_text()) == [
        "  step first app -- echo one",
        "  step second app -- touch /shared/second",
        "  group parallel par",
        "    step waiter app -- sh -c 'for i in $(seq 150); do test -e /shared/second && exit 0; sleep 0.1; done; exit 1'",
        "  end",
    ]


def _hand_edit(lines: list[str]) -> list[str]:
    """Change a command, add a step, move `second` into the parallel group."""
    first, second, group, waiter, end = lines
    return [first.replace("echo one", "echo edited by hand"),
            "  step added tool -- sh -c 'echo added \"$HOSTNAME\" >/dev/null; echo added'",
            group, "    " + second.strip(), waiter, end]


def test_a_hand_edit_is_listed_as_edited(project):
    edit_pipeline(project, _hand_edit)
    listing = subprocess.run([str(project / "codeship-steps.sh"), "--list"], capture_output=True, text=True,
                             env=script_env(), timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.splitlines()[1:] == [
        "[run ]   run first  [app] echo edited by hand",
        "[run ]   run added  [tool] sh -c \"echo added \\\"$HOSTNAME\\\" >/dev/null; echo added\"",
        "[run ]   group par  parallel",
        "[run ]     run second  [app] touch /shared/second",
        "[run ]     run waiter  [app] sh -c \"for i in $(seq 150); do test -e /shared/second && exit 0; "
        "sleep 0.1; done; exit 1\"",
    ]


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_a_hand_edit_runs_as_edited(project, compose):
    edit_pipeline(project, _hand_edit)
    run = run_script(project, compose)
    assert run.returncode == 0, run
    assert run.passed() == {"first", "added", "second", "waiter"}
    assert run.said("first", "app") == ["edited by hand"]
    assert run.said("added", "tool") == ["added"]
    # `waiter` passed: `second` ran beside it in the group, after the steps before the group
    assert run.index(lambda line: line.startswith("(step: added) success")) < \
        run.index(lambda line: line == "(step: second)")


# --- malformed hand edits ------------------------------------------------------------------------
MALFORMED = [
    ("unknown service", lambda ls: [ls[0].replace(" app ", " nosuch ")] + ls[1:], "  step first",
     "step 'first': unknown service 'nosuch' (the services: app tool)"),
    ("command without --", lambda ls: [ls[0].replace(" -- ", " ")] + ls[1:], "  step first",
     "step 'first': 'echo' before '--'"),
    ("unknown option", lambda ls: [ls[0].replace(" -- ", " --tga master -- ")] + ls[1:], "  step first",
     "step 'first': unknown option '--tga'"),
    ("end missing", lambda ls: ls[:-1], "  group parallel par", "group 'par' has no 'end'"),
    ("end without a group", lambda ls: ["  end"] + ls, "  end", "'end' without a group to close"),
    # two lines joined: the step after `end` would be dropped without a word
    ("end with arguments", lambda ls: ls[:-1] + [ls[-1] + " step after app -- echo after"], "  end step after",
     "end takes nothing, got: step after app -- echo after"),
    ("on_fail not under a step", lambda ls: ls[:3] + ["    on_fail step x app -- true"] + ls[3:],
     "on_fail step x", "on_fail step 'x': no step above it in its group"),
    ("misspelt word", lambda ls: ["  stpe zero app -- true"] + ls, "stpe zero",
     "'stpe' is not a word of the pipeline"),
    ("bad group kind", lambda ls: ls[:2] + [ls[2].replace("parallel", "paralel")] + ls[3:], "group paralel",
     "group 'par': the kind is 'paralel'"),
    ("bad regex", lambda ls: [ls[0].replace(" -- ", " --tag '^(master' -- ")] + ls[1:], "  step first",
     "step 'first': --tag '^(master' is not a valid bash regular expression"),
    ("bad rewritten regex", lambda ls: [ls[0].replace(" -- ", " --tag '[x' --codeship-tag '[x' -- ")] + ls[1:],
     "  step first", "step 'first': --tag '[x' is not a valid bash regular expression"),
    ("bad image tag", lambda ls: ls + ["  push p app org/app '{{ .Brunch }}'"], "push p",
     "push 'p': image tag '{{ .Brunch }}': unknown template variable '.Brunch'"),
]


@pytest.mark.parametrize("edit,needle,message", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_a_malformed_hand_edit_is_refused_with_its_line_before_anything_runs(project, tmp_path, edit, needle,
                                                                             message):
    script = edit_pipeline(project, edit)
    bin_dir = tmp_path / "bin"  # docker and docker-compose that only say they were called
    bin_dir.mkdir()
    for tool in ("docker", "docker-compose"):
        (bin_dir / tool).write_text(f"#!/bin/sh\ntouch '{tmp_path}/called'\n")
        (bin_dir / tool).chmod(0o755)
    env = script_env({"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    result = subprocess.run([str(script), "--compose", "v2"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"codeship-steps.sh:{line_of(script, needle)}: {message}"), result.stderr
    assert "nothing was run" in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "called").exists()
    assert not (project / "shared").exists()  # not even the host directories are made


# --- the runtime on its own, with pipelines written by hand ----------------------------------------
def with_pipeline(project: Path, *lines: str) -> Path:
    return edit_pipeline(project, lambda _: list(lines))


def run_quietly(script: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(script), *args], capture_output=True, text=True, env=script_env(), timeout=60)


def test_on_fail_belongs_to_the_step_above_it_in_its_group(project):
    script = with_pipeline(
        project,
        "  step a app -- 'true'",
        "    on_fail step a-rescue app -- 'true'",
        "      on_fail on_fail step a-rescue-rescue tool -- 'true'",
        "    on_fail group parallel a-group",
        "      step a-inner app -- 'true'",
        "        on_fail step a-inner-rescue app -- 'true'",
        "    end",
        "  group serial g",
        "    step b app -- 'true'",
        "  end")
    listing = run_quietly(script, "--list")
    assert listing.returncode == 0, listing.stderr
    assert [re.sub(r"  \[.*", "", line) for line in listing.stdout.splitlines()[1:]] == [
        "[run ]   run a",
        "[    ]     on_fail: (these run only if the step above fails)",
        "[run ]       run a-rescue",
        "[    ]         on_fail: (these run only if the step above fails)",
        "[run ]           run a-rescue-rescue",
        "[run ]       group a-group  parallel",
        "[run ]         run a-inner",
        "[    ]           on_fail: (these run only if the step above fails)",
        "[run ]             run a-inner-rescue",
        "[run ]   group g  serial",
        "[run ]     run b",
    ]


@pytest.mark.parametrize("tag,line,expected", [
    ("master", "  step s app --tag master -- 'true'", "run "),
    ("master2", "  step s app --tag master -- 'true'", "skip"),  # a name without ^ or $: the whole tag
    ("release/1", "  step s app --tag '^(master|release/.*)$' -- 'true'", "run "),
    ("v1.2.3", r"  step s app --tag '^v[0-9]+\.[0-9]+$' --codeship-tag '^v\d+\.\d+$' -- 'true'", "skip"),
    ("v1.2", r"  step s app --tag '^v[0-9]+\.[0-9]+$' --codeship-tag '^v\d+\.\d+$' -- 'true'", "run "),
    (r"^v\d+$", r"  step s app --tag '^v[0-9]+$' --codeship-tag '^v\d+$' -- 'true'", "run "),  # jet: text first
    ("feature/x", "  step s app --exclude '^feature/' -- 'true'", "skip"),
    ("master", "  step s app --exclude '^feature/' -- 'true'", "run "),
])
def test_filters_match_as_the_pipeline_says(project, tag, line, expected):
    listing = run_quietly(with_pipeline(project, line), "--list", "--tag", tag)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.splitlines()[1].startswith(f"[{expected}]   run s"), listing.stdout


def test_a_filter_message_names_the_codeship_text(project):
    script = with_pipeline(project, r"  step s app --tag '^v[0-9]+$' --codeship-tag '^v\d+$' -- 'true'")
    listing = run_quietly(script, "--list", "--tag", "x")
    assert r"(tag: ^v\d+$ does not match 'x')" in listing.stdout


@pytest.mark.parametrize("template,tag", [
    ("{{ .Branch }}-{{ printf \"%.8s\" .CommitID }}", "feat-01234567"),
    ("{{ .CommitID | printf \"%.3s\" }}", "012"),
    ("{{ printf \"%.08s\" .CommitID }}", "01234567"),  # base 10, as Go reads it (bash: octal)
    ("{{ .StepName }}.{{ .ServiceName }}", "p.app"),
    ("{{- .Ci }} -{{ .CiName }}", "true-codeship"),  # a space is not valid in a tag: removed, as jet does
    ("v1 {{- \" \" -}}", None),
])
def test_push_tags_render_their_go_template_when_pushing(project, template, tag):
    script = with_pipeline(project, f"  push p app org/app '{template}'")
    result = run_quietly(script, "--dry-run", "--compose", "v2", "--push", "--ci-branch", "feat",
                         "--ci-commit-id", "0123456789")
    if tag is None:  # not a template the translator would write: refused with the line
        assert result.returncode == 2 and "is not supported" in result.stderr, result.stderr
        return
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"+ docker push org/app:{tag}" in result.stdout


def test_a_push_tag_with_the_branch_needs_one(project):
    script = with_pipeline(project, "  push p app org/app '{{ .Branch }}'")
    result = run_quietly(script, "--dry-run", "--compose", "v2", "--push")
    assert "image_tag uses {{ .Branch }}, but the branch is unknown" in result.stdout


def test_an_empty_pipeline_runs_nothing(tmp_path):
    project = translate(write_codeship(tmp_path / "p", SERVICES, [{"name": "x", "service": "app", "command": "x"}]))
    result = run_quietly(with_pipeline(project, "  :"), "--dry-run", "--compose", "v2")
    assert result.returncode == 0, result.stderr
    assert "0 steps would run" in result.stdout


def test_help_explains_the_pipeline(project):
    result = run_quietly(project / "codeship-steps.sh", "--help")
    assert result.returncode == 0
    for words in ("step NAME SERVICE [OPTIONS] -- COMMAND...", "group serial|parallel|manual NAME",
                  "on_fail step|push|group", "--tag FILTER", "--codeship-tag TEXT"):
        assert words in result.stdout


def test_the_pipeline_page_shows_what_translate_writes(tmp_path):
    page = (Path(__file__).resolve().parents[1] / "docs" / "pipeline.md").read_text(encoding="utf-8")
    section = page.split("## Reading and editing the pipeline", 1)[1]
    steps = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    pipeline = section.split("```bash\n", 1)[1].split("```", 1)[0]
    root = tmp_path / "p"
    root.mkdir()
    (root / "codeship-services.yml").write_text("app:\n  image: busybox\n")
    (root / "codeship-steps.yml").write_text(steps)
    script = (translate(root) / "codeship-steps.sh").read_text()
    assert "c2c_pipeline() {\n" + "\n".join(pipeline_lines(script)) + "\n}\n" == pipeline
