"""Options as one record: the translation's choices beyond the Codeship files travel together."""

from __future__ import annotations

import typing

import pytest
from helpers import check, codes, run_cli, translate, write_project

from translator.model import VOLUMES_FROM_SCOPES, Options, VolumesFromScope

SHARED = ("data:\n  image: busybox\n  volumes: [/d]\napp:\n  image: busybox\n  volumes_from: [data]\n",
          "- service: app\n  command: a\n- service: app\n  command: b\n")


def test_the_scope_values_are_one_literal_that_the_cli_offers():
    from translator.cli import translate as translate_command

    assert VOLUMES_FROM_SCOPES == typing.get_args(VolumesFromScope) == ("step", "build")
    assert Options().volumes_from_scope == "step"
    choice = next(p for p in translate_command.params if p.name == "volumes_from_scope")
    assert tuple(choice.type.choices) == VOLUMES_FROM_SCOPES


@pytest.mark.parametrize("entry", [check, translate])
def test_an_unknown_scope_is_refused_before_anything_is_read(tmp_path, entry):
    with pytest.raises(ValueError, match="volumes_from_scope must be 'step' or 'build', not 'run'"):
        entry(tmp_path, volumes_from_scope="run")


def test_the_build_scope_reaches_the_checks_the_compose_file_and_the_script(tmp_path):
    write_project(tmp_path, *SHARED)
    assert "C2C306" in codes(check(tmp_path))  # step scope: each step starts with the volume empty
    assert "C2C306" not in codes(check(tmp_path, volumes_from_scope="build"))
    result = translate(tmp_path, volumes_from_scope="build")
    assert "C2C306" not in codes(result)
    assert "external: true" in result.outputs[tmp_path / "compose.yaml"]
    assert "C2C_BUILD_VOLUMES=('data_d')" in result.outputs[tmp_path / "codeship-steps.sh"]


def test_the_cli_flag_still_chooses_the_scope(tmp_path):
    write_project(tmp_path, *SHARED)
    result = run_cli("translate", str(tmp_path), "--volumes-from-scope", "build")
    assert result.exit_code == 0, result.stderr
    assert "external: true" in (tmp_path / "compose.yaml").read_text()
    assert run_cli("translate", str(tmp_path), "--volumes-from-scope", "run").exit_code == 2
