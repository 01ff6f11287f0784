"""The writer (translator/outputs.py): outputs that never lose a file, never lie, never leave the
repository (issue 21)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from helpers import run_cli, write_project

from translator import outputs
from translator.outputs import OutputError, inspect, stamp, write_outputs

SERVICES = "app:\n  image: busybox\n"
PORTS = "app:\n  image: busybox\n  ports:\n    - 8080:80\n"
REPO = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path | None = None):
    return run_cli(*args, cwd=cwd)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and not p.is_symlink()}


# ------------------------------------------------------------------------------------------------
# 1. all or nothing, and "nothing was changed" only when true


def _translated_twice(tmp_path: Path) -> dict[str, bytes]:
    """A project with ports (so an override) translated, then its services file changed."""
    write_project(tmp_path, PORTS)
    assert run("translate", str(tmp_path), "--ci", "gitlab").exit_code == 0
    (tmp_path / "codeship-services.yml").write_text(PORTS + "  environment:\n    NEW: 1\n")
    return snapshot(tmp_path)


def test_a_replace_failing_on_the_last_file_puts_every_earlier_one_back(tmp_path, monkeypatch):
    before = _translated_twice(tmp_path)
    real = os.replace

    def replace(src, dst):
        if Path(dst).name == ".gitlab-ci.yml":  # the last output to be replaced
            raise PermissionError(1, "Operation not permitted")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    result = run("translate", str(tmp_path), "--ci", "gitlab")
    assert result.exit_code == 3
    assert ".gitlab-ci.yml: error: cannot write it: Operation not permitted; nothing was changed" in result.stderr
    assert snapshot(tmp_path) == before  # compose.yaml too: no NEW, no backups or temporary files left


def test_a_roll_back_that_fails_never_says_nothing_was_changed(tmp_path, monkeypatch):
    before = _translated_twice(tmp_path)
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(OSError(5, "I/O error"))
                        if Path(dst).name == ".gitlab-ci.yml" else real_replace(src, dst))
    monkeypatch.setattr(os, "rename", lambda src, dst: (_ for _ in ()).throw(OSError(5, "I/O error")))
    result = run("translate", str(tmp_path), "--ci", "gitlab")
    assert result.exit_code == 3
    assert "nothing was changed" not in result.stderr
    assert "could not be restored" in result.stderr and "compose.yaml (its old content is in" in result.stderr
    backup = result.stderr.split("compose.yaml (its old content is in ", 1)[1].split(")", 1)[0]
    assert Path(backup).read_bytes() == before["compose.yaml"]  # the old content is where it says


def test_without_hard_links_the_backups_are_copies(tmp_path, monkeypatch):
    before = _translated_twice(tmp_path)
    monkeypatch.setattr(os, "link", lambda *a, **k: (_ for _ in ()).throw(OSError(1, "Operation not permitted")))
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(OSError(28, "No space left"))
                        if Path(dst).name == ".gitlab-ci.yml" else real(src, dst))
    result = run("translate", str(tmp_path), "--ci", "gitlab")
    assert result.exit_code == 3 and "nothing was changed" in result.stderr
    assert snapshot(tmp_path) == before
    monkeypatch.setattr(os, "replace", real)
    assert run("translate", str(tmp_path), "--ci", "gitlab").exit_code == 0
    assert "NEW" in (tmp_path / "compose.yaml").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".backup")]


@pytest.mark.skipif(os.geteuid() != 0, reason="chattr +i needs root")
def test_an_immutable_override_leaves_every_output_as_it_was(tmp_path):
    before = _translated_twice(tmp_path)
    override = tmp_path / "compose.override.yaml"
    if subprocess.run(["chattr", "+i", str(override)], capture_output=True).returncode != 0:
        pytest.skip("the file system has no immutable attribute")
    try:
        result = run("translate", str(tmp_path))
    finally:
        subprocess.run(["chattr", "-i", str(override)], check=True)
    assert result.exit_code == 3, result.stderr
    assert "nothing was changed" in result.stderr and "lsattr" in result.stderr
    assert snapshot(tmp_path) == before
    assert "NEW" not in (tmp_path / "compose.yaml").read_text()


# ------------------------------------------------------------------------------------------------
# 2. a file is ours only with a valid checksum line; inputs and outputs are not reports


def test_a_hand_written_pipeline_quoting_the_marker_is_kept(tmp_path):
    write_project(tmp_path, SERVICES)
    mine = "# was \"Generated by codeship2compose\"\nprod:\n  script: [deploy]\n"
    (tmp_path / ".gitlab-ci.yml").write_text(mine)
    result = run("translate", str(tmp_path), "--ci", "gitlab")
    assert result.exit_code == 3
    assert ".gitlab-ci.yml: error: exists and was not written by codeship2compose" in result.stderr
    assert (tmp_path / ".gitlab-ci.yml").read_text() == mine
    assert not (tmp_path / "compose.yaml").exists()


@pytest.mark.parametrize("name", ["codeship-steps.sh", "compose.yaml", "compose.override.yaml",
                                  ".gitlab-ci.yml", "./sub/../compose.yaml", "elsewhere/compose.yaml"])
@pytest.mark.parametrize("ci", [("--ci", "gitlab"), ()])
def test_the_report_never_replaces_another_output(tmp_path, name, ci):
    write_project(tmp_path, PORTS)
    assert run("translate", ".", "--ci", "gitlab", cwd=tmp_path).exit_code == 0
    (tmp_path / "sub").mkdir()
    write_project(tmp_path / "elsewhere", SERVICES)
    assert run("translate", "elsewhere", cwd=tmp_path).exit_code == 0  # another project's outputs
    before = snapshot(tmp_path)
    for extra in ((), ("--force",)):
        result = run("translate", ".", *ci, "--report", name, *extra, cwd=tmp_path)
        assert result.exit_code == 3
        assert "one of the files translate writes" in result.stderr and "--report" in result.stderr
        assert snapshot(tmp_path) == before


@pytest.mark.parametrize("name", ["codeship-services.yml", "codeship-steps.yml"])
def test_the_report_never_replaces_an_input_even_forced(tmp_path, name):
    write_project(tmp_path, SERVICES)
    before = (tmp_path / name).read_bytes()
    result = run("translate", ".", "--report", name, "--force", cwd=tmp_path)
    assert result.exit_code == 3
    assert "an input of the translation" in result.stderr
    assert (tmp_path / name).read_bytes() == before


def test_a_hand_edited_report_is_kept_and_notes_quoting_the_marker_too(tmp_path):
    write_project(tmp_path, SERVICES)
    for name in ("report.md", "report.json"):
        assert run("translate", ".", "--report", name, cwd=tmp_path).exit_code == 0
        assert run("translate", ".", "--report", name, cwd=tmp_path).exit_code == 0  # ours: replaced
        assert inspect(tmp_path / name).kind == "ours"
    import json

    json.loads((tmp_path / "report.json").read_text())  # the checksum line keeps it JSON
    report = tmp_path / "report.md"
    report.write_text(report.read_text() + "\nOur decision: keep Codeship until May.\n")
    notes = tmp_path / "NOTES.md"
    notes.write_text("<!-- Generated by codeship2compose 1.0; do not edit -->\nmy notes\n")
    for name, path in (("report.md", report), ("NOTES.md", notes)):
        mine = path.read_text()
        result = run("translate", ".", "--report", name, cwd=tmp_path)
        assert result.exit_code == 3, result.stderr
        assert path.read_text() == mine


# ------------------------------------------------------------------------------------------------
# 3. several Codeship projects in one repository


def _monorepo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for name in ("a", "b"):
        write_project(repo / name, SERVICES, f"- name: {name}-test\n  service: app\n  command: 'true'\n")
    return repo


def test_each_project_of_a_monorepo_keeps_its_workflow(tmp_path):
    repo = _monorepo(tmp_path)
    workflows = repo / ".github" / "workflows"
    assert run("translate", "a", "--ci", "github", cwd=repo).exit_code == 0
    first = (workflows / "codeship-a.yml").read_bytes()
    result = run("translate", "b", "--ci", "github", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert (workflows / "codeship-a.yml").read_bytes() == first
    assert b"b-test" in (workflows / "codeship-b.yml").read_bytes()
    for name in ("a", "b"):
        result = run("translate", name, "--ci", "github", "--check", cwd=repo)
        assert result.exit_code == 0, result.stderr
    # a project at the repository's root keeps the plain name
    write_project(repo, SERVICES)
    assert run("translate", ".", "--ci", "github", cwd=repo).exit_code == 0
    assert sorted(p.name for p in workflows.iterdir()) == ["codeship-a.yml", "codeship-b.yml", "codeship.yml"]


def test_a_second_project_never_takes_the_repositorys_gitlab_pipeline(tmp_path):
    repo = _monorepo(tmp_path)
    assert run("translate", "a", "--ci", "gitlab", cwd=repo).exit_code == 0
    before = snapshot(repo)
    result = run("translate", "b", "--ci", "gitlab", cwd=repo)
    assert result.exit_code == 3
    assert 'Codeship project in "a"' in result.stderr and "--force" in result.stderr
    assert snapshot(repo) == before
    assert run("translate", "a", "--ci", "gitlab", "--check", cwd=repo).exit_code == 0
    result = run("translate", "b", "--ci", "gitlab", "--check", cwd=repo)
    assert result.exit_code == 1 and 'stale (holds the pipeline of the Codeship project in "a")' in result.stderr
    assert run("translate", "b", "--ci", "gitlab", "--force", cwd=repo).exit_code == 0
    assert b"b-test" in (repo / ".gitlab-ci.yml").read_bytes()


def test_folders_that_slug_alike_do_not_share_a_workflow(tmp_path):
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write_project(repo / "a-b", SERVICES)
    write_project(repo / "a" / "b", SERVICES)
    assert run("translate", "a-b", "--ci", "github", cwd=repo).exit_code == 0
    result = run("translate", "a/b", "--ci", "github", cwd=repo)  # (was refused: both codeship-a-b.yml)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (repo / ".github" / "workflows").iterdir()) == ["codeship-a--b.yml", "codeship-a-b.yml"]
    for name in ("a-b", "a/b"):
        assert run("translate", name, "--ci", "github", "--check", cwd=repo).exit_code == 0


def test_hostile_folder_names_stay_data_in_the_workflow_name_and_project_line():
    import json

    import yaml

    from translator.ci.plan import github_path
    from translator.ci.yamlout import dump

    names = json.loads((Path(__file__).parent / "data" / "hostile-names.json").read_text(encoding="utf-8"))["names"]
    seen: dict[Path, str] = {}
    for name in names:
        path = github_path(name)
        assert path.parent == Path(".github/workflows") and len(path.name) < 100
        assert all(c.isascii() and (c.isalnum() or c in "-_.") for c in path.name), path
        assert seen.setdefault(path, name) == name  # no two names share a workflow
        text = dump({"jobs": {}}, "test", "x", name)
        assert outputs._project_of(text.encode()[:outputs.HEAD]) == name
        assert yaml.safe_load(text) == {"jobs": {}}  # the header stays comments


def test_a_project_folder_with_a_newline_gets_its_own_workflow(tmp_path):
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write_project(repo / "x\ny", SERVICES)
    result = run("translate", "x\ny", "--ci", "github", cwd=repo)
    assert result.exit_code == 0, result.stderr
    (workflow,) = (repo / ".github" / "workflows").iterdir()
    assert workflow.name.startswith("codeship-x-y-") and inspect(workflow).project == "x\ny"
    assert run("translate", "x\ny", "--ci", "github", "--check", cwd=repo).exit_code == 0


# ------------------------------------------------------------------------------------------------
# 4. one writer at a time


def test_two_writers_into_one_folder_never_mix(tmp_path, monkeypatch):
    """Each writer is slowed between its renames; without the lock their files interleave."""
    real = os.replace

    def slow(src, dst):
        time.sleep(0.02)
        return real(src, dst)

    monkeypatch.setattr(os, "replace", slow)
    names = ["compose.yaml", "codeship-steps.sh", "compose.override.yaml"]
    sets = {who: {tmp_path / n: stamp(f"# Generated by codeship2compose\n{who}\n")
                  for n in (names if who == "A" else names[::-1])}  # in opposite orders
            for who in ("A", "B")}
    errors: list[BaseException] = []

    def write(who: str) -> None:
        try:
            write_outputs(sets[who])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    for _ in range(5):
        threads = [threading.Thread(target=write, args=(who,)) for who in ("A", "B")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        contents = {(tmp_path / n).read_text().splitlines()[-1] for n in names}
        assert len(contents) == 1, contents


def test_two_translates_at_once_leave_one_consistent_set(tmp_path):
    """Twenty rounds of two processes: one translates a project with ports (three files), the
    other one without (two files, the override removed). Both succeed; the folder holds one of
    the two sets, whole."""
    (tmp_path / "with.yml").write_text(PORTS)
    (tmp_path / "without.yml").write_text("app:\n  image: busybox:1.36\n")
    (tmp_path / "codeship-steps.yml").write_text("- service: app\n  command: 'true'\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _ in range(20):
        procs = [subprocess.Popen([sys.executable, "-m", "translator", "translate", ".", "--services", name],
                                  cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for name in ("with.yml", "without.yml")]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err.decode()
        compose = (tmp_path / "compose.yaml").read_text()
        script = (tmp_path / "codeship-steps.sh").read_text()
        override = tmp_path / "compose.override.yaml"
        source = "with.yml" if "from with.yml" in compose.splitlines()[0] else "without.yml"
        assert f"from {source}" in script.splitlines()[1]
        assert override.exists() == (source == "with.yml")
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files


def test_a_held_lock_fails_clearly_after_the_wait(tmp_path, monkeypatch):
    import fcntl

    monkeypatch.setattr(outputs, "LOCK_WAIT", 0.2)
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(OutputError, match="another codeship2compose is still writing"):
            write_outputs({tmp_path / "compose.yaml": "x"})
    finally:
        os.close(fd)
    assert not (tmp_path / "compose.yaml").exists()


# ------------------------------------------------------------------------------------------------
# 5. never through a link that leaves the project


@pytest.mark.parametrize("link", [".github", ".github/workflows"])
def test_a_workflow_folder_linked_outside_the_repository_is_refused(tmp_path, link):
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write_project(repo, SERVICES)
    outside.mkdir()
    (repo / link).parent.mkdir(parents=True, exist_ok=True)
    (repo / link).symlink_to(outside)
    result = run("translate", ".", "--ci", "github", "--force", cwd=repo)
    assert result.exit_code == 3
    assert "leads outside" in result.stderr and "nothing was written" in result.stderr
    assert list(outside.rglob("*")) == []
    assert not (repo / "compose.yaml").exists()


def test_a_workflow_folder_linked_inside_the_repository_is_fine(tmp_path):
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write_project(repo, SERVICES)
    (repo / "ci").mkdir()
    (repo / ".github").symlink_to("ci")
    assert run("translate", ".", "--ci", "github", cwd=repo).exit_code == 0
    assert (repo / "ci" / "workflows" / "codeship.yml").is_file()


def test_an_output_folder_linked_outside_its_bound_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path / "elsewhere")
    target = tmp_path / "out" / "link" / "compose.yaml"
    with pytest.raises(OutputError, match="leads outside"):
        write_outputs({target: "x"}, bounds={target: tmp_path / "out"})
    assert list((tmp_path / "elsewhere").iterdir()) == []


# ------------------------------------------------------------------------------------------------
# 6. only regular files, bounded reads


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """In a process of its own, with a timeout: a hang fails the test instead of the suite."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "translator", "translate", ".", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_fifo_in_place_of_an_output_is_refused_without_hanging(tmp_path):
    write_project(tmp_path, SERVICES)
    os.mkfifo(tmp_path / "compose.yaml")
    for args in ((), ("--force",)):
        result = _cli(tmp_path, *args)
        assert result.returncode == 3, result.stderr
        assert "compose.yaml: error: is a FIFO (named pipe), not a regular file" in result.stderr
        assert "Traceback" not in result.stderr
    result = _cli(tmp_path, "--check")
    assert result.returncode == 1 and "compose.yaml: stale (a FIFO (named pipe))" in result.stderr


