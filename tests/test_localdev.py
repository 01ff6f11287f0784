"""Local development (issue 15): `docker compose up` gets published ports and leaves step-only
helpers out, through compose.override.yaml, which the steps script never reads.

The real-engine test at the end runs `docker compose up -d` in the output folder of a translation
to another directory (-o), asks the published port over HTTP from the host, runs the steps script
on the same outputs with two parallel steps of that service while the `up` project still holds
the port, and checks that `docker compose down` leaves nothing; with Compose v2 and v1.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from translator.cli import main
from translator.reporters import diagnostic_text
from compose_schema import compose_schema_errors

from conftest import need_tool
from e2e_support import COMPOSE_ARGV, docker, ours, remove_images, start_script, wait_until
from helpers import codes, diag, translate, translate_to_disk, write_project

WEB = """\
    web:
      image: busybox
      command: httpd -f -p 80
      ports: ["8080:80", "127.0.0.1::443", "5353:53/udp"]
      stdin_open: true
      tty: true
      links: [db]
    db:
      image: busybox
      ports: ["5432"]
    data:
      image: busybox
      volumes: [/data]
    app:
      image: busybox
      volumes_from: [data]
      depends_on: [web]
    deploy:
      image: busybox
      add_docker: true
    creds:
      image: busybox
    placeholder:
      image: busybox
      command: "true"
    pushed:
      image: busybox
      dockercfg_service: creds
    """
WEB_STEPS = """\
    - service: app
      command: 'true'
    - service: deploy
      command: 'true'
    - type: push
      service: pushed
      image_name: example/pushed
    """


def _files(result, root: Path) -> tuple[dict, dict]:
    compose = yaml.safe_load(result.outputs[root / "compose.yaml"])
    override = yaml.safe_load(result.outputs[root / "compose.override.yaml"])
    return compose, override


def test_local_keys_go_to_the_override_and_never_to_compose_yaml(tmp_path):
    write_project(tmp_path, WEB, WEB_STEPS)
    result = translate(tmp_path)
    assert result.ok, [diagnostic_text(d) for d in result.diagnostics]
    compose, override = _files(result, tmp_path)
    for service in compose["services"].values():
        assert not {"ports", "stdin_open", "tty", "profiles"} & set(service)
    assert override["services"]["web"] == {"ports": ["8080:80", "127.0.0.1::443", "5353:53/udp"],
                                           "stdin_open": True, "tty": True}
    assert override["services"]["db"] == {"ports": ["5432"]}
    # Codeship ignored them: nothing to warn about any more, they are used where they make sense
    assert "C2C104" not in codes(result)
    assert compose_schema_errors(override) == []


def test_step_only_helpers_get_the_steps_profile(tmp_path):
    write_project(tmp_path, WEB, WEB_STEPS)
    result = translate(tmp_path)
    _, override = _files(result, tmp_path)
    profiled = {name for name, svc in override["services"].items() if svc.get("profiles") == ["steps"]}
    # data: a volumes_from source no step runs; deploy: add_docker; creds: a dockercfg_service;
    # placeholder: `command: true`. web and db publish ports; app and pushed are run by steps.
    assert profiled == {"data", "deploy", "creds", "placeholder"}
    assert result.local.started == ["web", "db", "app", "pushed"]
    assert set(result.local.step_only) == profiled


def test_a_helper_that_a_started_service_needs_is_started(tmp_path):
    write_project(tmp_path, """\
        app:
          image: busybox
          links: [tool]
        tool:
          image: busybox
          add_docker: true
        """)
    result = translate(tmp_path)
    assert result.local.step_only == {}
    assert tmp_path / "compose.override.yaml" not in result.outputs


def test_the_script_never_reads_the_override(tmp_path):
    """The script passes its own -f: Compose then ignores compose.override.yaml."""
    write_project(tmp_path, WEB, WEB_STEPS)
    translate_to_disk(tmp_path)
    dry = subprocess.run([str(tmp_path / "codeship-steps.sh"), "--dry-run"], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert "compose.yaml" in dry.stdout and "override" not in dry.stdout


@pytest.mark.parametrize("entry, message", [
    ("'80:80:80:80'", "ports entry '80:80:80:80' is not a port mapping"),
    ("'${PORT}:80'", "ports entry '${PORT}:80' is not a port mapping"),
    ("'70000:80'", "ports entry '70000:80' is not a port mapping"),
    ("{target: web}", "a long-form 'ports' entry needs a numeric 'target'"),
    ("{target: 80, host_ip: 127.0.0.1}", "a long-form 'ports' entry needs"),  # Compose v1 refuses host_ip
    ("{target: 80, published: null}", "a long-form 'ports' entry needs"),
    ("[80]", "a ports entry must be text"),
    # issue 21: what Compose v2 or v1 refuses, and numbers too long for int()
    ("'999.999.999.999:80:80'", "invalid IP address (999.999.999.999)"),
    ("'01.2.3.4:80:80'", "invalid IP address"),
    ("'[:]:81:81'", "invalid IP address ([:])"),
    ("'127.0.0.1:80'", "is not a port mapping"),  # an IP needs the host part
    ('"8080:80\\n"', "is not a port mapping"),  # Python's `$` matches before a final newline
    ("'8000-8010:80-81'", "maps ranges of different lengths"),
    ("'8080:80-81'", "maps ranges of different lengths"),
    ("'8080:0'", "ports are 1 to 65535"),
    (f"'{'9' * 5000}:80'", "is not a port mapping"),
    (f"'{'0' * 5000}1:80'", "ports are 1 to 65535"),
    ("{target: 99999}", "a long-form 'ports' entry needs"),
    ("{target: 0}", "a long-form 'ports' entry needs"),
    ("{target: 80, published: 0}", "a long-form 'ports' entry needs"),
    ("{target: 80, published: '08080'}", "a long-form 'ports' entry needs"),  # v1: octal, refused
    ("{target: 80, published: 8081}\n    - {target: 80, published: 8081}", "repeats the one at line 5"),
    ("'8080:80'", "repeats the one at line 4"),  # v1: "non-unique elements"
], ids=lambda value: value[:30])
def test_a_bad_port_is_located_and_left_out(tmp_path, entry, message):
    write_project(tmp_path, f"app:\n  image: busybox\n  ports:\n    - '8080:80'\n    - {entry}\n")
    result = translate(tmp_path)
    assert result.ok
    d = diag(result, "C2C601")
    assert message in d.message
    line = 6 if "repeats the one at line 5" in message else 5
    assert (Path(d.loc.file).name, d.loc.line, d.loc.col) == ("codeship-services.yml", line, 7)
    assert len(d.message) < 300  # a long value is cut in the message
    _, override = _files(result, tmp_path)
    assert override["services"]["app"]["ports"] in (["8080:80"], ["8080:80", {"target": 80, "published": "8081"}])


def test_a_long_form_port_is_kept(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n  ports:\n    - target: 80\n      published: 8081\n")
    result = translate(tmp_path)
    _, override = _files(result, tmp_path)
    assert override["services"]["app"]["ports"] == [{"target": 80, "published": "8081"}]
    assert compose_schema_errors(override) == []
    assert "app on localhost:8081" in " ".join(_cli(tmp_path).splitlines()[-1:])


def test_two_services_on_one_host_port_are_warned(tmp_path):
    write_project(tmp_path, "a:\n  image: busybox\n  ports: ['8080:80']\nb:\n  image: busybox\n"
                  "  ports: ['8080:81']\n", "- service: a\n  command: 'true'\n")
    d = diag(translate(tmp_path), "C2C602")
    assert "'a' and 'b' both publish host port 8080" in d.message
    assert (d.loc.line, d.loc.col) == (6, 3)


def test_one_service_publishing_a_host_port_twice_is_named_as_such(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n  ports:\n    - '8080:80'\n    - '9000:90'\n"
                  "    - '127.0.0.1:8080:81'\n    - '8080:80/udp'\n")
    d = diag(translate(tmp_path), "C2C602")
    assert "service 'app' publishes host port 8080 twice (lines 4 and 6)" in d.message
    assert "'app' and 'app'" not in d.message and (d.loc.line, d.loc.col) == (6, 7)
    assert codes(translate(tmp_path)).count("C2C602") == 1  # udp is another port


def test_a_non_boolean_tty_is_located(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n  tty: sometimes\n")
    d = diag(translate(tmp_path), "C2C603")
    assert (d.loc.line, d.loc.col) == (3, 3)


def _cli(directory: Path, *options: str, cwd: Path | None = None) -> str:
    old = os.getcwd()
    os.chdir(cwd or directory)
    try:
        result = CliRunner().invoke(main, ["translate", str(directory), *options], catch_exceptions=False)
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return result.stderr


def test_translate_ends_by_saying_what_up_starts_and_where(tmp_path):
    write_project(tmp_path, WEB, WEB_STEPS)
    lines = _cli(tmp_path).splitlines()
    assert lines[-2:] == [
        "`docker compose up` starts web, db, app, pushed; reach web on localhost:8080, a free port "
        "(`docker compose port web 443`), localhost:5353/udp; db on a free port (`docker compose port db 5432`).",
        "Only steps use data, deploy, creds, placeholder: `docker compose run --rm SERVICE` runs one, "
        "`docker compose --profile steps up` starts them too."]


def test_the_summary_names_the_output_folder_and_other_compose_files(tmp_path):
    project = write_project(tmp_path / "project", "app:\n  image: busybox\n  ports: ['8080:80']\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "docker-compose.yml").write_text("services: {}\n")
    last = _cli(project, "-o", str(tmp_path / "out"), cwd=tmp_path).splitlines()[-1]
    assert last == ("`docker compose -f compose.yaml -f compose.override.yaml up` in out starts app; "
                    "reach app on localhost:8080.")


def test_an_override_no_longer_needed_is_removed_but_never_a_users(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n  ports: ['8080:80']\n")
    _cli(tmp_path)
    override = tmp_path / "compose.override.yaml"
    assert override.is_file()
    write_project(tmp_path, "app:\n  image: busybox\n")
    assert "removed" in _cli(tmp_path)
    assert not override.exists()
    override.write_text("services: {app: {ports: ['9000:80']}}\n")  # the user's own
    _cli(tmp_path)
    assert override.read_text() == "services: {app: {ports: ['9000:80']}}\n"


def test_a_users_override_is_not_replaced_without_force(tmp_path):
    write_project(tmp_path, "app:\n  image: busybox\n  ports: ['8080:80']\n")
    override = tmp_path / "compose.override.yaml"
    override.write_text("services: {}\n")
    result = CliRunner().invoke(main, ["translate", str(tmp_path)])
    assert result.exit_code == 3
    assert "compose.override.yaml: error: exists and was not written by codeship2compose" in result.stderr
    assert override.read_text() == "services: {}\n" and not (tmp_path / "compose.yaml").exists()
    assert CliRunner().invoke(main, ["translate", str(tmp_path), "--force"]).exit_code == 0
    assert "8080:80" in override.read_text()


@pytest.mark.parametrize("compose", [("docker", "compose"), ("docker-compose",)], ids=["v2", "v1"])
def test_compose_accepts_both_files_together(tmp_path, compose):
    need_tool(*compose, "version")
    write_project(tmp_path, WEB, WEB_STEPS)
    translate_to_disk(tmp_path)
    result = subprocess.run([*compose, "config"], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "C2C_RUN_ID": "c2ctest"})
    assert result.returncode == 0, result.stderr
    merged = yaml.safe_load(result.stdout)
    assert merged["services"]["web"]["ports"]
    # v2 leaves out inactive profiles, v1 shows them with their profile
    assert merged["services"].get("deploy", {"profiles": ["steps"]})["profiles"] == ["steps"]


ALL_FORMS = ["80", "8080:80", "127.0.0.1:8081:80", "127.0.0.1::81", "[::1]:8082:80", "9000-9001:90-91",
             "5353:53/udp", "22:22", {"target": 82, "published": 8083, "protocol": "tcp", "mode": "host"}]


@pytest.mark.parametrize("compose", [("docker", "compose"), ("docker-compose",)], ids=["v2", "v1"])
def test_every_accepted_port_form_is_accepted_by_compose(tmp_path, compose):
    need_tool(*compose, "version")
    write_project(tmp_path, yaml.safe_dump({"app": {"image": "busybox", "ports": ALL_FORMS}}))
    result = translate(tmp_path)
    assert "C2C601" not in codes(result)
    translate_to_disk(tmp_path)
    config = subprocess.run([*compose, "config"], cwd=tmp_path, capture_output=True, text=True)
    assert config.returncode == 0, config.stderr
    assert len(yaml.safe_load(config.stdout)["services"]["app"]["ports"]) >= len(ALL_FORMS)


REFUSED = ["999.999.999.999:80:80", "[:]:81:81", "8080:80\n", "8000-8010:80-81", "127.0.0.1:80", "01.2.3.4:80:80"]


def test_what_is_left_out_is_what_a_real_compose_refuses(tmp_path):
    """Each short form dropped above fails `config` in Compose v2 or v1 (a long-form target of
    99999 passes `config` and fails at `up`: "invalid port specification")."""
    need_tool("docker", "compose", "version")
    need_tool("docker-compose", "version")
    for entry in REFUSED:
        (tmp_path / "compose.yaml").write_text(yaml.safe_dump({"services": {"app": {"image": "busybox",
                                                                                     "ports": [entry]}}}))
        results = [subprocess.run([*argv, "config", "-q"], cwd=tmp_path, capture_output=True, text=True)
                   for argv in (["docker", "compose"], ["docker-compose"])]
        assert any(r.returncode != 0 for r in results), entry


# --- the real engine ----------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _project_objects(name: str) -> list[str]:
    label = f"label=com.docker.compose.project={name}"
    found = []
    for kind, args in (("container", ("ps", "-a", "-q", "--filter", label)),
                       ("network", ("network", "ls", "-q", "--filter", label)),
                       ("volume", ("volume", "ls", "-q", "--filter", label))):
        found += [f"{kind} {i}" for i in docker(*args).stdout.split()]
    return found


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_compose_up_serves_the_web_port_and_the_steps_publish_none(tmp_path, compose):
    """busybox httpd with a dependency: `up -d` in the -o folder, HTTP from the host, two parallel
    steps of the same service while `up` holds the port, `down` leaves nothing."""
    web_port, api_port = _free_port(), _free_port()
    name = f"c2cdev{uuid.uuid4().hex[:8]}"
    image = f"{name}-web"
    project = write_project(tmp_path / "repo", f"""\
        web:
          build:
            context: ./site
            image: {image}
          command: sh -c 'echo "$GREETING" > /www/greeting.txt; for i in $(seq 20); do wget -q -O /www/api.txt http://api:8000/ping.txt && break; sleep 0.5; done; exec httpd -f -p 80 -h /www'
          env_file: web.env
          volumes: ["./content:/www/content:ro"]
          ports: ["127.0.0.1:{web_port}:80"]
          links: [api]
        api:
          image: busybox
          command: sh -c 'mkdir -p /api && echo pong > /api/ping.txt && exec httpd -f -p 8000 -h /api'
          ports: ["{api_port}:8000"]
        deploy:
          image: busybox
          add_docker: true
          command: sleep 600
        """, """\
        - type: parallel
          steps:
            - name: first
              service: web
              command: sh -c 'sleep 6; wget -q -O - http://api:8000/ping.txt'
            - name: second
              service: web
              command: sh -c 'sleep 6; wget -q -O - http://api:8000/ping.txt'
        """, **{"web.env": "GREETING=hello from the env file\n", "content/page.txt": "bind-mounted\n",
                "site/Dockerfile": "FROM busybox\nCOPY index.html /www/index.html\n",
                "site/index.html": "built\n"})
    out = tmp_path / name  # the project name of `docker compose up` there
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        translated = CliRunner().invoke(main, ["translate", str(project), "-o", name], catch_exceptions=False)
    finally:
        os.chdir(old)
    assert translated.exit_code == 0, translated.output
    assert f"`docker compose up` in {name} starts web, api; reach web on 127.0.0.1:{web_port}; " \
           f"api on localhost:{api_port}." in translated.stderr
    up_argv = list(COMPOSE_ARGV[compose])
    run = lambda *args: subprocess.run([*up_argv, *args], cwd=out, capture_output=True, text=True, timeout=300,
                                       stdin=subprocess.DEVNULL)
    try:
        up = run("up", "-d", "--build")
        assert up.returncode == 0, up.stderr
        assert _get(f"http://127.0.0.1:{web_port}/index.html") == "built\n"  # build context
        assert _get(f"http://127.0.0.1:{web_port}/greeting.txt") == "hello from the env file\n"  # env_file
        assert _get(f"http://127.0.0.1:{web_port}/content/page.txt") == "bind-mounted\n"  # host path
        assert _get(f"http://127.0.0.1:{web_port}/api.txt") == "pong\n"  # the dependency
        assert _get(f"http://127.0.0.1:{api_port}/ping.txt") == "pong\n"
        running = docker("ps", "-a", "--filter", f"label=com.docker.compose.project={name}", "--format",
                         '{{.Label "com.docker.compose.service"}}').stdout.split()
        assert sorted(running) == ["api", "web"]  # deploy only runs in steps

        # the script on the same outputs, while `up` holds both host ports
        steps = start_script(out, compose)

        def step_containers() -> list[str]:
            rows = docker("ps", "--format", "{{.Names}} {{.Ports}}").stdout.splitlines()
            return [row for row in rows if ours({("container", row.split()[0])})]

        # both steps' web containers and their own `api` dependencies, at once
        rows = wait_until(lambda: (lambda r: r if len(r) >= 4 else None)(step_containers()), 120, 0.2)
        assert rows, "\n".join(steps.lines)
        assert not any("->" in row for row in rows), rows  # no step publishes a port
        result = steps.finish()
        assert result.returncode == 0, result
        assert result.passed() == {"first", "second"}
        assert result.said("first") == ["pong"] and result.said("second") == ["pong"]
        assert _get(f"http://127.0.0.1:{web_port}/index.html") == "built\n"  # `up` was left alone
    finally:
        down = run("down", "-t", "1")
        remove_images(image)
    assert down.returncode == 0, down.stderr
    assert _project_objects(name) == []
