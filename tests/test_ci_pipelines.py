"""`translate --ci github|gitlab`: the jobs the step tree becomes, where the pipeline files go,
and that every corpus project that translates yields files the platforms' schemas accept.
(Real runs on the local runners: tests/test_ci_runs.py.)"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from conformance_report import discover_projects
from conftest import CORPUS, GOLDEN
from helpers import run_cli as run
from helpers import write_project

from translator.api import translate
from translator.ci.github import output_name
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


def test_serial_chain_and_parallel_fan_out():
    gh, gl = pipelines(STEP_KINDS)
    jobs = gh["jobs"]
    serial = next(j for j in jobs if j.startswith("s02-checks-serial-"))  # an auto-named nested group
    # top-level parallel group "checks": one job per branch, both after "unit"; the next step waits for both
    assert jobs["s02-checks-lint"]["needs"] == ["filters", "s01-unit"]
    assert jobs[serial]["needs"] == ["filters", "s01-unit"]
    assert jobs["s03-per-service-per-service-app"]["needs"] == ["filters", "s02-checks-lint", serial]
    # a serial group stays one job: the script runs it
    assert "--step 'one-after-another' " in jobs["s04-one-after-another"]["steps"][-1]["run"]
    # a failed job stops the later ones; a skipped (filtered-out) one does not
    assert jobs["s02-checks-lint"]["if"] == "${{ !cancelled() && !failure() }}"
    assert gl["stages"][:3] == ["s01-unit", "s02-checks", "s03-per-service"]
    assert gl["s02-checks-lint"]["stage"] == gl[serial]["stage"] == "s02-checks"
    assert "--step 'lint' " in gl["s02-checks-lint"]["script"][-1]


def test_manual_group_waits_for_the_platform_approval_and_push_only_on_pushes():
    gh, gl = pipelines(STEP_KINDS)
    manual = gh["jobs"]["s10-deploy-approval"]
    assert manual["environment"] == "codeship-approval"
    # fail closed: GitHub would create a missing environment without reviewers
    assert manual["if"].endswith("&& vars.CODESHIP_APPROVAL_READY == 'true' }}")
    assert "flags+=(--manual)" in manual["steps"][-1]["run"]
    assert gl["s10-deploy-approval"]["rules"] == [{"when": "manual"}]
    assert gl["s10-deploy-approval"]["allow_failure"] is False
    assert "--manual" in gl["s10-deploy-approval"]["script"][-1]
    release = gh["jobs"]["s09-release"]["steps"][-1]["run"]
    assert "if [[ $GITHUB_EVENT_NAME != pull_request* ]]; then flags+=(--push); fi" in release
    assert "--push" not in gh["jobs"]["s01-unit"]["steps"][-1]["run"]
    assert 'if [ "$CI_PIPELINE_SOURCE" != merge_request_event ]; then set -- --push; fi' in gl["s09-release"]["script"]


def test_aes_key_comes_from_the_secret_store_and_is_never_in_a_script():
    gh, gl = pipelines(STEP_KINDS)
    assert gh["env"]["CODESHIP_AES_KEY"] == "${{ secrets.CODESHIP_AES_KEY }}"
    for job in gh["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step  # values reach scripts as environment only
    text = yaml.safe_dump(gl)
    assert "CODESHIP_AES_KEY" not in text  # a masked CI/CD variable is in every job's environment


@pytest.mark.parametrize("tag,expected", [
    ("master", {"s06-flaky": True, "s07-only-master": True, "s08-not-on-feature-branches": True,
                "s09-release": False}),
    ("feature/x", {"s06-flaky": False, "s07-only-master": False, "s08-not-on-feature-branches": False,
                   "s09-release": False}),
    ("v1.2.3", {"s06-flaky": False, "s07-only-master": False, "s08-not-on-feature-branches": True,
                "s09-release": True}),
    ("^(master|release/.*)$", {"s06-flaky": True, "s07-only-master": False, "s08-not-on-feature-branches": True,
                               "s09-release": False}),  # jet: a tag equal to the filter's text matches
])
def test_github_filters_job_decides_like_the_script(tmp_path, tag, expected):
    gh, _ = pipelines(STEP_KINDS)
    decide = gh["jobs"]["filters"]
    out = tmp_path / "out"
    subprocess.run(["bash", "-euo", "pipefail", "-c", decide["steps"][0]["run"]], check=True,
                   env={**os.environ, "C2C_TAG": tag, "GITHUB_OUTPUT": str(out)})
    got = dict(line.split("=", 1) for line in out.read_text().splitlines())
    jobs = gh["jobs"]
    for job_id, runs in expected.items():
        assert got[output_name_of(jobs, job_id)] == ("true" if runs else "false"), job_id
        assert f"needs.filters.outputs.{output_name_of(jobs, job_id)} == 'true'" in jobs[job_id]["if"]
    assert "filters" not in jobs["s01-unit"]["if"]


def output_name_of(jobs: dict, job_id: str) -> str:
    class J:
        id = job_id
    return output_name(J)  # type: ignore[arg-type]


def test_gitlab_rules_use_the_re2_pattern():
    _, gl = pipelines(STEP_KINDS)
    assert gl["s06-flaky"]["rules"] == [
        {"if": '$CI_COMMIT_REF_NAME != "^(master|release/.*)$" && $CI_COMMIT_REF_NAME !~ /^(master|release\\/.*)$/',
         "when": "never"},
        {"when": "on_success"}]
    assert gl["s08-not-on-feature-branches"]["rules"][0] == {
        "if": '$CI_COMMIT_REF_NAME == "^feature/" || $CI_COMMIT_REF_NAME =~ /^feature\\//', "when": "never"}
    assert gl["s09-release"]["rules"][0]["if"].endswith("!~ /^v\\d+\\.\\d+\\.\\d+$/")
    assert "rules" not in gl["s01-unit"]


def test_pipeline_files_go_to_the_git_root_and_jobs_work_from_the_outputs_folder(tmp_path):
    repo = tmp_path / "repo"
    project = repo / "build" / "codeship"
    write_project(project, "app:\n  image: busybox\n  volumes:\n    - ./tmp/out:/out\n",
                  "- name: one\n  service: app\n  command: true\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    result = run("translate", str(project), "--ci", "github", "--ci", "gitlab", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    gh = yaml.safe_load((repo / ".github" / "workflows" / "codeship-build-codeship.yml").read_text())
    gl = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())
    assert gh["jobs"]["s01-one"]["steps"][1]["working-directory"] == "build/codeship"
    assert gl["default"]["before_script"][0] == "cd 'build/codeship' || exit"
    assert gl["s01-one"]["artifacts"]["paths"] == ["build/codeship/tmp/out"]  # host directories travel
    assert "'build/codeship/tmp/out'" in gh["jobs"]["s01-one"]["steps"][2]["run"]
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


def test_every_corpus_project_that_translates_yields_schema_valid_pipelines():
    projects = discover_projects(CORPUS)
    if not projects:
        pytest.skip(f"no corpus at {CORPUS}")
    github, gitlab = _schema("github-workflows.json"), _schema("gitlab-ci.json")
    checked, problems = 0, []
    for project in projects:
        result = translate(project.path, ci=("github", "gitlab"))
        if not result.ok:
            continue
        checked += 1
        for path, text in result.outputs.items():
            validator = github if path.parent.name == "workflows" else gitlab if path.name == ".gitlab-ci.yml" else None
            if validator is None:
                continue
            for error in validator.iter_errors(yaml.safe_load(text)):
                problems.append(f"{project.id}: {path.name}: {error.json_path}: {error.message[:200]}")
    assert checked > 100
    assert not problems, "\n".join(problems[:20])


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
    assert "a repository secret `CODESHIP_AES_KEY`" in report and "masked CI/CD variable `CODESHIP_AES_KEY`" in report
    assert "an environment `codeship-approval` with required reviewers" in report
    assert "Runners with Docker" in report
    chart = report.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert chart.splitlines() == [
        "flowchart TD",
        '  s01_unit["unit"]',
        '  subgraph s02_checks["checks (parallel: one job per branch)"]',
        '    s02_checks_lint["lint"]',
        '    s02_checks_say_hi["say #quot;hi#quot;<br/><i>tag: master</i>"]',
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
    gh, gl = pipelines(project, out)  # outputs in a subfolder: jobs cd there; host directories travel
    scripts = {f"github {job_id} {n}": ("bash", step["run"]) for job_id, job in gh["jobs"].items()
               for n, step in enumerate(job["steps"]) if "run" in step}
    for job_id, job in gl.items():
        if isinstance(job, dict) and "script" in job:
            scripts[f"gitlab {job_id}"] = ("sh", "\n".join(gl["default"]["before_script"] + job["script"]))
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
    gh, _ = pipelines(tmp_path)
    after = gh["jobs"]["s03-after"]
    assert after["needs"] == ["filters", "s02-tagged-gate", "s01-gate"]
    assert after["if"] == ("${{ !cancelled() && !failure() && needs.s01-gate.result == 'success' && "
                           "(needs.s02-tagged-gate.result == 'success' || "
                           "needs.filters.outputs.run_s02_tagged_gate != 'true') }}")
