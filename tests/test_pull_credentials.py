"""Registry credentials for pulls (`encrypted_dockercfg_path` / `dockercfg_service` on services,
steps and groups): the generated script pulls private images with them, from a private Docker
config directory, and never touches the user's own ~/.docker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from e2e_support import docker, make_project, remove_images, run_script
from fake_registry import FakeRegistry
from helpers import translate
from translator import codeship_aes

USER, PASSWORD = "ci-bot", "pa$$ 'word'"


def encrypted_config(root: Path, name: str, config_json: str) -> str:
    """Writes the project's key and `name`, the encrypted Docker config; returns name."""
    key_b64 = codeship_aes.generate_key()
    (root / "codeship.aes").write_text(key_b64 + "\n")
    key = codeship_aes.load_key(None, {"CODESHIP_AES_KEY": key_b64})
    (root / name).write_bytes(codeship_aes.encrypt(config_json.encode(), key))
    return name


def service_line(script: str, name: str) -> list[str]:
    lines = script.splitlines()
    start = lines.index(f"    '{name}')")
    return lines[start + 1:lines.index("      ;;", start)]


# --- what the translation writes ---------------------------------------------------------------
def test_steps_inherit_their_groups_credentials_and_the_file_wins(tmp_path):
    (tmp_path / "cfg.encrypted").write_text("x")
    (tmp_path / "codeship-services.yml").write_text(
        "app:\n  image: busybox\ngen:\n  image: busybox\n")
    (tmp_path / "codeship-steps.yml").write_text("""\
- type: serial
  dockercfg_service: gen
  steps:
  - name: inherits
    service: app
    command: 'true'
    on_fail:
    - name: rescue
      service: app
      command: 'true'
  - name: own file wins
    service: app
    command: 'true'
    dockercfg_service: app
    encrypted_dockercfg_path: cfg.encrypted
  - name: pushes
    type: push
    service: app
    image_name: registry.example/app
- name: outside
  service: app
  command: 'true'
""")
    result = translate(tmp_path)
    assert result.ok, result.diagnostics
    script = result.outputs[tmp_path / "codeship-steps.sh"]
    assert "\n    step inherits app --dockercfg-service gen -- true\n" in script
    assert "\n      on_fail step rescue app --dockercfg-service gen -- true\n" in script
    assert "\n    step 'own file wins' app --dockercfg cfg.encrypted -- true\n" in script
    assert "\n    push pushes app registry.example/app latest --dockercfg-service gen\n" in script  # inherited too
    assert "\n  step outside app -- true\n" in script
    assert "      C2C_S_PULLS='app' C2C_S_CFG='' C2C_S_CFG_GEN=''" in service_line(script, "app")


def test_a_service_names_its_own_credentials(tmp_path):
    (tmp_path / "codeship-services.yml").write_text(
        "app:\n  image: busybox\n  depends_on: [db]\n"
        "db:\n  image: private.example/db\n  encrypted_dockercfg_path: db.encrypted\n")
    (tmp_path / "codeship-steps.yml").write_text("- service: app\n  command: 'true'\n")
    result = translate(tmp_path)
    assert [d.code for d in result.diagnostics] == ["C2C405"]  # db.encrypted does not exist yet
    script = result.outputs[tmp_path / "codeship-steps.sh"]
    assert service_line(script, "app")[1] == "      C2C_S_PULLS='db app' C2C_S_CFG='' C2C_S_CFG_GEN=''"
    assert service_line(script, "db")[1] == "      C2C_S_PULLS='db' C2C_S_CFG='db.encrypted' C2C_S_CFG_GEN=''"


def test_without_credentials_the_script_leaves_pulls_to_compose(tmp_path):
    (tmp_path / "codeship-services.yml").write_text("app:\n  image: busybox\n")
    (tmp_path / "codeship-steps.yml").write_text("- service: app\n  command: 'true'\n")
    script = translate(tmp_path).outputs[tmp_path / "codeship-steps.sh"]
    assert len(service_line(script, "app")) == 1 and "C2C_S_PULLS=" not in service_line(script, "app")[0]


# --- on a real engine --------------------------------------------------------------------------
@pytest.fixture
def home(tmp_path) -> Path:
    """The user's own Docker config directory (DOCKER_CONFIG) for the script: it must be left
    alone. Its cli-plugins are the real ones, where `docker compose` may be installed."""
    path = tmp_path / "user-docker-config"
    path.mkdir()
    (path / "config.json").write_text('{"auths": {}}\n')
    real = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "cli-plugins"
    if real.is_dir():
        (path / "cli-plugins").symlink_to(real)
    return path


def private_env(tmp_path: Path, home: Path) -> dict[str, str]:
    (tmp_path / "tmp").mkdir()
    return {"DOCKER_CONFIG": str(home), "TMPDIR": str(tmp_path / "tmp")}


def assert_nothing_left(tmp_path: Path, home: Path) -> None:
    assert list((tmp_path / "tmp").iterdir()) == []  # the run's private directory is gone
    assert (home / "config.json").read_text() == '{"auths": {}}\n'
    assert sorted(p.name for p in home.iterdir()) in (["config.json"], ["cli-plugins", "config.json"])


