"""What the script is told about each service: images to build first, dependencies, secrets."""

from __future__ import annotations

from helpers import translate, write_project


def service_line(script: str, name: str) -> str:
    lines = script.splitlines()
    return lines[lines.index(f"    '{name}')") + 1].strip()


def test_builds_come_in_dependency_order_including_dockerfile_bases(tmp_path):
    write_project(tmp_path, """\
        base:
          build: {image: org/base, context: base}
        db:
          build: {context: db}
        app:
          build: {context: app}
          links: [db]
        """, "- service: app\n  command: 'true'\n",
        **{"base/Dockerfile": "FROM busybox\n", "db/Dockerfile": "FROM busybox\n",
           "app/Dockerfile": "FROM --platform=linux/amd64 org/base:latest AS builder\nFROM busybox\n"})
    script = translate(tmp_path).outputs[tmp_path / "codeship-steps.sh"]
    name = tmp_path.name.lower().replace("_", "-")
    assert service_line(script, "app") == (f"C2C_S_IMAGE='{name}-app' C2C_S_DEPS='db' "
                                           "C2C_S_BUILDS='db base app' C2C_S_SECRETS=''")


def test_transitive_dependencies_are_started_through_the_direct_ones(tmp_path):
    write_project(tmp_path, """\
        app: {image: busybox, depends_on: [api]}
        api: {image: busybox, links: ['db:database']}
        db: {image: busybox, encrypted_env_file: db.encrypted}
        """, "- service: app\n  command: 'true'\n")
    script = translate(tmp_path).outputs[tmp_path / "codeship-steps.sh"]
    assert service_line(script, "app") == "C2C_S_IMAGE='busybox' C2C_S_DEPS='api' C2C_S_BUILDS='' C2C_S_SECRETS='db'"


def test_quoting_round_trips_through_bash():
    import subprocess

    from translator.shell import sq

    values = ["plain", "it's", "a\nb", "tab\there", "x\x01y'\\z", "é\r", "$(touch x) `y` ${z}", "\x7f", ""]
    script = "; ".join(f"printf '%s\\0' {sq(v)}" for v in values)
    out = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout
    assert out.split(b"\0")[:-1] == [v.encode() for v in values]


def _plan(root):
    """The script's plan, as the template receives it."""
    from translator.compose import to_compose
    from translator.model import Options
    from translator.paths import Rebaser
    from translator.project import load_project
    from translator.script import plan_script

    project, diags = load_project(root)
    rebase, options = Rebaser.for_project(project, root), Options()
    return plan_script(project, to_compose(project, rebase, diags, options), rebase, diags, options)


def test_the_plan_holds_lists_and_pairs_and_the_template_writes_them_as_bash(tmp_path):
    write_project(tmp_path, """\
        app:
          build: {context: app, encrypted_args_file: args.encrypted}
          depends_on: [db, cache]
          env_file: app.env
          environment: {A: '1', B: 'from yaml', C: 'it''s'}
          encrypted_env_file: app.encrypted
          encrypted_environment: [BLOB1]
        db: {image: postgres, encrypted_dockercfg_path: cfg.encrypted}
        cache: {image: redis}
        """, "- service: app\n  command: 'true'\n",
        **{"app/Dockerfile": "FROM busybox\n", "app.env": "B=2\nC=3\n", "app.encrypted": "x",
           "args.encrypted": "x", "cfg.encrypted": "x"})
    plan = _plan(tmp_path)
    app = next(s for s in plan.services if s.name == "app")
    assert app.deps == ["db", "cache"]
    assert app.builds == ["app"]
    assert app.secret_services == ["app"]
    assert app.pulls == ["db", "cache"]
    assert app.env_services == ["app"]
    assert app.env_files == ["app.env"]
    assert app.env_kept == ["A"]
    assert app.env_dropped == [("B", "from yaml"), ("C", "it's")]
    assert app.encrypted_env == [("file", "app.encrypted"), ("inline", "BLOB1")]
    assert app.encrypted_args == [("file", "args.encrypted")]
    assert plan.built_images == [("app", tmp_path.name.lower().replace("_", "-") + "-app")]
    script = translate(tmp_path).outputs[tmp_path / "codeship-steps.sh"]
    assert "C2C_S_DEPS='db cache' C2C_S_BUILDS='app' C2C_S_SECRETS='app'" in script
    assert "C2C_S_PULLS='db cache'" in script
    assert "C2C_S_ENVS='app'\n      C2C_S_ENV_KEPT='A'\n" in script
    assert "C2C_S_ENV_DROPPED=('B' 'from yaml' 'C' 'it'\\''s')" in script
    assert "C2C_S_ENC_ENV=('file' 'app.encrypted' 'inline' 'BLOB1')" in script
    assert "C2C_S_ENC_ARGS=('file' 'args.encrypted')" in script
    assert f"C2C_BUILT_IMAGES=('app' '{plan.built_images[0][1]}')" in script