def test_a_link_to_dev_zero_is_never_read(tmp_path):
    write_project(tmp_path, SERVICES)
    (tmp_path / "compose.yaml").symlink_to("/dev/zero")
    result = _cli(tmp_path)
    assert result.returncode == 3 and "is a symbolic link to /dev/zero" in result.stderr
    assert "Traceback" not in result.stderr
    result = _cli(tmp_path, "--check")
    assert result.returncode == 1 and "stale (a symbolic link to /dev/zero)" in result.stderr
    result = _cli(tmp_path, "--force")  # replaces the link itself, never writes through it
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "compose.yaml").is_symlink()


def test_a_directory_in_place_of_an_output_is_refused(tmp_path):
    write_project(tmp_path, SERVICES)
    (tmp_path / "codeship-steps.sh").mkdir()
    result = _cli(tmp_path, "--force")
    assert result.returncode == 3 and "a directory is in the way" in result.stderr


def test_a_huge_file_in_place_of_an_output_is_not_read_whole(tmp_path):
    write_project(tmp_path, SERVICES)
    huge = tmp_path / "compose.yaml"
    head = stamp("# Generated by codeship2compose\nservices: {}\n").encode()
    with huge.open("wb") as fh:
        fh.write(head)
        fh.truncate(300 * 1024 * 1024)  # sparse: 300 MB that take no disk
    tracemalloc.start()
    try:
        result = run("translate", str(tmp_path))
        result_check = run("translate", str(tmp_path), "--check")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 3 and "not written by codeship2compose" in result.stderr
    assert result_check.exit_code == 1
    assert peak < 20 * 1024 * 1024, peak


