"""Run-time values the way Codeship had them, wherever the files are translated and run from:
step names, host directories with -o, push-only keys, CI_* values on CI platforms, Go time.

These tests need no Docker engine: the script runs with --list, --dry-run or no selected step.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest
from helpers import runtime_file
from helpers import check, diag, write_project
from helpers import run_cli as cli

from translator.reporters import diagnostic_text

STEPS_WITHOUT_NAMES = """\
- type: parallel
  steps:
  - service: app
    command: echo one
  - service: app
    command: echo two
- service: app
  command: echo three
"""


# --- item 5: the same inputs give the same bytes wherever translate runs from -------------------
def test_outputs_do_not_depend_on_where_translate_runs(tmp_path):
    outputs = []
    for n, (cwd, target) in enumerate([("proj", "."), ("", "proj"), ("/", None), ("proj/sub", "..")]):
        root = tmp_path / f"copy{n}"
        write_project(root / "proj", "app:\n  image: busybox\n", STEPS_WITHOUT_NAMES)
        (root / "proj" / "sub").mkdir()
        where = Path("/") if cwd == "/" else root / cwd
        result = cli("translate", target or str(root / "proj"), cwd=where)
        assert result.exit_code == 0, result.output
        outputs.append({name: (root / "proj" / name).read_bytes() for name in ("compose.yaml", "codeship-steps.sh")})
    assert all(o == outputs[0] for o in outputs[1:])
    listing = subprocess.run([str(tmp_path / "copy0/proj/codeship-steps.sh"), "--list"], capture_output=True,
                             text=True, check=True).stdout
    assert "run app-" in listing


# --- item 9: push-only keys on run steps and groups -----------------------------------------------
@pytest.mark.parametrize("steps, key, line, col", [
    ("- service: app\n  command: x\n  image_name: org/app\n", "image_name", 3, 3),
    ("- service: app\n  command: x\n  image_tag: '{{ .Branch }}'\n", "image_tag", 3, 3),
    ("- type: serial\n  registry: quay.io\n  steps:\n  - service: app\n    command: x\n", "registry", 2, 3),
])
def test_push_only_keys_on_run_steps_and_groups_warn(tmp_path, monkeypatch, steps, key, line, col):
    write_project(tmp_path, "app:\n  image: busybox\n", steps)
    monkeypatch.chdir(tmp_path)
    d = diag(check(tmp_path), "C2C213")
    assert (d.level, d.loc.file, d.loc.line, d.loc.col) == ("warning", "codeship-steps.yml", line, col)
    assert f"'{key}'" in d.message and "type: push" in d.message, diagnostic_text(d)


def test_push_keys_on_push_steps_do_not_warn(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n",
                  "- type: push\n  service: app\n  image_name: org/app\n  image_tag: x\n  registry: quay.io\n")
    assert "C2C213" not in [d.code for d in check(tmp_path).diagnostics]


# --- item 12: -o creates no stray host directory -----------------------------------------------
def test_output_elsewhere_creates_host_directories_in_the_project_only(tmp_path):
    write_project(tmp_path / "proj", "app:\n  image: busybox\n  volumes: ['./tmp/artifacts:/artifacts']\n")
    result = cli("translate", "proj", "-o", "out", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    # run mode with no step selected: the set-up (which creates host directories) runs, no step does
    run = subprocess.run([str(tmp_path / "out/codeship-steps.sh"), "--compose", "v2", "--step", "none"],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "proj/tmp/artifacts").is_dir()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["codeship-steps.sh", "compose.yaml"]


def test_push_only_key_in_a_group_over_services_warns_once(tmp_path):
    write_project(tmp_path, "a:\n  image: busybox\nb:\n  image: busybox\n",
                  "- type: parallel\n  services: [a, b]\n  steps:\n  - command: x\n    image_name: org/x\n")
    assert [d.code for d in check(tmp_path).diagnostics].count("C2C213") == 1


def test_report_says_a_push_only_key_on_a_command_step_is_dropped(tmp_path):
    from translator.api import translate

    write_project(tmp_path, "app:\n  image: busybox\n", "- service: app\n  command: x\n  image_name: org/x\n")
    report = translate(tmp_path, report=True).report
    [entry] = [e for e in report.entries if e.key == "image_name"]
    assert entry.outcome.startswith("dropped") and "push" in entry.becomes


# --- item 15: {{ .Time }} like Go's Time.String(); encrypted build args rendered like plain ones --
RUNTIME = runtime_file()
VALUES = {"CI_BRANCH": "feature/x", "CI_COMMIT_ID": "0123456789abcdef", "C2C_TIME": "2017-10-13 10:14:23 +0000 UTC",
          "CI": "true", "CI_TIMESTAMP": "1507889663", "CI_STRING_TIME": "2017-10-13T10:14:23+00:00",
          "CI_PROJECT_ID": "p", "CI_BUILD_ID": "b", "CI_REPO_NAME": "r", "CI_COMMIT_MESSAGE": "m\nbody",
          "CI_COMMIT_DESCRIPTION": "v1-1-g0123", "CI_COMMITTER_NAME": "n", "CI_COMMITTER_EMAIL": "e@x",
          "CI_COMMITTER_USERNAME": "u"}
TEMPLATES = [
    "plain $HOME 'x'", "{{ .Branch }}", "{{.Branch}}", "a-{{ .CommitID }}-b", "{{ .Time }}", "{{.Timestamp}}",
    "{{ .StringTime }}", "{{ .Ci }}", "x {{- .Branch -}} \n y", "{{- .Branch }}  z", " {{ .Branch -}}\t z",
    "{{ .ProjectID }}{{ .BuildID }}{{ .RepoName }}{{ .CommitMessage }}{{ .CommitDescription }}",
    "{{ .CommitterName }}{{ .CommitterEmail }}{{ .CommitterUsername }}",
    # errors, in both
    "{{ .StepName }}", "{{ .CiName }}", "{{ .Brunch }}", "{{ printf \"%.7s\" .CommitID }}", "{{ .Branch",
    "{{ .Branch | upper }}", "{{-.Branch}}",
]


def _render_plain(template: str) -> str | None:
    """A plain build arg, as the translator renders it (None: an error at translate time)."""
    from translator import gotemplate

    try:
        parts = gotemplate.parse(template, allow_step_vars=False)
        gotemplate.to_compose(parts)
    except gotemplate.TemplateError:
        return None
    return "".join(p if isinstance(p, str) else VALUES[p.env] for p in parts)


def _render_encrypted(template: str) -> str | None:
    """An encrypted build arg, as the script renders it at run time."""
    script = f'source {shlex.quote(str(RUNTIME))}; c2c_render_build_arg "$1" && printf %s "$C2C_RENDERED"'
    result = subprocess.run(["bash", "-c", script, "bash", template], capture_output=True, text=True,
                            env={"PATH": os.environ["PATH"], **VALUES})
    return result.stdout if result.returncode == 0 else None


@pytest.mark.parametrize("template", TEMPLATES)
def test_encrypted_build_args_render_like_plain_ones(template):
    assert _render_encrypted(template) == _render_plain(template)


def test_template_errors_are_errors():
    assert _render_plain("{{ .Branch | upper }}") is None and _render_plain("{{ .Branch }}") == "feature/x"
    assert _render_plain("x {{- .Branch -}} \n y") == "xfeature/xy"


def _dry_run_push(tmp_path: Path, image_tag: str, *args: str, env: dict[str, str] | None = None):
    write_project(tmp_path, "app:\n  image: busybox\n",
                  f"- type: push\n  service: app\n  image_name: org/app\n  image_tag: '{image_tag}'\n")
    result = cli("translate", ".", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    return subprocess.run([str(tmp_path / "codeship-steps.sh"), "--compose", "v2", "--dry-run", "--push", *args],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
                          env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), **(env or {})})


def test_time_tag_renders_like_go_time_string(tmp_path):
    # Go: time.Unix(1507889663, 0).UTC().String() == "2017-10-13 10:14:23 +0000 UTC";
    # jet then removes the characters a Docker tag cannot hold
    run = _dry_run_push(tmp_path, "{{ .Time }}", env={"CI_TIMESTAMP": "1507889663"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "+ docker tag busybox org/app:2017-10-131014230000UTC" in run.stdout, run.stdout


def test_time_has_go_fractional_seconds(tmp_path):
    import re

    script = f'source {shlex.quote(str(RUNTIME))}; c2c_times; printf "%s|%s|%s" "$C2C_TIME" "$CI_TIMESTAMP" "$CI_STRING_TIME"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True,
                         env={"PATH": os.environ["PATH"]}).stdout
    go, stamp, string = out.split("|")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d*[1-9])? \+0000 UTC", go), go
    assert go[:19] == string[:19].replace("T", " ") and string.endswith("+00:00")
    import datetime
    assert datetime.datetime.fromtimestamp(int(stamp), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") == go[:19]


# --- item 4: CI_* values on CI platforms, detached HEADs, -o elsewhere ----------------------------
def ci_values(script: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """The CI_* variables the step container would get, from the script's --dry-run."""
    run = subprocess.run([str(script), "--compose", "v2", "--dry-run", *args], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=60,
                         env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), **(env or {})})
    assert run.returncode == 0, run.stdout + run.stderr
    [line] = [line for line in run.stdout.splitlines() if line.startswith("+ ") and " run " in line]
    # the line is quoted by bash's printf %q (which writes $'…' for newlines): bash reads it back
    words = subprocess.run(["bash", "-c", 'eval "set -- $1"; printf "%s\\0" "$@"', "bash", line[2:]],
                           capture_output=True, text=True, check=True).stdout.split("\0")[:-1]
    return dict(words[i + 1].split("=", 1) for i, w in enumerate(words) if w == "-e")


