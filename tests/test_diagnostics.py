"""Every diagnostic: bad input gives its code at the right line and column, never a traceback."""

from __future__ import annotations

import pytest

from helpers import check, diag, write_project

from translator.reporters import diagnostic_text

OK_STEPS = "- service: app\n  command: 'true'\n"

# (id, services, steps, code, level, line, column, words the message or hint must contain)
CASES = [
    ("empty services", "", OK_STEPS, "C2C100", "error", 1, 1, "empty"),
    ("services is a list", "- app\n", OK_STEPS, "C2C100", "error", 1, 1, "mapping"),
    ("service is a string", "app: busybox\n", OK_STEPS, "C2C102", "error", 1, 6, "mapping"),
    ("yaml syntax", "app:\n  image: [busybox\n", OK_STEPS, "C2C002", "error", 3, 1, "YAML"),
    ("tab indentation", "app:\n\timage: busybox\n", OK_STEPS, "C2C002", "error", 2, 1, "tabs"),
    ("duplicate key", "app:\n  image: a\n  image: b\n", OK_STEPS, "C2C006", "error", 3, 3, "duplicate"),
    ("dockerfile saved as services", "FROM busybox\nRUN echo hi\n", OK_STEPS, "C2C014", "error", 1, 1,
     "Dockerfile"),
    ("dockerfile that breaks YAML", "# build\nFROM busybox\nWORKDIR /\nCOPY a: b\n", OK_STEPS, "C2C014", "error",
     2, 1, "Dockerfile"),
    ("git symlink as text", "../ci/codeship-services.yml", OK_STEPS, "C2C011", "error", 1, 1, "symlink"),
    ("unknown key", "app:\n  image: busybox\n  enviroment: {}\n", OK_STEPS, "C2C103", "warning", 3, 3,
     "environment"),
    ("misplaced args", "app:\n  build: .\n  args: {A: b}\n", OK_STEPS, "C2C103", "warning", 3, 3,
     "build.args"),
    ("ignored key", "app:\n  image: busybox\n  privileged: true\n", OK_STEPS, "C2C104", "warning", 3, 3,
     "ignored"),
    ("both image and build", "app:\n  image: a\n  build: .\n", OK_STEPS, "C2C105", "error", 3, 3, "both"),
    ("neither image nor build", "app:\n  command: x\n", OK_STEPS, "C2C105", "error", 1, 1, "neither"),
    ("build.name", "app:\n  build:\n    name: x\n", OK_STEPS, "C2C107", "warning", 3, 5, "build.image"),
    ("build.context_path", "app:\n  build:\n    context_path: x\n", OK_STEPS, "C2C107", "warning", 3, 5,
     "build.context"),
    ("wrong type", "app:\n  image: busybox\n  environment: 3\n", OK_STEPS, "C2C110", "error", 3, 16,
     "mapping"),
    ("unclosed quote", "app:\n  image: busybox\n  command: echo 'x\n", OK_STEPS, "C2C111", "error", 3, 12,
     "quote"),
    ("relative container path", "app:\n  image: busybox\n  volumes: [data:rel]\n", OK_STEPS, "C2C112",
     "error", 3, 13, "absolute"),
    ("bad volume mode", "app:\n  image: busybox\n  volumes: ['./a:/a:xx']\n", OK_STEPS, "C2C112", "error", 3,
     13, "mode"),
    ("undefined link", "app:\n  image: busybox\n  links: [db]\n", OK_STEPS, "C2C303", "error", 3, 11,
     "not defined"),
    ("undefined volumes_from", "app:\n  image: busybox\n  volumes_from: [data]\n", OK_STEPS, "C2C303", "error",
     3, 18, "not defined"),
    ("self dependency", "app:\n  image: busybox\n  depends_on: [app]\n", OK_STEPS, "C2C304", "error", 3, 16,
     "itself"),
    ("cycle", "app:\n  image: a\n  links: [db]\ndb:\n  image: b\n  depends_on: [app]\n", OK_STEPS, "C2C305",
     "error", 6, 16, "app -> db -> app"),
    ("steps is a mapping", "app:\n  image: busybox\n", "service: app\ncommand: x\n", "C2C200", "error", 1, 1,
     "'- '"),
    ("empty steps", "app:\n  image: busybox\n", "", "C2C200", "error", 1, 1, "empty"),
    ("step is a string", "app:\n  image: busybox\n", "- echo hi\n", "C2C201", "error", 1, 3, "mapping"),
    ("group without type", "app:\n  image: busybox\n", "- steps:\n  - service: app\n    command: x\n", "C2C202",
     "error", 1, 3, "type"),
    ("unknown step type", "app:\n  image: busybox\n", "- type: sequence\n  steps: []\n", "C2C203", "error", 1,
     9, "serial"),
    ("unknown step key", "app:\n  image: busybox\n", "- service: app\n  command: x\n  tags: master\n",
     "C2C204", "warning", 3, 3, "tag"),
    ("misplaced step key", "app:\n  image: busybox\n",
     "- service: app\n  command: x\n  encrypted_env_file: a\n", "C2C204", "warning", 3, 3, "services.yml"),
    ("child sets service", "app:\n  image: busybox\n",
     "- type: serial\n  service: app\n  steps:\n  - service: app\n    command: x\n", "C2C205", "error", 4, 14,
     "inherited"),
    ("step without service", "app:\n  image: busybox\n", "- command: x\n", "C2C206", "error", 1, 3,
     "service"),
    ("step without command", "app:\n  image: busybox\n", "- service: app\n", "C2C207", "error", 1, 3,
     "command"),
    ("push without image_name", "app:\n  image: busybox\n", "- type: push\n  service: app\n", "C2C208",
     "error", 1, 3, "image_name"),
    ("group without steps", "app:\n  image: busybox\n", "- type: parallel\n", "C2C209", "error", 1, 3,
     "steps"),
    ("empty group", "app:\n  image: busybox\n", "- type: serial\n  steps: []\n", "C2C212", "warning", 2, 10,
     "no steps"),
    ("service and services", "app:\n  image: busybox\n",
     "- type: parallel\n  service: app\n  services: [app]\n  steps: []\n", "C2C210", "error", 3, 3, "both"),
    ("legacy matrix", "app:\n  image: busybox\n",
     "- type: matrix\n  services: [app]\n  steps:\n  - command: x\n", "C2C211", "warning", 1, 9, "parallel"),
    ("unknown step service", "app:\n  image: busybox\n", "- service: ap\n  command: x\n", "C2C301", "error", 1,
     3, "'app'"),
    ("duplicate step name", "app:\n  image: busybox\n",
     "- name: t\n  service: app\n  command: x\n- name: t\n  service: app\n  command: y\n", "C2C302",
     "warning", 4, 3, "twice"),
    ("unsupported template", "app:\n  build:\n    args:\n      A: '{{ .Branch | upper }}'\n", OK_STEPS,
     "C2C401", "error", 4, 7, "not supported"),
    ("unknown template variable", "app:\n  image: busybox\n",
     "- type: push\n  service: app\n  image_name: x\n  image_tag: '{{ .Brunch }}'\n", "C2C502", "error", 1, 3,
     "Brunch"),
    ("absolute host path", "app:\n  image: busybox\n  volumes: ['/srv/data:/data']\n", OK_STEPS, "C2C403",
     "warning", 3, 13, "absolute"),
    ("top-level volumes", "version: '2'\nservices:\n  app:\n    image: busybox\nvolumes:\n  x: {}\n", OK_STEPS,
     "C2C101", "warning", 5, 1, "not supported"),
    ("dockerfile without build", "app:\n  image: busybox\n  dockerfile: Dockerfile\n", OK_STEPS, "C2C106",
     "warning", 3, 3, "build.dockerfile"),
    ("context and path", "app:\n  build:\n    context: .\n    path: x\n", OK_STEPS, "C2C108", "warning", 4, 5,
     "'context' is used"),
    ("malformed link", "app:\n  image: busybox\n  links: ['db:']\n", OK_STEPS, "C2C113", "error", 3, 11,
     "malformed"),
    ("depends_on conditions", "app:\n  image: busybox\n  depends_on:\n    db: {condition: service_healthy}\n"
     "db:\n  image: x\n", OK_STEPS, "C2C114", "warning", 4, 5, "names"),
    ("volumes_from source used by two steps", "data:\n  image: busybox\n  volumes: [/d]\napp:\n  image: busybox\n"
     "  volumes_from: [data]\n", "- service: app\n  command: a\n- service: app\n  command: b\n", "C2C306",
     "warning", 1, 1, "--volumes-from-scope build"),
    ("two builds, one image", "a:\n  build:\n    image: x\nb:\n  build:\n    image: x\n    dockerfile: D\n",
     OK_STEPS.replace("app", "a"), "C2C404", "warning", 6, 5, "different dockerfile"),
    ("unconvertible tag regex", "app:\n  image: busybox\n", "- service: app\n  command: x\n  tag: ^master\\b\n",
     "C2C501", "error", 3, 3, "\\b"),
    ("missing encrypted file", "app:\n  image: busybox\n  encrypted_env_file: missing.encrypted\n", OK_STEPS,
     "C2C405", "warning", 3, 23, "does not exist"),
    ("missing registry credentials of a step", "app:\n  image: busybox\n",
     "- service: app\n  command: x\n  encrypted_dockercfg_path: cfg.encrypted\n", "C2C405", "warning", 3, 3,
     "'cfg.encrypted' does not exist"),
    ("missing registry credentials of a service", "app:\n  image: busybox\n  encrypted_dockercfg_path: cfg.encrypted\n",
     OK_STEPS, "C2C405", "warning", 3, 3, "'cfg.encrypted' does not exist"),
    ("names that collide in Compose", "a b:\n  image: x\na/b:\n  image: y\n", OK_STEPS.replace("app", "a-b"),
     "C2C115", "error", 3, 1, "'a b' and 'a/b'"),
    ("name Compose rejects", "My App!:\n  image: x\n", OK_STEPS.replace("app", "My App!"), "C2C116", "warning", 1,
     1, "'My-App-'"),
    ("invalid RE2 regex", "app:\n  image: busybox\n", "- service: app\n  command: x\n  tag: ^(master\n",
     "C2C503", "error", 3, 3, "matches no branch or tag except one named exactly '^(master'"),
    ("absolute build context", "app:\n  build:\n    path: /tmp/x\n", OK_STEPS, "C2C407", "warning", 3, 5,
     "absolute"),
    ("push key on a command step", "app:\n  image: busybox\n", "- service: app\n  command: x\n  image_tag: v1\n",
     "C2C213", "warning", 3, 3, "type: push"),
    ("missing env_file", "app:\n  image: busybox\n  env_file: missing.env\n", OK_STEPS, "C2C402", "warning",
     3, 13, "does not exist"),
    ("port that is no port mapping", "app:\n  image: busybox\n  ports: ['80:http']\n", OK_STEPS, "C2C601",
     "warning", 3, 11, "HOST:CONTAINER"),
    ("host port published twice", "app:\n  image: busybox\n  ports: ['80:80', '80:81']\n", OK_STEPS, "C2C602",
     "warning", 3, 20, "host port 80 twice (line 3)"),
    ("service key at the top level", "app:\n  image: busybox\nlinks: [db]\ndb:\n  image: x\n", OK_STEPS,
     "C2C760", "error", 3, 1, "indent `links:` under service 'app'"),
    ("step keys at a group's level", "app:\n  image: busybox\n",
     "- type: serial\n  steps:\n  - name: t\n  service: app\n  command: x\n", "C2C761", "error", 5, 3,
     "the step at line 3"),
    ("tty that is no boolean", "app:\n  image: busybox\n  tty: yes please\n", OK_STEPS, "C2C603", "warning",
     3, 3, "true or false"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_diagnostic(case, tmp_path, monkeypatch):
    _, services, steps, code, level, line, col, words = case
    write_project(tmp_path, services, steps if steps else None)
    if steps == "":
        (tmp_path / "codeship-steps.yml").write_text("")
    monkeypatch.chdir(tmp_path)
    result = check(tmp_path)
    d = diag(result, code)
    assert (d.level, d.loc.line, d.loc.col) == (level, line, col), diagnostic_text(d)
    assert d.loc.file.endswith(("codeship-services.yml", "codeship-steps.yml"))
    assert words in d.message + (d.hint or ""), diagnostic_text(d)


def test_every_diagnostic_code_in_the_code_is_tested():
    import re
    from pathlib import Path

    source = "".join(p.read_text() for p in (Path(__file__).parents[1] / "translator").glob("*.py"))
    in_code = set(re.findall(r'"(C2C\d{3})"', source))
    # the loader's and discovery's codes are tested in test_yaml_loader.py and test_cli.py, the CI
    # pipelines' in test_ci_pipelines.py (C2C730: test_gitlab_pipeline.py), audit's in test_audit.py
    tested = {c[3] for c in CASES} | {"C2C001", "C2C003", "C2C004", "C2C005", "C2C010", "C2C012", "C2C013",
                                      "C2C701", "C2C710", "C2C730", "C2C762", "C2C780", "C2C781", "C2C782", "C2C789"}
    assert in_code - tested == set()


def test_an_unusable_services_file_does_not_blame_the_steps(tmp_path, monkeypatch):
    write_project(tmp_path, "- app\n- db\n", "- service: app\n  command: x\n")
    monkeypatch.chdir(tmp_path)
    assert [d.code for d in check(tmp_path).diagnostics] == ["C2C100"]