@pytest.mark.parametrize("name", ["audit.md", "audit.json", "audit.txt"])
def test_the_audit_is_ours_until_edited(tmp_path, name):
    write_project(tmp_path / "org" / "app", SERVICES)
    target = tmp_path / name
    for _ in range(2):  # the second run replaces the first's file: it carries a valid checksum
        result = run("audit", str(tmp_path / "org"), "-o", str(target))
        assert result.exit_code == 0, result.stderr
    assert inspect(target).kind == "ours"
    if name.endswith(".json"):
        import json

        json.loads(target.read_text())
    target.write_text(target.read_text().replace("app", "my app"))
    result = run("audit", str(tmp_path / "org"), "-o", str(target))
    assert result.exit_code == 3 and "edited by hand" in result.stderr


def test_an_interrupt_while_writing_puts_everything_back(tmp_path, monkeypatch):
    before = _translated_twice(tmp_path)
    real = os.replace

    def replace(src, dst):
        if Path(dst).name == "compose.override.yaml":
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    from translator.api import translate

    result = translate(tmp_path, ci=("gitlab",))
    with pytest.raises(KeyboardInterrupt):
        write_outputs(result.outputs, modes=result.modes, bounds=result.bounds)
    assert snapshot(tmp_path) == before


def test_a_new_folder_is_removed_when_the_write_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(OSError(28, "No space left")))
    with pytest.raises(OutputError, match="No space left") as failed:
        write_outputs({tmp_path / "new" / "deeper" / "compose.yaml": "x"})
    assert failed.value.changed is False
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ci", [[], ["--ci", "github"], ["--ci", "gitlab"]])
def test_a_folder_name_that_is_not_utf8_is_refused_where_an_output_must_name_it(tmp_path, ci):
    """With -o elsewhere, compose.yaml and the script name the Codeship files' folder, and the
    pipeline files name the outputs' folder: a name that is not UTF-8 ended translate in a
    UnicodeEncodeError traceback (or wrote a lone-surrogate escape into the pipeline file)."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    folder = os.fsdecode(b"p\xff")
    write_project(repo / folder, "app:\n  image: busybox\n  volumes:\n    - ./data:/data\n")
    args = ["translate", folder, *(ci or ["-o", "out"])]
    result = run_cli(*args, cwd=repo)
    assert result.exit_code == 3, result.stderr
    assert "UTF-8" in result.stderr and "nothing was written" in result.stderr
    assert sorted(p.name for p in repo.iterdir()) == [".git", folder]
    # in place, without a pipeline file, nothing needs the name: translated
    assert run_cli("translate", folder, cwd=repo).exit_code == 0
