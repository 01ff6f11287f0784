"""`translate --ci github|gitlab`: the jobs the step tree becomes, where the pipeline files go,
and that every corpus project that translates yields files the platforms' schemas accept.
(Real runs on the local runners: tests/test_ci_runs.py.)"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conformance_report import discover_projects
from conftest import CORPUS, GOLDEN
from helpers import run_cli as run
from helpers import write_project

from translator.api import translate
from translator.reporters import diagnostic_text

STEP_KINDS = GOLDEN / "step-kinds" / "input"


def pipelines(directory: Path, out: Path | None = None) -> tuple[dict, dict]:
    result = translate(directory, out, ci=("github", "gitlab"))
    assert result.ok, [diagnostic_text(d) for d in result.diagnostics]
    by_name = {"github" if p.parent.name == "workflows" else p.name: yaml.safe_load(text)
               for p, text in result.outputs.items() if p.suffix == ".yml"}
    return by_name["github"], by_name[".gitlab-ci.yml"]  # the workflow is named after the project's folder


def _schema(name: str):
    import importlib.resources

    import jsonschema

    text = (importlib.resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / name).read_text()
    schema = json.loads(text)
    return jsonschema.validators.validator_for(schema)(schema)


def fanout(directory: Path) -> tuple[dict, dict]:
    result = translate(directory, ci=("github", "gitlab"), ci_fanout=True)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    by_name = {"codeship.yml" if p.parent.name == "workflows" else p.name: yaml.safe_load(text)
                   for p, text in result.outputs.items() if p.suffix == ".yml"}
    return by_name["codeship.yml"], by_name[".gitlab-ci.yml"]


def part_steps(job: dict) -> list[dict]:
    return [s for s in job["steps"] if "C2C_STEP" in s.get("env", {})]


def test_one_runner_per_build_with_each_top_level_step_shown_on_its_own():
    gh, gl = pipelines(STEP_KINDS)
    assert list(gh["jobs"]) == ["build"]  # one runner, as on Codeship
    steps = part_steps(gh["jobs"]["build"])
    top = ["unit", "checks", "per-service", "one-after-another", "legacy-matrix", "flaky", "only master",
           "not on feature branches", "release", "deploy approval"]
    assert [s["env"]["C2C_STEP"] for s in steps] == top  # the script runs each, parallel branches side by side
    assert all('--step "$C2C_STEP"' in s["run"] for s in steps)
    # GitLab: one job, a log section per step; the manual group is the one boundary (a manual job)
    assert gl["stages"] == ["s01-build", "s02-deploy-approval"]
    script = gl["s01-build"]["script"]
    assert [line for line in script if line.startswith("./codeship-steps.sh")] == [
        f"./codeship-steps.sh --step '{name}' --tag \"$CI_COMMIT_REF_NAME\" \"$@\"" for name in top[:-1]]
    assert sum("section_start:" in line for line in script) == len(top) - 1
    assert gl["s02-deploy-approval"]["rules"] == [
        {"if": "$CI_PIPELINE_SOURCE !~ /^(merge_request_event|external_pull_request_event)$/", "when": "manual"}]
    assert gl["s02-deploy-approval"]["allow_failure"] is False
    assert 'set -- "$@" --manual' in gl["s02-deploy-approval"]["script"]


def test_ci_fanout_keeps_parallel_branches_on_runners_of_their_own():
    gh, gl = fanout(STEP_KINDS)
    jobs = gh["jobs"]
    serial = next(j for j in jobs if j.startswith("s02-checks-serial-"))  # an auto-named nested group
    assert jobs["s02-checks-lint"]["needs"] == ["s01-unit"] and jobs[serial]["needs"] == ["s01-unit"]
    assert jobs["s03-per-service-per-service-app"]["needs"] == ["s02-checks-lint", serial]
    assert jobs[serial]["name"] == "checks / serial: app: echo first, app: echo list form kept as is"
    assert "!cancelled() && !failure()" in jobs["s02-checks-lint"]["if"]
    assert gl["stages"][:3] == ["s01-unit", "s02-checks", "s03-per-service"]
    assert gl["s02-checks-lint"]["stage"] == gl[serial]["stage"] == "s02-checks"
    # the manual group's job starts only in an approved build
    assert jobs["s10-deploy-approval"]["if"].endswith("&& inputs.approve }}")
    # a plain branch-name filter keeps the runner from starting; a regex one is left to the script
    assert jobs["s07-only-master"]["if"].endswith("&& github.event_name != 'pull_request' && github.ref_name == 'master' }}")
    assert "ref_name" not in jobs["s06-flaky"]["if"]
    result = run("translate", str(STEP_KINDS), "--ci-fanout")
    assert result.exit_code == 2 and "--ci github" in result.stderr  # needs --ci


def test_gitlab_rules_use_the_re2_pattern():
    """(What the rules decide, on gitlab-ci-local's evaluator: tests/test_gitlab_rules.py.)"""
    _, gl = fanout(STEP_KINDS)
    flaky = gl["s06-flaky"]["rules"]
    assert len(flaky) == 1 and "when" not in flaky[0]  # no rule matches: the job is left out
    assert "$CI_COMMIT_REF_NAME =~ /^(master|release\\x{2F}.*)$/" in flaky[0]["if"]
    assert "$CI_COMMIT_REF_NAME !~ /^feature\\x{2F}/" in gl["s08-not-on-feature-branches"]["rules"][0]["if"]
    assert gl["s09-release"]["rules"][0]["if"].endswith("=~ /^v\\d+\\.\\d+\\.\\d+$/)")
    assert "rules" not in gl["s01-unit"]


def test_triggers_are_codeships_pushes_with_no_second_run_and_a_time_limit():
    for gh in (pipelines(STEP_KINDS)[0], fanout(STEP_KINDS)[0]):
        assert set(gh["on"]) == {"push", "pull_request", "workflow_dispatch"}
        assert gh["on"]["push"] == {"branches": ["**"], "tags": ["**"]}
        for job in gh["jobs"].values():
            # a pull request runs only from a fork: a branch of this repository is built by its push
            assert "github.event.pull_request.head.repo.full_name != github.repository" in job["if"]
            assert job["timeout-minutes"] == "${{ fromJSON(vars.CODESHIP_TIMEOUT_MINUTES || '60') }}"
        # this project deploys (filters, push, manual): a running build is cancelled only for a pull request
        assert gh["concurrency"]["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"
        assert "pull_request" not in json.dumps(gh["jobs"]).replace("github.event_name != 'pull_request'", "")\
            .replace("pull_request*", "").replace("github.event.pull_request.head", "")
    plain = pipelines(GOLDEN / "volumes-share-within-step" / "input")[0]
    assert plain["concurrency"]["cancel-in-progress"] is True  # nothing that deploys: superseded runs go


def test_settings_say_what_a_build_runs(tmp_path):
    """The settings step's bash, run for each kind of build: the flags every step gets."""
    gh, _ = pipelines(STEP_KINDS)
    settings = gh["jobs"]["build"]["steps"][1]["run"]

    def flags(event: str, approve: str = "", approvers: str = "", actor: str = "alice") -> tuple[int, str]:
        env_file = tmp_path / "env"
        env_file.write_text("")
        proc = subprocess.run(["bash", "-eo", "pipefail", "-c", settings], capture_output=True, text=True,
                              env={**os.environ, "GITHUB_EVENT_NAME": event, "GITHUB_ENV": str(env_file),
                                   "C2C_ASKED_APPROVAL": approve, "C2C_MAY_APPROVE": approvers,
                                   "GITHUB_TRIGGERING_ACTOR": actor})
        return proc.returncode, env_file.read_text() + proc.stdout

    assert flags("push") == (0, "C2C_FLAGS=--push\n" + flags("push")[1].split("\n", 1)[1])
    code, out = flags("pull_request")
    assert "C2C_FLAGS=--pull-request\n" in out and "gives it no secrets" in out
    code, out = flags("workflow_dispatch", "true")
    assert code == 0 and "C2C_APPROVED=true" in out and "C2C_FLAGS=--push --manual" in out
    code, out = flags("workflow_dispatch", "true", "bob, carol")
    assert code == 1 and "C2C_APPROVED" not in out and "may not approve" in out
    assert flags("workflow_dispatch", "true", "bob,alice")[0] == 0
    gated = [s["name"] for s in part_steps(gh["jobs"]["build"]) if "if" in s]
    assert gated == ["deploy approval"]  # runs only in the approved build


def test_aes_key_reaches_only_the_steps_that_decrypt(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\nsecret:\n  image: busybox\n  encrypted_env_file: s.encrypted\n",
                  "- name: plain\n  service: app\n  command: 'true'\n"
                  "- name: decrypts\n  service: secret\n  command: 'true'\n", **{"s.encrypted": "x"})
    gh, gl = pipelines(tmp_path)
    assert "env" not in gh  # never workflow-level
    holders = [s["name"] for s in gh["jobs"]["build"]["steps"] if "CODESHIP_AES_KEY" in s.get("env", {})]
    assert holders == ["decrypts"]
    assert not [s for s in gh["jobs"]["build"]["steps"] if "uses" in s and "env" in s]  # no action gets it
    assert "CODESHIP_AES_KEY is empty" in part_steps(gh["jobs"]["build"])[1]["run"]
    assert "CODESHIP_AES_KEY" not in yaml.safe_dump(gl)  # a masked CI/CD variable is in every job's environment


def test_shared_flags_are_written_once_and_no_job_is_named_by_a_hash():
    gh, gl = fanout(STEP_KINDS)
    text = json.dumps(gh) + json.dumps(gl)
    assert "--ci-" not in text  # the script takes CI_* from the platform's own variables
    names = [j["name"] for j in gh["jobs"].values()] + [
        s["name"] for j in pipelines(STEP_KINDS)[0]["jobs"].values() for s in j["steps"] if "name" in s]
    assert not [n for n in names if re.search(r"-[0-9a-f]{8}\b", n)], names
    assert "per-service / app: echo on each service" not in names  # a services expansion keeps its group's name
    assert "checks / lint" in names


def test_pipeline_files_go_to_the_git_root_and_jobs_work_from_the_outputs_folder(tmp_path):
    repo = tmp_path / "repo"
    project = repo / "build" / "codeship"
    write_project(project, "app:\n  image: busybox\n  volumes:\n    - ./tmp/out:/out\n",
                  "- name: one\n  service: app\n  command: true\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    result = run("translate", str(project), "--ci", "github", "--ci", "gitlab", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    gh = yaml.safe_load((repo / ".github" / "workflows" / "codeship-build--codeship.yml").read_text())
    gl = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())
    assert part_steps(gh["jobs"]["build"])[0]["working-directory"] == "build/codeship"
    assert gh["name"] == "Codeship steps (build/codeship)"  # its own concurrency group in a monorepo
    assert "cd 'build/codeship' || exit" in gl["default"]["before_script"]
    assert "artifacts" not in gl["build"]  # one runner: nothing needs to travel
    # split into jobs (--ci-fanout), the host directories travel from job to job
    write_project(project, "app:\n  image: busybox\n  volumes:\n    - ./tmp/out:/out\n",
                  "- name: one\n  service: app\n  command: true\n- name: two\n  service: app\n  command: true\n")
    result = run("translate", str(project), "--ci", "github", "--ci", "gitlab", "--ci-fanout", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    gh = yaml.safe_load((repo / ".github" / "workflows" / "codeship-build--codeship.yml").read_text())
    gl = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())
    assert gl["s01-one"]["artifacts"]["paths"] == [".c2c-workspace/"]
    assert "'build/codeship/tmp/out'" in gl["s01-one"]["script"][-1]
    assert any("'build/codeship/tmp/out'" in s.get("run", "") for s in gh["jobs"]["s01-one"]["steps"])
    # outside a git repository: next to the outputs
    plain = tmp_path / "plain"
    write_project(plain, "app:\n  image: busybox\n")
    assert run("translate", str(plain), "--ci", "gitlab", cwd=tmp_path).exit_code == 0
    assert (plain / ".gitlab-ci.yml").is_file() and not (plain / ".github").exists()


def test_a_pipeline_file_not_written_by_codeship2compose_is_never_replaced(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n")
    (tmp_path / ".gitlab-ci.yml").write_text("mine: {script: [true]}\n")
    result = run("translate", ".", "--ci", "gitlab", cwd=tmp_path)
    assert result.exit_code == 3
    assert ".gitlab-ci.yml: error: exists and was not written by codeship2compose" in result.stderr
    assert (tmp_path / ".gitlab-ci.yml").read_text() == "mine: {script: [true]}\n"
    assert not (tmp_path / "compose.yaml").exists()  # all or nothing
    assert run("translate", ".", "--ci", "gitlab", "--force", cwd=tmp_path).exit_code == 0
    assert run("translate", ".", "--ci", "gitlab", cwd=tmp_path).exit_code == 0  # its own file: replaced


def test_every_corpus_project_that_translates_yields_schema_valid_pipelines(tmp_path):
    """Both layouts, both schemas, and `act --validate` on every GitHub workflow (when act is here)."""
    projects = discover_projects(CORPUS)
    if not projects:
        pytest.skip(f"no corpus at {CORPUS}")
    github, gitlab = _schema("github-workflows.json"), _schema("gitlab-ci.json")
    checked, problems = 0, []
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for n, project in enumerate(projects):
        for fan in (False, True):
            result = translate(project.path, ci=("github", "gitlab"), ci_fanout=fan)
            if not result.ok:
                continue
            checked += 1
            for path, text in result.outputs.items():
                validator = (github if path.parent.name == "workflows" else gitlab if path.name == ".gitlab-ci.yml"
                             else None)
                if validator is None:
                    continue
                if validator is github:
                    (workflows / f"p{n}-{fan}.yml").write_text(text)
                for error in validator.iter_errors(yaml.safe_load(text)):
                    problems.append(f"{project.id}: {path.name}: {error.json_path}: {error.message[:200]}")
    assert checked > 200
    assert not problems, "\n".join(problems[:20])
    if shutil.which("act"):
        bad = [p.name for p in sorted(workflows.iterdir())
               if subprocess.run(["act", "--validate", "-W", str(p)], cwd=tmp_path, capture_output=True).returncode]
        assert not bad, bad


def test_migration_report_lists_the_platform_set_up_and_draws_the_pipeline(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n  encrypted_env_file: env.encrypted\n", """\
        - name: unit
          service: app
          command: 'true'
        - type: parallel
          name: checks
          service: app
          steps:
            - name: lint
              command: 'true'
            - name: "say \\"hi\\""
              command: 'true'
              tag: master
        - type: manual
          name: ship it
          steps:
            - name: deploy
              service: app
              command: 'true'
        """, **{"env.encrypted": "x"})
    result = run("translate", ".", "--ci", "github", "--ci", "gitlab", "--report", "report.md", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    report = (tmp_path / "report.md").read_text()
    assert "GitHub: Secret: a repository secret CODESHIP_AES_KEY" in report
    assert "GitLab: Secret: a masked CI/CD variable CODESHIP_AES_KEY" in report
    assert "works on every plan" in report and "Codeship let only the project's owners approve" in report
    assert "What a build costs" in report and "| github | one runner per build | 1 / 1 / 0 |" in report
    assert "environment scope codeship-secrets" in report  # only the jobs that decrypt receive the key
    assert "C2C_GITLAB_DOCKER=host" in report  # the runner kinds without Docker-in-Docker
    # in the order a team does it, as the README's CI section lists it: runner, secret, approval
    for platform, items in (("GitHub", ["Secret", "Approval gate"]), ("GitLab", ["Runner", "Secret", "Approval gate"])):
        at = [report.index(f"{platform}: {item}:") for item in items]
        assert at == sorted(at), platform
    chart = report.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert chart.splitlines() == [
        "flowchart TD",
        '  subgraph build["Codeship build (one runner, steps in order)"]',
        '    build_0["unit"]',
        '    build_1["checks"]',
        '    build_2["ship it<br/><i>manual approval</i>"]',
        "  end",
    ]
    # the set-up items are printed too, and head each pipeline file
    assert "Set up on GitHub before the first run:\n  1. Secret: a repository secret CODESHIP_AES_KEY" in result.stderr
    assert "# 2. Approval gate:" in (tmp_path / ".github" / "workflows" / "codeship.yml").read_text()
    result = run("translate", ".", "--ci", "github", "--ci-fanout", "--report", "report.md", cwd=tmp_path)
    chart = (tmp_path / "report.md").read_text().split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert chart.splitlines() == [
        "flowchart TD",
        '  s01_unit["unit"]',
        '  subgraph s02_checks["checks (parallel: one job per branch)"]',
        '    s02_checks_lint_0["lint"]',
        '    s02_checks_say_hi_0["say #quot;hi#quot;<br/><i>tag: master</i>"]',
        "  end",
        '  s03_ship_it["ship it<br/><i>manual approval</i>"]',
        "  s01_unit --> s02_checks",
        "  s02_checks --> s03_ship_it",
    ]
    # without --ci the report has no CI section
    assert "mermaid" not in (run("translate", ".", "--report", "plain.md", "--force", cwd=tmp_path), 
                             (tmp_path / "plain.md").read_text())[1]


def test_job_scripts_are_shellcheck_clean(tmp_path):
    from conftest import need_tool

    need_tool("shellcheck", "--version")
    project = write_project(tmp_path, "app:\n  image: busybox\n  volumes:\n    - ./tmp:/data\n",
                            (STEP_KINDS / "codeship-steps.yml").read_text().replace("worker", "app")
                            .replace("service: web", "service: app"))
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    out = project / "ci"
    scripts = {}
    for fan in (False, True):  # outputs in a subfolder: jobs cd there; host directories travel
        result = translate(project, out, ci=("github", "gitlab"), ci_fanout=fan)
        by_name = {"codeship.yml" if p.parent.name == "workflows" else p.name: yaml.safe_load(text)
                   for p, text in result.outputs.items() if p.suffix == ".yml"}
        gh, gl = by_name["codeship.yml"], by_name[".gitlab-ci.yml"]
        scripts.update({f"github {fan} {job_id} {n}": ("bash", step["run"]) for job_id, job in gh["jobs"].items()
                        for n, step in enumerate(job["steps"]) if "run" in step})
        for job_id, job in gl.items():
            if isinstance(job, dict) and "script" in job:
                scripts[f"gitlab {fan} {job_id}"] = ("sh", "\n".join(gl["default"]["before_script"] + job["script"]))
                for n, line in enumerate(job.get("after_script", [])):
                    scripts[f"gitlab {fan} {job_id} after {n}"] = ("sh", line)
    assert len(scripts) > 40
    for what, (shell, text) in scripts.items():
        proc = subprocess.run(["shellcheck", "-s", shell, "-"], input=text, capture_output=True, text=True)
        assert proc.returncode == 0, f"{what}:\n{text}\n{proc.stdout}"


def test_check_covers_the_pipeline_files(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n")
    assert run("translate", ".", "--ci", "gitlab", cwd=tmp_path).exit_code == 0
    assert run("translate", ".", "--ci", "gitlab", "--check", cwd=tmp_path).exit_code == 0
    assert run("translate", ".", "--ci", "gitlab", "--ci", "github", "--check", cwd=tmp_path).exit_code == 1
    (tmp_path / ".gitlab-ci.yml").write_text((tmp_path / ".gitlab-ci.yml").read_text() + "# mine\n")
    result = run("translate", ".", "--ci", "gitlab", "--check", cwd=tmp_path)
    assert result.exit_code == 1 and ".gitlab-ci.yml: stale (edited by hand)" in result.stderr


def test_a_step_name_used_twice_is_warned_with_its_location(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n", """\
        - name: test
          service: app
          command: 'true'
        - name: test
          service: app
          command: 'false'
        """)
    result = translate(tmp_path, ci=("gitlab",))
    assert result.ok
    warnings = [d for d in result.diagnostics if d.code == "C2C701"]
    assert [(w.loc.line, w.loc.col) for w in warnings] == [(1, 3), (4, 3)]  # each job that runs both
    assert all("give the step a name of its own" in w.hint for w in warnings)
    assert not [d for d in translate(tmp_path).diagnostics if d.code == "C2C701"]  # only with --ci


def test_github_jobs_after_a_manual_group_wait_for_it(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n", """\
        - type: manual
          name: gate
          steps:
            - service: app
              command: 'true'
        - type: manual
          name: tagged gate
          tag: master
          steps:
            - service: app
              command: 'true'
        - name: after
          service: app
          command: 'true'
        """)
    gh, gl = pipelines(tmp_path)
    steps = part_steps(gh["jobs"]["build"])
    assert [("if" in s) for s in steps] == [True, True, True]  # the approved build runs them, in order
    assert gl["stages"] == ["s01-gate", "s02-tagged-gate", "s03-build"]  # the later stages wait (allow_failure: false)
    assert gl["s02-tagged-gate"]["rules"] == [{"if": "$CI_PIPELINE_SOURCE !~ /^(merge_request_event|external_pull_request_event)$/"
                                                     ' && $CI_COMMIT_REF_NAME == "master"', "when": "manual"}]
    gh, _ = fanout(tmp_path)
    assert all(job["if"].endswith("&& inputs.approve }}") for job in gh["jobs"].values())


def test_a_pull_requests_build_runs_no_filtered_step_and_step_selection_hides_the_manual_group(tmp_path):
    """--pull-request (what the CI jobs pass for a pull/merge request) skips every step behind a
    tag: or exclude: filter, nested ones too; --step NAME says nothing of a manual group it did not choose."""
    from helpers import translate_to_disk

    write_project(tmp_path, "app:\n  image: busybox\n", """\
        - name: plain
          service: app
          command: 'true'
        - name: only master
          service: app
          command: 'true'
          tag: master
        - type: serial
          name: group
          steps:
            - name: not feature
              service: app
              command: 'true'
              exclude: ^feature/
        - type: manual
          name: gate
          steps:
            - name: deploy
              service: app
              command: 'true'
        """)
    translate_to_disk(tmp_path)
    script = str(tmp_path / "codeship-steps.sh")

    def listed(*args: str) -> dict[str, str]:
        out = subprocess.run([script, "--list", *args], capture_output=True, text=True, check=True).stdout
        rows = [re.match(r"\[(run |skip)\]\s+\w+ (.+?)(  |$)", line) for line in out.splitlines()]
        return {m.group(2): m.group(1) for m in rows if m}

    assert listed("--tag", "master")["only master"] == "run "
    got = listed("--tag", "master", "--pull-request")
    assert got["plain"] == "run " and got["only master"] == "skip" and got["not feature"] == "skip"
    dry = subprocess.run([script, "--dry-run", "--step", "plain"], capture_output=True, text=True).stdout
    assert "gate" not in dry and "manual" not in dry
    dry = subprocess.run([script, "--dry-run", "--step", "deploy"], capture_output=True, text=True).stdout
    assert "0 steps would run, 1 skipped" in dry


@pytest.mark.parametrize("fanout", [True, False])
def test_a_host_directory_outside_the_repository_is_refused_where_jobs_split(tmp_path, fanout):
    repo = tmp_path / "repo"
    project = repo / "ci"
    write_project(project, "app:\n  image: busybox\n  volumes:\n    - ../../outside:/o\n",
                  "- name: one\n  service: app\n  command: 'true'\n- type: manual\n  name: gate\n  steps:\n"
                  "  - name: two\n    service: app\n    command: 'true'\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    args = ["translate", str(project), "--ci", "github"] + (["--ci-fanout"] if fanout else ["--ci", "gitlab"])
    result = run(*args, cwd=tmp_path)
    assert result.exit_code == 1
    assert "error[C2C710]" in result.stderr and "'../../outside:/o'" in result.stderr
    assert ("leave out --ci-fanout" in result.stderr) == fanout
    assert not (repo / ".gitlab-ci.yml").exists()
    # one runner per build (GitHub never splits at a manual group): nothing needs to travel
    assert run("translate", str(project), "--ci", "github", cwd=tmp_path).exit_code == 0


def test_forecast_counts_runner_starts_jobs_and_images_per_build():
    from translator.ci.forecast import forecast
    from translator.project import load_project

    project, _ = load_project(STEP_KINDS)
    fc = forecast(project)
    assert set(fc) == {"default", "fanout"} and set(fc["default"]) == {"default_branch", "feature_branch", "tag"}
    assert fc["default"]["default_branch"] == {"runner_starts": 1, "jobs": 1, "images_built": 0}
    assert fc["default"]["tag"]["images_built"] == 1  # the release push builds web on a v1.2.3 tag
    # fan-out: a job per top-level step and per parallel branch; the manual job waits
    assert fc["fanout"]["default_branch"]["jobs"] == 13 and fc["fanout"]["default_branch"]["runner_starts"] == 12
    gl = forecast(project, platform="gitlab")
    assert gl["default"]["default_branch"] == {"runner_starts": 1, "jobs": 2, "images_built": 0}
    # GitLab's rules leave the filtered jobs out: feature branches start fewer runners
    assert gl["fanout"]["feature_branch"]["runner_starts"] < gl["fanout"]["default_branch"]["runner_starts"]


def test_the_approval_instructions_name_the_projects_own_workflow(tmp_path):
    """A project in a folder has the workflow `Codeship steps (FOLDER)`: the set-up item and the
    run's notice said 'Actions > Codeship steps', a workflow that is not there in a monorepo."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write_project(repo / "svc", "app:\n  image: busybox\n",
                  "- {name: t, service: app, command: 'true'}\n"
                  "- type: manual\n  name: ok\n  steps:\n  - {name: d, service: app, command: 'true'}\n")
    result = translate(repo / "svc", ci=("github",))
    gh = yaml.safe_load(next(t for p, t in result.outputs.items() if p.parent.name == "workflows"))
    assert gh["name"] == "Codeship steps (svc)"
    assert any("Actions > Codeship steps (svc) > Run workflow" in item for item in result.ci_setup["github"])
    settings = gh["jobs"]["build"]["steps"][1]["run"]
    proc = subprocess.run(["bash", "-c", settings], capture_output=True, text=True,
                          env={**os.environ, "GITHUB_EVENT_NAME": "push", "GITHUB_ENV": str(tmp_path / "env"),
                               "C2C_ASKED_APPROVAL": "", "GITHUB_WORKFLOW": gh["name"]})
    assert "(Actions > Codeship steps (svc) > Run workflow)" in proc.stdout, proc.stdout + proc.stderr
