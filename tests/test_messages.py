"""Messages a user can act on (issue 24): the mistake named where it was made, hints that fit,
every problem of both files in one run, no noise."""

from __future__ import annotations

from helpers import check, diag, run_cli, write_project

OK_STEPS = "- service: app\n  command: 'true'\n"


def _texts(result) -> list[str]:
    from translator.reporters import diagnostic_text

    return [diagnostic_text(d) for d in result.diagnostics]


# item 4: indentation mistakes said as what happened

def test_a_service_key_moved_to_the_top_level_is_named_as_the_key_of_the_service_above(tmp_path):
    result = check(write_project(tmp_path, "app:\n  image: busybox\nlinks:\n  - db\ndb:\n  image: busybox\n",
                                 OK_STEPS))
    d = diag(result, "C2C760")
    assert (d.loc.line, d.loc.col) == (3, 1)
    assert "key of service 'app'" in d.message and "indent `links:` under service 'app'" in d.hint
    assert not [x for x in result.diagnostics if x.code in ("C2C102", "C2C105")]


def test_a_service_named_like_a_key_is_still_a_service(tmp_path):
    result = check(write_project(tmp_path, "build:\n  image: busybox\n", OK_STEPS.replace("app", "build")))
    assert result.ok and not result.diagnostics


def test_step_keys_outdented_to_the_group_level_are_named_so(tmp_path):
    steps = ("- type: parallel\n  steps:\n  - service: app\n    command: a\n  - name: b\n"
             "  service: app\n  command: b\n")
    result = check(write_project(tmp_path, "app:\n  image: busybox\n", steps))
    d = diag(result, "C2C761")
    assert d.loc.line == 7 and "the step at line 5" in d.message
    assert "'service:' and 'command:'" in d.hint
    assert "C2C205" not in [x.code for x in result.diagnostics]  # "remove 'service' here" would break it


def test_a_group_service_written_after_its_steps_gets_a_hint_about_indentation(tmp_path):
    steps = "- type: parallel\n  steps:\n  - service: app\n    command: a\n  - command: b\n  service: app\n"
    d = diag(check(write_project(tmp_path, "app:\n  image: busybox\n", steps)), "C2C205")
    assert "comes after its steps" in d.hint and "line 6" in d.hint


def test_a_dash_without_a_space_is_reported_on_its_own_line(tmp_path):
    steps = "-type: serial\n  steps:\n  - service: app\n    command: x\n"
    d = diag(check(write_project(tmp_path, "app:\n  image: busybox\n", steps)), "C2C002")
    assert (d.loc.line, d.loc.col) == (1, 1)
    assert "no space after its '-'" in d.message and "`- type: serial`" in d.hint


def test_a_dash_without_a_space_that_parses_as_a_mapping(tmp_path):
    d = diag(check(write_project(tmp_path, "app:\n  image: busybox\n", "-name: x\n")), "C2C200")
    assert "no space after its '-'" in d.hint and "`- name`" in d.hint


# item 7: both files' problems in one run

def test_a_yaml_error_in_the_services_file_does_not_hide_the_steps_file_problems(tmp_path):
    result = check(write_project(tmp_path, "app:\n  image: [busybox\n", "- type: sequence\n  steps: []\n"))
    assert {"C2C002", "C2C203"} <= {d.code for d in result.diagnostics}


def test_a_yaml_error_in_the_steps_file_does_not_hide_the_services_file_problems(tmp_path):
    result = check(write_project(tmp_path, "app: busybox\n", "- service: [app\n"))
    assert {"C2C002", "C2C102"} <= {d.code for d in result.diagnostics}


# item 6: the folder argument

def test_check_a_folder_that_does_not_exist(tmp_path):
    result = run_cli("check", str(tmp_path / "nosuchdir"))
    assert result.exit_code == 1 and "no such folder" in result.stdout


