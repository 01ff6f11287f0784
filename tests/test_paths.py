"""One place for paths: the rebaser every output takes, and the other relativising helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_cli, translate, write_project

from translator.paths import Rebaser, for_command, for_messages, relative
from translator.reporters import diagnostic_text


@pytest.fixture
def layout(tmp_path):
    (tmp_path / "proj").mkdir()
    return tmp_path / "proj", tmp_path / "out"


def test_paths_are_written_as_is_when_the_outputs_sit_next_to_the_services_file(layout):
    proj, _ = layout
    rebase = Rebaser(proj, proj)
    for text in ("data", "./data/", "../sibling", "."):
        assert rebase.path(text) == text


@pytest.mark.parametrize("text, expected", [
    ("data", "../proj/data"),
    ("./data/", "../proj/data/"),
    (".", "../proj"),
    ("../out/cache", "./cache"),  # a bare word would be a named volume to Compose
])
def test_relative_paths_are_rewritten_for_an_output_folder_elsewhere(layout, text, expected):
    proj, out = layout
    assert Rebaser(proj, out).path(text) == expected


@pytest.mark.parametrize("text", ["/srv/data", "~/cache", "$HOME/x", "${PWD}/x"])
def test_absolute_home_and_variable_paths_are_never_rewritten(layout, text):
    proj, out = layout
    assert Rebaser(proj, out).path(text) == text


def test_the_output_folder_may_be_given_relative_to_the_current_directory(layout, monkeypatch):
    proj, out = layout
    monkeypatch.chdir(out.parent)
    rebase = Rebaser(proj, Path("out"))
    assert rebase.out == out
    assert rebase.path("data") == "../proj/data"


def test_a_file_on_disk_is_located_from_the_output_folder(layout, monkeypatch):
    proj, out = layout
    assert Rebaser(proj, out).locate(proj / "codeship-services.yml") == "../proj/codeship-services.yml"
    assert Rebaser(proj, proj).locate(proj / "codeship-services.yml") == "codeship-services.yml"
    monkeypatch.chdir(proj)
    assert Rebaser(proj, out).locate(Path("codeship-steps.yml")) == "../proj/codeship-steps.yml"
    assert relative(out / "a" / "b", proj) == "../out/a/b"


def test_a_file_elsewhere_in_the_outputs_repository_is_named_from_its_root(layout):
    proj, out = layout
    (proj.parent / ".git").mkdir()
    assert Rebaser(proj, out / "ci").locate(proj / "codeship-steps.yml") == "proj/codeship-steps.yml"
    assert Rebaser(proj, proj).locate(proj / "codeship-steps.yml") == "codeship-steps.yml"
    assert Rebaser(proj, proj.parent).locate(proj / "codeship-steps.yml") == "proj/codeship-steps.yml"
    outside = proj.parent.parent / "elsewhere.yml"  # not in the repository: from the output folder
    assert Rebaser(proj, out).locate(outside) == "../../elsewhere.yml"


@pytest.mark.parametrize("cwd", ["repo", "proj", "out", "/"])
def test_with_o_the_script_names_the_codeship_files_alike_from_any_directory(tmp_path, cwd):
    import subprocess

    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    proj = write_project(repo / "proj", "app:\n  image: busybox\n")
    out = repo / "tools" / "ci"
    out.mkdir(parents=True)
    where = {"repo": repo, "proj": proj, "out": out, "/": Path("/")}[cwd]
    result = run_cli("translate", str(proj), "-o", str(out), "--force", cwd=where)
    assert result.exit_code == 0, result.output
    script = (out / "codeship-steps.sh").read_text()
    assert "from proj/codeship-services.yml and proj/codeship-steps.yml" in script
    listing = subprocess.run([str(out / "codeship-steps.sh"), "--list"], capture_output=True, text=True,
                             cwd=where, check=True).stdout
    assert listing.startswith("Steps of proj/codeship-steps.yml ")


def test_message_paths_are_relative_to_the_current_directory_only_below_it(layout, monkeypatch):
    proj, out = layout
    monkeypatch.chdir(proj.parent)
    assert for_messages(proj / "codeship-services.yml") == "proj/codeship-services.yml"
    assert for_messages(Path("proj/codeship-services.yml")) == "proj/codeship-services.yml"
    monkeypatch.chdir(proj)
    assert for_messages(out / "x.yml") == str(out / "x.yml")  # never ../: as given


def test_command_paths_start_with_dot_slash_so_bash_does_not_search_path(layout, monkeypatch):
    proj, out = layout
    monkeypatch.chdir(proj.parent)
    assert for_command(proj / "codeship-steps.sh") == "./proj/codeship-steps.sh"
    assert for_command(proj.parent) == "./."
    monkeypatch.chdir(proj)
    assert for_command(out / "codeship-steps.sh") == str(out / "codeship-steps.sh")


def test_every_output_rebases_with_the_same_rebaser(tmp_path):
    """Compose, the script and the CI pipeline all see the project from the output folder."""
    (tmp_path / ".git").mkdir()
    proj = write_project(tmp_path / "proj", "app:\n  image: busybox\n  env_file: app.env\n"
                         "  environment:\n    A: '1'\n  volumes:\n    - ./data:/data\n",
                         **{"app.env": "B=2\n"})
    result = translate(proj, out_dir=tmp_path / "tools" / "out", ci=("gitlab",))
    assert result.ok, [diagnostic_text(d) for d in result.diagnostics]
    by_name = {p.name: text for p, text in result.outputs.items()}
    assert "../../proj/data:/data" in by_name["compose.yaml"]
    assert "- ../../proj/app.env" in by_name["compose.yaml"]
    script = by_name["codeship-steps.sh"]
    assert "C2C_S_ENV_FILES=('../../proj/app.env')" in script
    assert "C2C_SOURCE_DIR='../../proj'" in script
    assert "C2C_DEFAULT_KEY_PATH='../../proj/codeship.aes'" in script
    assert "C2C_HOST_DIRS=('../../proj/data')" in script
    assert "from proj/codeship-services.yml and proj/codeship-steps.yml" in script  # from the repository's root
    gitlab = by_name[".gitlab-ci.yml"]
    assert "from proj/codeship-services.yml:" in gitlab
    assert "cd 'tools/out' || exit" in gitlab
    assert "- proj/data" in gitlab