@pytest.fixture
def one_step(tmp_path) -> Path:
    write_project(tmp_path / "proj", "app:\n  image: busybox\n", "- service: app\n  command: env\n")
    assert cli("translate", "proj", cwd=tmp_path).exit_code == 0
    return tmp_path / "proj" / "codeship-steps.sh"


PLATFORMS = {
    "github-actions-push": (
        {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/feature/x", "GITHUB_REF_NAME": "feature/x",
         "GITHUB_HEAD_REF": "", "GITHUB_SHA": "a1", "GITHUB_RUN_ID": "77", "GITHUB_ACTOR": "octo",
         "GITHUB_REPOSITORY": "org/repo", "GITHUB_REPOSITORY_ID": "123", "GITHUB_SERVER_URL": "https://github.com"},
        {"CI_BRANCH": "feature/x", "CI_COMMIT_ID": "a1", "CI_BUILD_ID": "77", "CI_COMMITTER_USERNAME": "octo",
         "CI_REPO_NAME": "repo", "CI_PROJECT_ID": "123", "CI_PR_NUMBER": "", "CI_PULL_REQUEST": "false"}),
    "github-actions-pull-request": (
        {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/pull/42/merge", "GITHUB_REF_NAME": "42/merge",
         "GITHUB_HEAD_REF": "feature/x", "GITHUB_SHA": "m1", "GITHUB_RUN_ID": "78", "GITHUB_REPOSITORY": "org/repo",
         "GITHUB_SERVER_URL": "https://github.com"},
        {"CI_BRANCH": "feature/x", "CI_COMMIT_ID": "m1", "CI_BUILD_ID": "78", "CI_PR_NUMBER": "42",
         "CI_PULL_REQUEST": "https://github.com/org/repo/pull/42"}),
    "gitlab-ci-merge-request": (
        {"GITLAB_CI": "true", "CI": "true", "CI_COMMIT_REF_NAME": "feature/x", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME":
         "feature/x", "CI_COMMIT_SHA": "g1", "CI_PIPELINE_ID": "900", "CI_MERGE_REQUEST_IID": "7",
         "CI_MERGE_REQUEST_PROJECT_URL": "https://gitlab.com/org/repo", "CI_COMMIT_AUTHOR": "Ann Lee <ann@x.org>",
         "GITLAB_USER_LOGIN": "ann", "CI_PROJECT_NAME": "repo", "CI_PROJECT_ID": "55",
         "CI_COMMIT_MESSAGE": "Fix it\n\nBody", "CI_COMMIT_DESCRIPTION": "\nBody"},
        {"CI_BRANCH": "feature/x", "CI_COMMIT_ID": "g1", "CI_BUILD_ID": "900", "CI_PR_NUMBER": "7",
         "CI_PULL_REQUEST": "https://gitlab.com/org/repo/-/merge_requests/7", "CI_COMMITTER_NAME": "Ann Lee",
         "CI_COMMITTER_EMAIL": "ann@x.org", "CI_COMMITTER_USERNAME": "ann", "CI_REPO_NAME": "repo",
         "CI_PROJECT_ID": "55", "CI_COMMIT_MESSAGE": "Fix it\n\nBody", "CI_COMMIT_DESCRIPTION": ""}),
    "gitlab-ci-branch": (
        {"GITLAB_CI": "true", "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_SHA": "g2",
         "CI_PIPELINE_ID": "901"},
        {"CI_BRANCH": "main", "CI_COMMIT_ID": "g2", "CI_BUILD_ID": "901", "CI_PR_NUMBER": "", "CI_PULL_REQUEST": "false"}),
    "bitbucket-pipelines": (
        {"BITBUCKET_BUILD_NUMBER": "12", "BITBUCKET_BRANCH": "feature/x", "BITBUCKET_COMMIT": "b1",
         "BITBUCKET_PR_ID": "3", "BITBUCKET_GIT_HTTP_ORIGIN": "http://bitbucket.org/org/repo",
         "BITBUCKET_REPO_SLUG": "repo", "BITBUCKET_REPO_UUID": "{u-u-i-d}"},
        {"CI_BRANCH": "feature/x", "CI_COMMIT_ID": "b1", "CI_BUILD_ID": "12", "CI_PR_NUMBER": "3",
         "CI_PULL_REQUEST": "http://bitbucket.org/org/repo/pull-requests/3", "CI_REPO_NAME": "repo",
         "CI_PROJECT_ID": "{u-u-i-d}"}),
    "circleci": (
        {"CIRCLECI": "true", "CI": "true", "CIRCLE_BRANCH": "feature/x", "CIRCLE_SHA1": "c1",
         "CIRCLE_WORKFLOW_ID": "wf-1", "CIRCLE_BUILD_NUM": "5", "CIRCLE_PULL_REQUEST": "https://github.com/org/repo/pull/9",
         "CIRCLE_USERNAME": "cee", "CIRCLE_PROJECT_REPONAME": "repo"},
        {"CI_BRANCH": "feature/x", "CI_COMMIT_ID": "c1", "CI_BUILD_ID": "wf-1", "CI_PR_NUMBER": "9",
         "CI_PULL_REQUEST": "https://github.com/org/repo/pull/9", "CI_COMMITTER_USERNAME": "cee", "CI_REPO_NAME": "repo"}),
    "jenkins-git-plugin": (
        {"JENKINS_URL": "http://jenkins/", "GIT_BRANCH": "origin/feature/x", "GIT_COMMIT": "j1", "BUILD_NUMBER": "8",
         "BUILD_TAG": "jenkins-proj-8", "GIT_COMMITTER_NAME": "Jen", "GIT_COMMITTER_EMAIL": "jen@x.org"},
        {"CI_BRANCH": "feature/x", "CI_COMMIT_ID": "j1", "CI_BUILD_ID": "jenkins-proj-8", "CI_COMMITTER_NAME": "Jen",
         "CI_COMMITTER_EMAIL": "jen@x.org", "CI_PR_NUMBER": ""}),
    "jenkins-multibranch-pull-request": (
        {"JENKINS_URL": "http://jenkins/", "BRANCH_NAME": "PR-4", "CHANGE_BRANCH": "feature/x", "CHANGE_ID": "4",
         "CHANGE_URL": "https://github.com/org/repo/pull/4", "CHANGE_AUTHOR": "jen", "GIT_COMMIT": "j2"},
        {"CI_BRANCH": "feature/x", "CI_PR_NUMBER": "4", "CI_PULL_REQUEST": "https://github.com/org/repo/pull/4",
         "CI_COMMITTER_USERNAME": "jen", "CI_COMMIT_ID": "j2"}),
    "buildkite": (
        {"BUILDKITE": "true", "CI": "true", "BUILDKITE_BRANCH": "feature/x", "BUILDKITE_COMMIT": "k1",
         "BUILDKITE_BUILD_ID": "uuid-1", "BUILDKITE_PULL_REQUEST": "false", "BUILDKITE_BUILD_AUTHOR": "Kit",
         "BUILDKITE_BUILD_AUTHOR_EMAIL": "kit@x.org", "BUILDKITE_MESSAGE": "Ship it",
         "BUILDKITE_REPO": "git@github.com:org/repo.git", "BUILDKITE_PIPELINE_ID": "p-1"},
        {"CI_BRANCH": "feature/x", "CI_COMMIT_ID": "k1", "CI_BUILD_ID": "uuid-1", "CI_PR_NUMBER": "",
         "CI_PULL_REQUEST": "false", "CI_COMMITTER_NAME": "Kit", "CI_COMMITTER_EMAIL": "kit@x.org",
         "CI_COMMIT_MESSAGE": "Ship it", "CI_REPO_NAME": "repo", "CI_PROJECT_ID": "p-1"}),
    "travis-pull-request": (
        {"TRAVIS": "true", "CI": "true", "TRAVIS_BRANCH": "main", "TRAVIS_PULL_REQUEST_BRANCH": "feature/x",
         "TRAVIS_COMMIT": "t1", "TRAVIS_BUILD_ID": "66", "TRAVIS_PULL_REQUEST": "11", "TRAVIS_REPO_SLUG": "org/repo",
         "TRAVIS_COMMIT_MESSAGE": "Try"},
        {"CI_BRANCH": "feature/x", "CI_COMMIT_ID": "t1", "CI_BUILD_ID": "66", "CI_PR_NUMBER": "11",
         "CI_PULL_REQUEST": "https://github.com/org/repo/pull/11", "CI_REPO_NAME": "repo", "CI_COMMIT_MESSAGE": "Try"}),
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_ci_values_come_from_the_platform(one_step, platform):
    env, expected = PLATFORMS[platform]
    values = ci_values(one_step, env=env)
    assert {k: values[k] for k in expected} == expected
    assert values["CI"] == "true" and values["CI_NAME"] == "codeship"


def test_ci_flags_win_over_the_platform(one_step):
    env, _ = PLATFORMS["gitlab-ci-merge-request"]
    values = ci_values(one_step, "--ci-branch", "given", "--ci-commit-description", "v9", "--ci-build-id", "1",
                       env=env)
    assert (values["CI_BRANCH"], values["CI_COMMIT_DESCRIPTION"], values["CI_BUILD_ID"]) == ("given", "v9", "1")


def git(repo: Path, *args: str) -> str:
    env = {"PATH": os.environ["PATH"], "HOME": str(repo), "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@x",
           "GIT_COMMITTER_NAME": "Cee", "GIT_COMMITTER_EMAIL": "c@x"}
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True,
                          env=env).stdout.strip()