def test_a_file_given_for_the_folder_is_a_usage_error_naming_the_option(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n", OK_STEPS)
    result = run_cli("check", str(tmp_path / "codeship-services.yml"))
    assert result.exit_code == 2 and f"--services {tmp_path / 'codeship-services.yml'}" in result.stderr
    result = run_cli("check", str(tmp_path / "codeship-steps.yml"))
    assert result.exit_code == 2 and "--steps" in result.stderr


def test_no_hint_shows_a_literal_backslash_n(tmp_path):
    for services, steps, code in (("- app\n", OK_STEPS, "C2C100"), ("app:\n  image: busybox\n", "", "C2C200")):
        write_project(tmp_path, services, None)
        (tmp_path / "codeship-steps.yml").write_text(steps)  # write_project would write a step for ""
        d = diag(check(tmp_path), code)
        assert "\\n" not in (d.hint or "") and "\\n" not in d.message


# item 5: no false or repeated warnings

def test_a_step_repeated_per_service_by_its_group_is_not_a_duplicate_name(tmp_path):
    steps = ("- type: parallel\n  services: [app, db]\n  steps:\n  - name: tests\n    command: x\n"
             "- name: tests\n  service: app\n  command: y\n")
    result = check(write_project(tmp_path, "app:\n  image: busybox\ndb:\n  image: busybox\n", steps))
    dups = [d for d in result.diagnostics if d.code == "C2C302"]
    assert len(dups) == 1 and dups[0].loc.line == 6 and "first at line 4" in dups[0].message


def test_identical_builds_of_one_image_name_are_not_warned_about(tmp_path):
    services = "a:\n  build:\n    image: x\nb:\n  build:\n    image: x\n    context: ./\n"
    assert "C2C404" not in [d.code for d in check(write_project(tmp_path, services, "- service: a\n  command: x\n"))
                            .diagnostics]


def test_builds_that_differ_are_warned_about_with_what_differs(tmp_path):
    services = "a:\n  build:\n    image: x\n    args: {A: '1'}\nb:\n  build:\n    image: x\n    args: {A: '2'}\n"
    d = diag(check(write_project(tmp_path, services, "- service: a\n  command: x\n")), "C2C404")
    assert "different args" in d.message


def test_a_missing_encrypted_file_is_one_warning_naming_every_user(tmp_path):
    services = ("app:\n  image: busybox\n  encrypted_env_file: s.encrypted\n"
                "db:\n  image: busybox\n  encrypted_env_file: ./s.encrypted\n"
                "  encrypted_dockercfg_path: cfg.encrypted\n")
    steps = "- service: app\n  command: x\n  encrypted_dockercfg_path: cfg.encrypted\n"
    warnings = [d for d in check(write_project(tmp_path, services, steps)).diagnostics if d.code == "C2C405"]
    assert len(warnings) == 2
    first, second = sorted(warnings, key=lambda d: d.message)
    assert "'cfg.encrypted'" in first.message and "service 'db'" in first.message and "step '" in first.message
    assert "'s.encrypted'" in second.message and "service 'app'" in second.message and "service 'db'" in second.message
    assert second.loc.line == 3


# item 6: hints that fit

def test_a_missing_env_file_that_looks_encrypted_suggests_encrypted_env_file(tmp_path):
    d = diag(check(write_project(tmp_path, "app:\n  image: busybox\n  env_file: .env.prod.encrypted\n", OK_STEPS)),
             "C2C402")
    assert "did you mean `encrypted_env_file:`" in d.hint


def test_service_keys_in_the_wrong_place_get_a_did_you_mean(tmp_path):
    result = check(write_project(tmp_path, "app:\n  build:\n    add_docker: true\n    build: {context: .}\n",
                                 OK_STEPS + "  cached: true\n"))
    hints = {d.message: d.hint for d in result.diagnostics}
    assert any("add_docker" in m and "a service key, next to build" in (h or "") for m, h in hints.items())
    assert any("'build'" in m and "one `build:`" in (h or "") for m, h in hints.items())
    assert any("'cached'" in m and "on the service in codeship-services.yml" in (h or "") for m, h in hints.items())


def test_c2c101_and_c2c104_have_a_hint(tmp_path):
    services = "version: '2'\nservices:\n  app:\n    image: busybox\n    privileged: true\nvolumes:\n  d: {}\n"
    result = check(write_project(tmp_path, services, OK_STEPS))
    assert "remove the top-level 'volumes'" in diag(result, "C2C101").hint
    assert "remove it" in diag(result, "C2C104").hint


def test_an_undefined_service_is_reported_at_the_key_that_names_it_with_the_services_listed(tmp_path):
    steps = ("- type: serial\n  service: ap\n  steps:\n  - name: a\n    command: x\n  - name: b\n    command: y\n"
             "- name: test\n  command: y\n  service: db\n")
    result = check(write_project(tmp_path, "app:\n  image: busybox\nweb:\n  image: busybox\n", steps))
    errors = [d for d in result.diagnostics if d.code == "C2C301"]
    assert [(d.loc.line, d.loc.col) for d in errors] == [(2, 3), (10, 3)]  # the group's service: once
    assert "did you mean 'app'?" in errors[0].hint and "'app', 'web'" in errors[1].hint


# item 8: an invalid tag regex fails check, and translate keeps jet's behaviour

def test_an_invalid_tag_regex_fails_check_with_one_clear_sentence(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n", OK_STEPS + "  tag: ^(master\n")
    result = run_cli("check", str(tmp_path))
    assert result.exit_code == 1
    assert ("error[C2C503]: tag '^(master' is not a valid regex (" in result.stdout
            and "), so it matches no branch or tag except one named exactly '^(master'\n" in result.stdout)


def test_translate_keeps_jets_behaviour_for_an_invalid_tag_regex_and_warns(tmp_path):
    from helpers import translate

    result = translate(write_project(tmp_path, "app:\n  image: busybox\n", OK_STEPS + "  tag: ^(master\n"))
    assert result.ok and [d.code for d in result.diagnostics] == ["C2C762"]
    assert "the script keeps this jet behaviour" in result.diagnostics[0].message


# item 9: generate says what an existing key is worth before --force

def test_generate_over_an_existing_key_says_it_decrypts_the_encrypted_files(tmp_path):
    (tmp_path / "codeship.aes").write_text("old key\n")
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "prod.env.encrypted").write_text("x")
    result = run_cli("generate", cwd=tmp_path)
    assert result.exit_code == 3 and (tmp_path / "codeship.aes").read_text() == "old key\n"
    hint = result.stderr.split("hint: ", 1)[1]
    assert hint.startswith("keep this key: ci/prod.env.encrypted needs the key it was encrypted with")
    assert hint.index("back it up") < hint.index("--force")
    (tmp_path / "ci" / "prod.env.encrypted").unlink()
    assert "the project's key, the only one that decrypts" in run_cli("generate", cwd=tmp_path).stderr


# item 13: explain without the source checkout

def test_explain_list_names_every_code_with_its_title():
    from translator.catalogue import CODES

    result = run_cli("explain", "--list")
    assert result.exit_code == 0
    for entry in CODES:
        assert f"{entry.code}  {entry.level!s:<7}  {entry.title}\n" in result.stdout
    assert "explain CODE" in result.stdout


def test_explain_points_at_what_a_pip_user_has():
    out = run_cli("explain", "C2C205").stdout
    assert "Every code: docs/diagnostics.md" not in out and "codeship2compose explain --list" in out


def test_explain_c2c104_says_ports_go_to_the_override_file():
    out = run_cli("explain", "C2C104").stdout
    assert "compose.override.yaml" in out and "(ports, " not in out


# item 14: wording

def test_one_warning_is_singular(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n  privileged: true\n", OK_STEPS)
    assert "ok: the Codeship files are valid (1 warning)\n" in run_cli("check", str(tmp_path)).stdout
    result = run_cli("check", str(tmp_path), "--strict")
    assert "failed: 0 errors and 1 warning (--strict)\n" in result.stdout


def test_key_commands_speak_of_keys_not_codeship_files():
    for command in ("encrypt", "decrypt", "generate"):
        out = run_cli(command, "--help").stdout
        assert "Codeship files" not in out and "the key" in out


def test_a_bad_key_variable_is_named_as_the_variable(tmp_path, monkeypatch):
    import pytest

    pytest.importorskip("cryptography")
    (tmp_path / "x").write_text("A=b\n")
    monkeypatch.setenv("CODESHIP_AES_KEY", "not base64!")
    result = run_cli("encrypt", "x", "y", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: environment variable CODESHIP_AES_KEY does not contain valid base64")
    assert "codeship.aes" not in result.stderr


# item 15: a first run after `pip install` alone

def test_init_example_writes_a_project_that_translates_cleanly(tmp_path):
    from helpers import translate

    result = run_cli("init-example", "ex", cwd=tmp_path)
    assert result.exit_code == 0 and "codeship2compose translate ./ex" in result.stderr
    translated = translate(tmp_path / "ex")
    assert translated.ok and not translated.diagnostics


def test_init_example_never_writes_into_a_folder_with_files(tmp_path):
    (tmp_path / "codeship-services.yml").write_text("mine\n")
    result = run_cli("init-example", str(tmp_path))
    assert result.exit_code == 3 and "not empty" in result.stderr
    assert (tmp_path / "codeship-services.yml").read_text() == "mine\n"


# item 12: the report's manual tasks

_PUSHES = ("- type: serial\n  encrypted_dockercfg_path: dockercfg.encrypted\n  steps:\n"
           + "".join(f"  - name: push{i}\n    type: push\n    service: app\n    image_name: me/app{i}\n"
                     for i in range(3))
           + "- type: manual\n  steps:\n  - name: deploy\n    service: app\n    command: x\n")


def _tasks(tmp_path, ci=()):
    from helpers import translate

    services = "app:\n  image: busybox\n  add_docker: true\n  encrypted_env_file: app.encrypted\n"
    return [str(task) for task in translate(write_project(tmp_path, services, _PUSHES), report=True, ci=ci).report.manual_tasks]


def test_manual_tasks_are_one_per_thing_to_do_blockers_first(tmp_path):
    tasks = _tasks(tmp_path)
    assert len([t for t in tasks if "'dockercfg.encrypted' does not exist" in t]) == 1
    assert len([t for t in tasks if "--push" in t]) == 1
    push = next(t for t in tasks if "--push" in t)
    assert all(f"'push{i}'" in push for i in range(3))
    blockers = [i for i, t in enumerate(tasks) if t.startswith("Before the first run:")]
    assert blockers == list(range(len(blockers))) and len(blockers) == 3  # the key, two missing files
    assert any("put the approval in your new CI" in t for t in tasks)


def test_manual_tasks_after_ci_drop_the_approval_advice_and_warn_about_add_docker_images(tmp_path):
    tasks = _tasks(tmp_path, ci=("github",))
    assert not any("put the approval in your new CI" in t for t in tasks)
    assert any("the CI jobs wait for an approval" in t for t in tasks)
    assert any("does not reach later jobs" in t for t in tasks)


def test_the_markdown_report_numbers_the_manual_tasks(tmp_path):
    from helpers import translate
    from translator.reporters import report_markdown

    report = translate(write_project(tmp_path, "app:\n  image: busybox\n", _PUSHES), report=True).report
    text = report_markdown(report).split("## Manual tasks\n\n", 1)[1]
    assert text.startswith("1. ") and "\n2. " in text


def test_init_example_next_line_quotes_a_hostile_folder_name(tmp_path):
    import json
    import subprocess
    from pathlib import Path

    names = json.loads((Path(__file__).parent / "data" / "hostile-names.json").read_text())["names"]
    for i, name in enumerate(n for n in names if isinstance(n, str) and "/" not in n and "\x00" not in n
                             and n not in (".", "..") and n.strip()):
        folder = f"{i}{name}"
        result = run_cli("init-example", folder, cwd=tmp_path)
        if len(folder.encode()) > 255:  # longer than a file name may be: an error, not a traceback
            assert result.exit_code == 3 and "cannot write" in result.stderr
            assert run_cli("check", folder, cwd=tmp_path).exit_code == 1
            continue
        assert result.exit_code == 0, (name, result.stderr)
        command = result.stderr.split("`codeship2compose translate ", 1)[1].split("`, then", 1)[0]
        words = subprocess.run(["bash", "-c", f"printf '%s\\0' {command}"], capture_output=True, check=True).stdout
        assert words.decode("utf-8", "surrogateescape").split("\0")[:-1] == [f"./{folder}"], name


def test_generate_of_a_new_key_does_not_search_the_folder_for_encrypted_files(tmp_path, monkeypatch):
    import translator.cli

    def search(*args, **kwargs):  # in a home folder or a big repository this walks everything
        raise AssertionError("searched for .encrypted files although no key was in the way")

    monkeypatch.setattr(translator.cli, "_encrypted_files", search)
    result = run_cli("generate", cwd=tmp_path)
    assert result.exit_code == 0 and (tmp_path / "codeship.aes").is_file()


def test_a_file_name_the_system_refuses_is_missing_not_a_traceback(tmp_path):
    from helpers import translate

    long = "x" * 300  # longer than a file name may be (ENAMETOOLONG)
    project = write_project(tmp_path, f"app:\n  image: busybox\n  encrypted_env_file: {long}.encrypted\n", OK_STEPS)
    result = translate(project)
    assert result.ok and "C2C405" in [d.code for d in result.diagnostics]
    assert run_cli("check", str(project)).exit_code == 0
    refused = run_cli("check", "--services", str(tmp_path / long))
    assert refused.exit_code == 1 and "C2C012" in refused.stdout
    audited = run_cli("audit", str(tmp_path), "--format", "json", "--key-path", long)
    assert audited.exit_code == 0 and '"outcome": "manual"' in audited.stdout


def test_the_script_suggests_tag_for_a_branch_name_or_tags(tmp_path):
    import subprocess

    write_project(tmp_path, "app:\n  image: busybox\n", OK_STEPS)
    assert run_cli("translate", str(tmp_path)).exit_code == 0
    for args, said in ((["master"], "--tag master"), (["--tags", "master"], "did you mean --tag?"),
                       (["--branch=master"], "did you mean --tag?")):
        run = subprocess.run([str(tmp_path / "codeship-steps.sh"), *args], capture_output=True, text=True)
        assert run.returncode == 2 and said in run.stderr, (args, run.stderr)


def test_a_groups_command_written_above_its_steps_is_not_called_outdented(tmp_path):
    steps = "- type: serial\n  command: make\n  steps:\n  - service: app\n    command: a\n"
    d = diag(check(write_project(tmp_path, "app:\n  image: busybox\n", steps)), "C2C761")
    assert d.loc.line == 2 and "indented too little" not in d.message and "that step" not in d.hint
    assert "a step of its own" in d.hint
