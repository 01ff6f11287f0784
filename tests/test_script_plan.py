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