def make_repo(root: Path, branch: str) -> str:
    git(root, "init", "-q", "-b", branch)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    return git(root, "rev-parse", "HEAD")


def test_detached_head_takes_the_branch_that_points_at_it(one_step):
    repo = one_step.parent
    commit = make_repo(repo, "feature/x")
    git(repo, "checkout", "-q", "--detach")
    values = ci_values(one_step)
    assert (values["CI_BRANCH"], values["CI_COMMIT_ID"]) == ("feature/x", commit)
    git(repo, "branch", "-q", "other")  # two branches point at the commit: unknown, never "HEAD"
    assert ci_values(one_step)["CI_BRANCH"] == ""
    git(repo, "checkout", "-q", "other")
    assert ci_values(one_step)["CI_BRANCH"] == "other"


def test_detached_head_of_a_remote_branch(tmp_path, one_step):
    origin = one_step.parent
    make_repo(origin, "main")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, capture_output=True)
    git(clone, "checkout", "-q", "--detach", "origin/main")
    git(clone, "branch", "-q", "-D", "main")
    assert ci_values(clone / "codeship-steps.sh")["CI_BRANCH"] == "main"


def test_output_elsewhere_takes_git_values_from_the_repository(tmp_path):
    repo = tmp_path / "repo"
    write_project(repo, "app:\n  image: busybox\n", "- service: app\n  command: env\n")
    commit = make_repo(repo, "feature/x")
    elsewhere = tmp_path / "tools" / "out"
    elsewhere.mkdir(parents=True)
    (tmp_path / "tools" / "README").write_text("other\n")
    make_repo(tmp_path / "tools", "unrelated")  # the output folder is in another repository
    assert cli("translate", "repo", "-o", "tools/out", cwd=tmp_path).exit_code == 0
    values = ci_values(elsewhere / "codeship-steps.sh")
    assert (values["CI_BRANCH"], values["CI_COMMIT_ID"], values["CI_REPO_NAME"]) == ("feature/x", commit, "repo")
    assert values["CI_COMMITTER_NAME"] == "Cee" and values["CI_COMMIT_MESSAGE"] == "first"