@pytest.mark.parametrize("compose", ["v2", "v1"], indirect=True)
@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_a_service_pulls_its_private_image_with_its_encrypted_credentials(tmp_path, compose, home):
    with FakeRegistry(["team/app"], USER, PASSWORD) as registry:
        image = f"{registry.host}/team/app"
        project = tmp_path / "project"
        project.mkdir()
        cfg = encrypted_config(project, "dockercfg.encrypted", registry.config_json(USER, PASSWORD))
        try:
            make_project(project, {"app": {"image": image, "encrypted_dockercfg_path": cfg}},
                         [{"name": "hello", "service": "app", "command": "echo pulled and ran"}])
            run = run_script(project, compose, env=private_env(tmp_path, home))
            assert run.returncode == 0, run
            assert run.said("hello") == ["pulled and ran"]
            assert registry.pulled("team/app")
            assert_nothing_left(tmp_path, home)
        finally:
            remove_images(image)


@pytest.mark.parametrize("compose", ["v2", "v1"], indirect=True)
@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_a_groups_dockercfg_service_lets_its_steps_build_and_pull_private_images(tmp_path, compose, home):
    with FakeRegistry(["team/base", "team/db"], USER, PASSWORD) as registry:
        base, db = f"{registry.host}/team/base", f"{registry.host}/team/db"
        project = tmp_path / "project"
        # the generator writes config.json where the script tells it to, like
        # codeship/dockercfg-generator; its own image needs no credentials
        write_config = f"echo generator ran; printf '%s' '{registry.config_json(USER, PASSWORD)}' > \"$0\""
        try:
            make_project(project, {
                "app": {"build": {"image": "c2c-test/private-base-app", "dockerfile": "Dockerfile"},
                        "depends_on": ["db"]},
                "db": {"image": db, "command": "sleep 60"},
                "gen": {"image": "busybox", "entrypoint": ["sh", "-c", write_config]},
            }, [{"type": "serial", "dockercfg_service": "gen", "steps": [
                {"name": "uses private images", "service": "app", "command": "cat /from-base"},
            ]}], {"Dockerfile": f"FROM {base}\nRUN echo built on the private base > /from-base\n"})
            run = run_script(project, compose, env=private_env(tmp_path, home))
            assert run.returncode == 0, run
            assert run.said("uses private images", "app") == ["built on the private base"]
            assert registry.pulled("team/base") and registry.pulled("team/db")
            assert run.said("uses private images", "gen") == ["generator ran"]  # once: the build and the pull share it
            assert_nothing_left(tmp_path, home)
        finally:
            remove_images(base, db, "c2c-test/private-base-app")


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_a_failed_push_removes_what_its_credentials_generator_made(tmp_path, home):
    # the generator ran in the step's Compose project (a network): the push fails without
    # starting anything else, and the step still removes it
    make_project(tmp_path / "project", {
        "app": {"image": "busybox"},
        "gen": {"image": "busybox", "entrypoint": ["sh", "-c", "echo generator ran; echo '{}' > \"$0\""]},
    }, [{"type": "push", "name": "push", "service": "app", "image_name": "localhost:1/team/app",
         "dockercfg_service": "gen"}])
    run = run_script(tmp_path / "project", "v2", "--push", env=private_env(tmp_path, home))
    assert run.returncode != 0 and run.failed() == {"push"}  # nothing listens on localhost:1
    assert "generator ran" in run.output
    assert_nothing_left(tmp_path, home)


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_wrong_credentials_fail_the_step_before_it_runs(tmp_path, home):
    with FakeRegistry(["team/app"], USER, PASSWORD) as registry:
        image = f"{registry.host}/team/app"
        project = tmp_path / "project"
        project.mkdir()
        cfg = encrypted_config(project, "dockercfg.encrypted", registry.config_json(USER, "wrong"))
        try:
            make_project(project, {"app": {"image": image}, "other": {"image": "busybox"}}, [
                {"name": "private", "service": "app", "command": "echo must not run",
                 "encrypted_dockercfg_path": cfg},
                {"name": "after", "service": "other", "command": "echo must not run either"},
            ])
            run = run_script(project, "v2", env=private_env(tmp_path, home))
            assert run.returncode != 0
            assert f"pulling {image} with the registry credentials of dockercfg.encrypted failed" in run.output
            assert run.failed() == {"private"} and "after" not in run.started()
            assert not registry.pulled("team/app") and registry.refused
            assert_nothing_left(tmp_path, home)
        finally:
            remove_images(image)


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_an_image_already_here_needs_no_credentials(tmp_path, home):
    image = "localhost:1/team/present"  # nothing listens there: a pull would fail
    docker("tag", "busybox", image)
    try:
        make_project(tmp_path / "project", {
            "app": {"image": image, "dockercfg_service": "gen"},
            "gen": {"image": "busybox", "entrypoint": ["sh", "-c", "echo generator ran; exit 3"]},
        }, [{"name": "present", "service": "app", "command": "echo ran"}])
        run = run_script(tmp_path / "project", "v2", env=private_env(tmp_path, home))
        assert run.returncode == 0, run
        assert "generator ran" not in run.output and run.said("present") == ["ran"]
    finally:
        remove_images(image)


def test_dry_run_shows_the_credentialed_pull(tmp_path):
    make_project(tmp_path, {
        "app": {"image": "private.example/app", "dockercfg_service": "gen"},
        "gen": {"image": "busybox"},
    }, [{"name": "s", "service": "app", "command": "true"}])
    run = run_script(tmp_path, None, "--dry-run")
    assert run.returncode == 0, run
    generator = run.index(lambda line: line.endswith("gen /codeship-dockercfg/dockercfg"))
    pull = run.index(lambda line: line.startswith("+ docker --config ") and line.endswith(
        " pull -q private.example/app"))
    step = run.index(lambda line: " run " in line and line.endswith(" -T --use-aliases --rm app true"))
    assert 0 <= generator < pull < step
