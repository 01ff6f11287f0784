"""Codeship services → Compose: the rules that change meaning if they are wrong."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from e2e_support import COMPOSE_ARGV
from helpers import translate, translate_to_disk, write_project

from translator.reporters import diagnostic_text


def compose_of(tmp_path, services: str, steps: str = "", **files) -> dict:
    write_project(tmp_path, services, steps, **files)
    result = translate(tmp_path)
    assert result.ok, [diagnostic_text(d) for d in result.diagnostics]
    return yaml.safe_load(result.outputs[tmp_path / "compose.yaml"])


def test_env_file_beats_environment_as_in_codeship(tmp_path):
    doc = compose_of(tmp_path, """\
        app:
          image: busybox
          environment: {A: from-environment, B: only-environment}
          env_file: [one.env, two.env]
        """, **{"one.env": "A=from-one\n", "two.env": "# comment\nexport C=from-two\n"})
    app = doc["services"]["app"]
    assert app["environment"] == {"B": "only-environment"}  # A is left to the env file
    assert app["env_file"] == ["one.env", "two.env"]


@pytest.mark.parametrize("env, file_value, expected", [("e", None, "e"), (None, "f", "f"), ("e", "f", "f")])
def test_env_precedence_table(tmp_path, compose, env, file_value, expected):
    # (environment value, env_file value) → what the container sees in Codeship, read from what
    # Compose itself makes of the generated file (`config` merges env_file into environment)
    services = "app:\n  image: busybox\n"
    if env is not None:
        services += f"  environment:\n    K: {env}\n"
    files = {}
    if file_value is not None:
        services += "  env_file: k.env\n"
        files["k.env"] = f"K={file_value}\n"
    translate_to_disk(write_project(tmp_path, services, **files))
    out = subprocess.run([*COMPOSE_ARGV[compose], "-f", "compose.yaml", "config"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert yaml.safe_load(out.stdout)["services"]["app"]["environment"]["K"] == expected


def test_literal_dollars_are_escaped_everywhere(tmp_path):
    doc = compose_of(tmp_path, """\
        app:
          image: busybox
          command: echo $HOME
          environment: {PRICE: $5}
          working_dir: /a$b
        """)
    app = doc["services"]["app"]
    assert app["command"] == ["echo", "$$HOME"]
    assert app["environment"] == {"PRICE": "$$5"}
    assert app["working_dir"] == "/a$$b"


def test_volumes_from_becomes_named_volumes_at_the_same_paths(tmp_path):
    doc = compose_of(tmp_path, """\
        data:
          image: busybox
          volumes: [/artifacts, ./host:/host]
        app:
          image: busybox
          volumes_from: [data]
        reader:
          image: busybox
          volumes_from: ['data:ro']
        chained:
          image: busybox
          volumes_from: [app]
        """)
    s = doc["services"]
    assert s["data"]["volumes"] == ["data_artifacts:/artifacts", "./host:/host"]
    assert s["app"]["volumes"] == ["data_artifacts:/artifacts", "./host:/host"]
    assert s["reader"]["volumes"] == ["data_artifacts:/artifacts:ro", "./host:/host:ro"]
    assert s["chained"]["volumes"] == s["app"]["volumes"]  # Docker copies the source's own volumes_from
    assert doc["volumes"] == {"data_artifacts": {}}
    assert "volumes_from" not in s["app"] and "depends_on" not in s["app"]


def test_build_scope_volumes_are_external_and_named_per_run(tmp_path):
    write_project(tmp_path, "data:\n  image: busybox\n  volumes: [/d]\napp:\n  image: busybox\n"
                            "  volumes_from: [data]\n")
    result = translate(tmp_path, volumes_from_scope="build")
    doc = yaml.safe_load(result.outputs[tmp_path / "compose.yaml"])
    assert doc["volumes"] == {"data_d": {"name": "${C2C_RUN_ID:-c2c}_data_d", "external": True}}
    assert "C2C_BUILD_VOLUMES=('data_d')" in result.outputs[tmp_path / "codeship-steps.sh"]


def test_other_container_only_volumes_stay_anonymous(tmp_path):
    doc = compose_of(tmp_path, "app:\n  image: busybox\n  volumes: [/cache]\n")
    assert doc["services"]["app"]["volumes"] == ["/cache"]
    assert "volumes" not in doc


def test_build_gets_an_explicit_image_so_all_step_projects_share_it(tmp_path):
    doc = compose_of(tmp_path, """\
        named:
          build: {image: me/named, path: sub, dockerfile_path: Dockerfile.x}
        derived:
          build: .
        """, "- service: named\n  command: 'true'\n")
    s = doc["services"]
    assert s["named"]["image"] == "me/named"
    assert s["named"]["build"] == {"context": "sub", "dockerfile": "Dockerfile.x"}
    assert s["derived"]["image"] == tmp_path.name.lower().replace("_", "-") + "-derived"


def test_build_args_templates_become_ci_variables(tmp_path):
    doc = compose_of(tmp_path, """\
        app:
          build:
            args: {B: "{{ .Branch }}", C: "{{.Ci}}", L: "a$b", M: "x-{{.CommitID}}-y"}
        """)
    assert doc["services"]["app"]["build"]["args"] == {
        "B": "${CI_BRANCH:-}", "C": "true", "L": "a$$b", "M": "x-${CI_COMMIT_ID:-}-y"}



@pytest.mark.parametrize("text, limit, expected", [
    ("My App", 0, "my-app"),
    ("--a__b..c!", 0, "a-b-c"),  # runs become one '-', none at either end
    ("abc-def", 4, "abc"),  # the cut leaves no '-' at the end
    ("ñandú / front / back", 0, "and-front-back"),
])
def test_slug_keeps_a_z_0_9_and_joins_the_rest(text, limit, expected):
    from translator.names import slug

    assert slug(text, limit) == expected


def test_slug_of_a_name_with_nothing_to_keep_is_x_and_a_hash():
    from translator.names import slug

    names = ["日本語のステップ", "🚀", "!!!", "/", "中国"]
    slugs = [slug(name) for name in names]
    assert all(s.startswith("x") and len(s) == 9 and s[1:].isalnum() for s in slugs)
    assert len(set(slugs)) == len(names)  # two such projects do not share their images
    assert slug("日本語のステップ") == slugs[0]  # the same every time


def test_built_images_of_two_projects_named_without_a_z_stay_apart(tmp_path):
    images = []
    for name in ("日本", "中国"):
        root = tmp_path / name
        doc = compose_of(root, "app:\n  build: .\n")
        images.append(doc["services"]["app"]["image"])
    assert images[0] != images[1] and all(i.endswith("-app") for i in images)

def test_add_docker_mounts_the_socket(tmp_path):
    app = compose_of(tmp_path, "app:\n  image: docker\n  add_docker: true\n")["services"]["app"]
    assert "/var/run/docker.sock:/var/run/docker.sock" in app["volumes"]
    assert app["environment"]["DOCKER_HOST"] == "unix:///var/run/docker.sock"


def test_links_keep_aliases_and_ignored_keys_are_dropped(tmp_path):
    doc = compose_of(tmp_path, """\
        app:
          image: busybox
          links: ['db:database', cache]
          ports: ['80:80']
          privileged: true
          cached: true
        db: {image: postgres}
        cache: {image: redis}
        """)
    app = doc["services"]["app"]
    assert app["links"] == ["db:database", "cache"]
    assert not {"ports", "privileged", "cached"} & set(app)


def test_commands_are_split_like_jet(tmp_path):
    app = compose_of(tmp_path, "app:\n  image: busybox\n  command: sh -c 'a && b'\n"
                               "  entrypoint: /entry.sh --flag\n")["services"]["app"]
    assert app["command"] == ["sh", "-c", "a && b"]
    assert app["entrypoint"] == ["/entry.sh", "--flag"]


def test_compose_style_services_file(tmp_path):
    doc = compose_of(tmp_path, "version: '3'\nservices:\n  app:\n    image: busybox\n")
    assert list(doc["services"]) == ["app"]
    assert "version" not in doc


def test_named_volumes_are_declared_per_step_project(tmp_path):
    doc = compose_of(tmp_path, "app:\n  image: busybox\n  volumes: ['db-data:/var/lib/db', 'cache:/c:ro']\n")
    assert doc["services"]["app"]["volumes"] == ["db-data:/var/lib/db", "cache:/c:ro"]
    assert doc["volumes"] == {"cache": {}, "db-data": {}}


def test_one_mount_per_container_path(tmp_path):
    doc = compose_of(tmp_path, """\
        data:
          image: busybox
          volumes: [/files, /logs]
        app:
          image: busybox
          volumes: [/files, './mine:/logs']
          volumes_from: [data]
        """)
    # an own anonymous volume gives way to the shared one; an own host mount wins over it
    assert doc["services"]["app"]["volumes"] == ["data_files:/files", "./mine:/logs"]


DOLLARS = """\
app:
  image: 'busybox:$TAG'
  environment: {'A$B': '${X}', 'C${D': 'e$'}
  extra_hosts: ['h$X:127.0.0.1']
  healthcheck: {test: ['CMD', 'echo', '$Y']}
  links: ['db:alias$A']
  working_dir: /w$W
  user: u$U
  hostname: h$H
  command: echo $HOME