def test_push_with_a_branch_tag_fails_before_pushing_when_the_branch_is_unknown(tmp_path):
    run = _dry_run_push(tmp_path, "{{ .Branch }}-{{ .CommitID }}", "--ci-commit-id", "abc")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "docker push" not in run.stdout and "docker tag" not in run.stdout
    assert "--ci-branch" in run.stdout
    ok = subprocess.run([str(tmp_path / "codeship-steps.sh"), "--compose", "v2", "--dry-run", "--push",
                         "--ci-branch", "main", "--ci-commit-id", "abc"], capture_output=True, text=True)
    assert ok.returncode == 0 and "+ docker push org/app:main-abc" in ok.stdout, ok.stdout


def test_push_without_a_branch_in_its_tag_needs_no_branch(tmp_path):
    run = _dry_run_push(tmp_path, "v1-{{ .CommitID }}", "--ci-commit-id", "abc")
    assert run.returncode == 0 and "+ docker push org/app:v1-abc" in run.stdout, run.stdout


# --- item 3: the script reads env files the way Compose does ------------------------------------
ENV_FILE = """\
# comment
A=plain
B = spaced
export C=exported
D='single $X "q" # not a comment'
E="double \\"q\\" and\\nnewline # not a comment"
F=unquoted # comment
G=
H=tab\tinside
I=first
I=last wins
J=${UNSET_IN_TEST:-default}
K=crlf\r
"""


@pytest.mark.parametrize("compose", [("docker", "compose"), ("docker-compose",)], ids=["v2", "v1"])
def test_env_files_are_read_like_compose_reads_them(tmp_path, compose):
    """What Compose makes of an env file (`config` needs no engine) equals what it makes of the
    values the script reads from it and hands over in an override file."""
    import json

    import yaml
    from conftest import need_tool

    need_tool(*compose, "version")
    (tmp_path / "app.env").write_text(ENV_FILE)
    (tmp_path / "a.yaml").write_text("services:\n  app:\n    image: busybox\n    env_file: [app.env]\n")
    script = (f'source {shlex.quote(str(RUNTIME))}; C2C_DIR={shlex.quote(str(tmp_path))}; '
              'c2c_compose_env_files app.env; for i in "${!C2C_ENV_KEYS[@]}"; do '
              'printf "%s\\0%s\\0" "${C2C_ENV_KEYS[i]}" "${C2C_ENV_VALUES[i]}"; done')
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True,
                         env={"PATH": os.environ["PATH"]}).stdout.split("\0")[:-1]
    read = dict(zip(out[::2], out[1::2]))
    (tmp_path / "b.yaml").write_text(json.dumps({"services": {"app": {"image": "busybox", "environment": read}}}))

    def environment(name: str) -> dict:
        result = subprocess.run([*compose, "-f", name, "config"], cwd=tmp_path, capture_output=True, text=True,
                                env={k: v for k, v in os.environ.items() if k != "UNSET_IN_TEST"})
        assert result.returncode == 0, result.stderr
        return yaml.safe_load(result.stdout)["services"]["app"]["environment"]

    expected = environment("a.yaml")
    assert len(expected) == 11 and expected["I"] == "last wins"
    assert environment("b.yaml") == expected