db:
  build:
    image: 'me/db:$T'
    dockerfile: 'Docker$file'
    args: {'K$K': 'v$V'}
"""


def test_compose_reads_every_dollar_as_written(tmp_path, compose):
    """issue 21: Compose interpolates every value (image too) and no key, in v2 and v1: what
    `config` makes of compose.yaml, with no variable set, is what the Codeship file says."""
    translate_to_disk(write_project(tmp_path, DOLLARS, "- service: app\n  command: 'true'\n",
                                    **{"Docker$file": "FROM busybox\n"}))
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("TAG", "X", "D", "V", "A", "W", "U", "H", "HOME", "T", "B", "K", "Y")}
    out = subprocess.run([*COMPOSE_ARGV[compose], "-f", "compose.yaml", "config"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert "not set" not in out.stderr, out.stderr  # nothing was read as a variable

    def literal(value):  # `config` writes its result escaped again
        if isinstance(value, dict):
            return {literal(k): literal(v) for k, v in value.items()}
        if isinstance(value, list):
            return [literal(v) for v in value]
        return value.replace("$$", "$") if isinstance(value, str) else value

    services = literal(yaml.safe_load(out.stdout)["services"])
    app, db = services["app"], services["db"]
    assert app["image"] == "busybox:$TAG" and db["image"] == "me/db:$T"
    assert app["environment"] == {"A$B": "${X}", "C${D": "e$"}
    assert app["extra_hosts"] in (["h$X:127.0.0.1"], ["h$X=127.0.0.1"], {"h$X": "127.0.0.1"})
    assert app["healthcheck"]["test"] == ["CMD", "echo", "$Y"]
    assert app["links"] == ["db:alias$A"]
    assert (app["working_dir"], app["user"], app["hostname"]) == ("/w$W", "u$U", "h$H")
    assert app["command"] == ["echo", "$HOME"]
    assert db["build"]["dockerfile"] == "Docker$file" and db["build"]["args"] == {"K$K": "v$V"}
