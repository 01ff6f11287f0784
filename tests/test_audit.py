"""`codeship2compose audit`: projects found under a tree built from the corpus, outcomes equal
to `translate` on each, nothing written under the roots, the secrets inventory, the formats."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from helpers import run_cli
from translator.audit import audit
from translator.audit.forecast_adapter import BUILDS, LAYOUTS, METRICS

# next to the repository, or next to the folder of its git worktrees
CORPUS = next((p / "shared" / "corpus" for p in Path(__file__).resolve().parents[1:4]
               if (p / "shared" / "corpus").is_dir()), Path("shared/corpus"))
EXAMPLES = CORPUS / "codeship__codeship-tool-examples"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not next to the repository")


def _copy(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest)
    return dest


@pytest.fixture
def org(tmp_path: Path) -> Path:
    """An organisation's checkouts: a monorepo with two projects (and projects hidden in .git and
    node_modules), a broken project, a plain Compose folder, a folder with a steps file only, a
    symlinked folder and a symlinked services file pointing out of the root."""
    root = tmp_path / "org"
    _copy(EXAMPLES / "02.redis", root / "mono" / "api")
    _copy(EXAMPLES / "11.encrypted-aes", root / "mono" / "web")
    _copy(EXAMPLES / "09.branch-only", root / "mono" / ".git" / "modules" / "x")
    _copy(EXAMPLES / "09.branch-only", root / "mono" / "node_modules" / "pkg")
    _copy(CORPUS / "66chenbiao__BI_learn", root / "broken")
    (root / "plain-compose").mkdir()
    shutil.copy(CORPUS / "ArtemKlots__travel_bill" / "docker-compose.yml", root / "plain-compose")
    (root / "steps-only").mkdir()
    shutil.copy(EXAMPLES / "02.redis" / "codeship-steps.yml", root / "steps-only")
    outside = _copy(EXAMPLES / "09.branch-only", tmp_path / "outside")
    (root / "linked-dir").symlink_to(outside, target_is_directory=True)
    (root / "linked-file").mkdir()
    (root / "linked-file" / "codeship-services.yml").symlink_to(outside / "codeship-services.yml")
    shutil.copy(outside / "codeship-steps.yml", root / "linked-file")
    return root


def _snapshot(*folders: Path) -> dict:
    """Every entry under the folders (symlinks not followed): kind, mode, mtime, content."""
    seen = {}
    for folder in folders:
        for directory, subdirs, files in os.walk(folder):
            for name in subdirs + files:
                path = Path(directory, name)
                st = path.lstat()
                content = b"" if path.is_symlink() or path.is_dir() else path.read_bytes()
                seen[str(path)] = (st.st_mode, st.st_mtime_ns, hashlib.sha256(content).hexdigest(),
                                   os.readlink(path) if path.is_symlink() else None)
    return seen


def test_finds_every_project_and_only_projects(org: Path):
    result = audit([org])
    assert [p.path for p in result.projects] == ["broken", "mono/api", "mono/web"]
    skipped = {s.path: s.diagnostic.code for s in result.skipped}
    assert skipped == {"linked-file": "C2C780", "steps-only": "C2C781"}  # no word on plain-compose


def test_outcomes_are_what_translate_exits_with(org: Path, tmp_path: Path):
    outcomes = {p.path: p.outcome for p in audit([org]).projects}
    assert outcomes == {"broken": "failed", "mono/api": "translated", "mono/web": "manual"}
    copy = _copy(org, tmp_path / "copy")  # translate writes its outputs: on a copy
    for path, outcome in outcomes.items():
        exit_code = run_cli("translate", str(copy / path)).exit_code
        assert exit_code in (0, 1) and (exit_code == 1) == (outcome == "failed"), path


def test_writes_nothing_under_the_roots(org: Path, tmp_path: Path):
    before = _snapshot(tmp_path)
    for fmt in ("text", "json", "markdown"):
        run_cli("audit", str(org), "--format", fmt, "--key-path", "codeship.aes")
    assert _snapshot(tmp_path) == before


def test_exit_codes(org: Path, tmp_path: Path):
    result = run_cli("audit", str(org))
    assert result.exit_code == 1
    assert "broken/codeship-steps.yml:1:1: error[C2C002]" in result.stdout  # the failure's first error: the line of "-type:"
    assert run_cli("audit", str(org / "mono")).exit_code == 0
    assert run_cli("audit", str(org / "mono" / "api" / "codeship-steps.yml")).exit_code == 2
    assert run_cli("audit", str(tmp_path / "nowhere")).exit_code == 2
    (tmp_path / "bad.aes").write_text("not base64!")
    assert run_cli("audit", str(org / "mono"), "--key-path", str(tmp_path / "bad.aes")).exit_code == 2


def test_the_current_folder_is_the_default_root(org: Path):
    result = run_cli("audit", "--format", "json", cwd=org / "mono")
    assert [p["path"] for p in json.loads(result.stdout)["projects"]] == ["api", "web"]


def test_json_shape(org: Path):
    result = run_cli("audit", str(org), "--format", "json")
    data = json.loads(result.stdout)
    assert data["format"] == 1 and data["roots"] == [str(org)]
    assert "Generated by codeship2compose" in data["generator"]
    project = {p["path"]: p for p in data["projects"]}["mono/web"]
    assert set(project) == {"root", "path", "outcome", "steps", "services", "keys", "manual_tasks",
                            "encrypted_files", "encrypted_values", "diagnostics", "forecast"}
    assert (project["outcome"], project["steps"], project["services"]) == ("manual", 1, 1)
    assert project["keys"]["converted"] > 0
    assert [t["kind"] for t in project["manual_tasks"]] == ["secrets"]
    assert project["encrypted_files"][0]["path"] == "environment.encrypted"
    assert project["encrypted_files"][0]["services"] == ["checker"]
    [step] = project["encrypted_files"][0]["steps"]
    assert step.startswith("checker")  # the step that runs on the service
    assert set(project["forecast"]) == set(LAYOUTS)
    for layout in LAYOUTS:
        assert set(project["forecast"][layout]) == set(METRICS)
        assert all(set(project["forecast"][layout][m]) == set(BUILDS) for m in METRICS)
    broken = {p["path"]: p for p in data["projects"]}["broken"]
    assert broken["outcome"] == "failed" and broken["forecast"] is None
    assert broken["steps"] is None and broken["keys"] is None  # not read: null, like steps, not {}
    assert broken["diagnostics"][0]["code"] == "C2C002"
    totals = data["totals"]
    assert totals["projects"] == 3 and totals["outcomes"] == {"translated": 1, "manual": 1, "failed": 1}
    assert totals["manual_tasks"] == {"secrets": {"count": 1, "projects": 1}}
    assert totals["forecast"]["default"]["runner_starts"]["default_branch"] == 2
    assert [s["path"] for s in data["skipped"]] == ["linked-file", "steps-only"]


def test_text_summary_groups_the_manual_tasks(org: Path):
    out = run_cli("audit", str(org)).stdout
    lines = out.splitlines()
    assert lines[0].split() == ["PROJECT", "OUTCOME", "STEPS", "SERVICES", "KEYS", "TASKS", "ENCRYPTED", "RUNNERS"]
    assert lines[1].split()[:3] == ["broken", "failed", "-"]
    assert "re-create 1 secret in 1 project" in out
    assert "Failed: 1 of 3 projects do not translate" in out


def test_variable_names_with_each_projects_key_never_values(org: Path):
    result = run_cli("audit", str(org / "mono"), "--format", "json", "--key-path", "codeship.aes")
    assert result.exit_code == 0
    secret = json.loads(result.stdout)["projects"][1]["encrypted_files"][0]
    assert secret["variables"] == ["FOO", "BAZ"] and secret["problem"] is None
    assert not re.search(r"\bba[rt]\b", result.stdout)  # FOO=bar, BAZ=bat: the values are never shown
    # the key from the environment is one key for every project; without a key no names
    key = (org / "mono" / "web" / "codeship.aes").read_text()
    (org / "mono" / "web" / "codeship.aes").unlink()
    env = run_cli_env({"CODESHIP_AES_KEY": key}, "audit", str(org / "mono"), "--format", "json")
    assert json.loads(env.stdout)["projects"][1]["encrypted_files"][0]["variables"] == ["FOO", "BAZ"]
    plain = run_cli("audit", str(org / "mono"), "--format", "json")
    assert json.loads(plain.stdout)["projects"][1]["encrypted_files"][0]["variables"] is None


def test_a_wrong_key_is_named_not_guessed(tmp_path: Path):
    project = _copy(EXAMPLES / "20.build-args", tmp_path / "org" / "args")
    shutil.copy(EXAMPLES / "11.encrypted-aes" / "codeship.aes", project)
    data = json.loads(run_cli("audit", str(tmp_path / "org"), "--format", "json", "--key-path",
                              "codeship.aes").stdout)
    files = data["projects"][0]["encrypted_files"]
    assert files[0]["kind"] == "build_args_file" and files[0]["variables"] is None
    assert "wrong AES key" in files[0]["problem"]
    assert data["projects"][0]["encrypted_values"][0]["kind"] == "build_args"


def run_cli_env(env: dict, *args: str):
    from click.testing import CliRunner

    from translator.cli import main

    return CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)


def test_output_file_is_ours_or_refused(org: Path, tmp_path: Path):
    report = tmp_path / "audit.md"
    result = run_cli("audit", str(org / "mono"), "-o", str(report))
    assert result.exit_code == 0 and result.stdout == ""
    assert report.read_text().startswith("<!-- Generated by codeship2compose")
    assert run_cli("audit", str(org / "mono"), "-o", str(report)).exit_code == 0  # our own file: replaced
    data = tmp_path / "audit.json"
    assert run_cli("audit", str(org), "-o", str(data)).exit_code == 1  # a failed project: still written
    assert json.loads(data.read_text())["totals"]["outcomes"]["failed"] == 1
    theirs = tmp_path / "notes.txt"
    theirs.write_text("my notes\n")
    refused = run_cli("audit", str(org / "mono"), "-o", str(theirs))
    assert refused.exit_code == 3 and theirs.read_text() == "my notes\n"
    assert "not written by codeship2compose" in refused.stderr
    assert run_cli("audit", str(org / "mono"), "-o", str(theirs), "--force").exit_code == 0
    assert "Generated by codeship2compose" in theirs.read_text().splitlines()[0]


def test_the_output_is_never_an_audited_projects_input_even_with_force(tmp_path: Path):
    """outputs.py's rule 3 (inputs are never outputs) holds for `audit -o` too: --force wrote the
    audit over the services file it had just read."""
    project = tmp_path / "p"
    project.mkdir()
    services = "app:\n  image: busybox\n"
    (project / "codeship-services.yml").write_text(services)
    (project / "codeship-steps.yml").write_text("- service: app\n  command: 'true'\n")
    for name in ("codeship-services.yml", "codeship-steps.yml"):
        before = (project / name).read_text()
        result = run_cli("audit", str(tmp_path), "-o", str(project / name), "--force")
        assert result.exit_code == 3 and "input" in result.stderr, result.stderr
        assert (project / name).read_text() == before


def test_an_internal_error_fails_that_project_only(org: Path, monkeypatch):
    import translator.api

    real = translator.api.translate

    def translate(directory, *args, **kwargs):
        if Path(directory).name == "api":
            raise RuntimeError("boom")
        return real(directory, *args, **kwargs)

    monkeypatch.setattr(translator.api, "translate", translate)
    outcomes = {p.path: (p.outcome, [d.code for d in p.diagnostics]) for p in audit([org / "mono"]).projects}
    assert outcomes["api"] == ("failed", ["C2C789"]) and outcomes["web"][0] == "manual"


def test_forecast_counts_only_the_steps_a_build_runs(tmp_path: Path):
    project = _copy(EXAMPLES / "09.branch-only", tmp_path / "org" / "p")
    (project / "codeship-steps.yml").write_text(
        "- service: demo\n  command: 'true'\n- service: demo\n  tag: master\n  command: 'true'\n")
    forecast = audit([tmp_path / "org"]).projects[0].forecast
    assert forecast is not None
    fanout = forecast["fanout"]["runner_starts"]
    assert fanout["default_branch"] > fanout["feature_branch"]
    assert forecast["default"]["runner_starts"]["feature_branch"] >= 1


def test_several_roots_and_a_root_inside_another_count_each_project_once(org: Path):
    result = audit([org / "mono", org, org / "mono" / "api"])
    assert sorted(p.directory.resolve().relative_to(org.resolve()).as_posix() for p in result.projects) == \
        ["broken", "mono/api", "mono/web"]
    out = run_cli("audit", str(org / "mono"), str(org / "broken")).stdout
    assert f"{org / 'mono'}/api" in out  # with several roots, a project is named with its root


def test_hostile_folder_and_step_names_stay_text(tmp_path: Path):
    names = json.loads((CORPUS.parent / "data" / "hostile-names.json").read_text())["names"]
    root = tmp_path / "org"
    for i, name in enumerate(n for n in names if "/" not in n and "\x00" not in n and len(n) < 100):
        project = _copy(EXAMPLES / "02.redis", root / f"{i:02d} {name}")
        (project / "codeship-steps.yml").write_text(yaml.safe_dump([{"name": name, "service": "demo", "command": "x"}]))
    count = len(list(root.iterdir()))
    text = run_cli("audit", str(root)).stdout
    table = text.split("\nKEYS:")[0].splitlines()
    assert len(table) == count + 1  # a newline in a name does not make a line of its own
    assert not any(c in text for c in "\r\x07\u2028\u2029\u202e\x85")
    md = run_cli("audit", str(root), "--format", "markdown").stdout
    assert "<script>" not in md and "<img" not in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and "translated" in line]
    assert len(rows) == count and all(len(re.findall(r"(?<!\\)\|", row)) == 9 for row in rows)  # 8 cells each
    data = json.loads(run_cli("audit", str(root), "--format", "json").stdout)
    assert sorted(p["path"] for p in data["projects"]) == sorted(p.name for p in root.iterdir())


def test_progress_line_only_on_a_terminal(org: Path, capsys):
    from translator.cli import _Progress

    result = run_cli("audit", str(org))
    assert "auditing [" not in result.stderr  # click's runner: not a terminal
    progress = _Progress()
    progress(0, 2, "a\nb")
    progress(2, 2, "")
    progress.clear()
    err = capsys.readouterr().err
    assert "auditing [0/2] a\\nb" in err and err.endswith("\r")


def test_help_teaches_with_examples():
    out = run_cli("audit", "--help").stdout
    assert "codeship2compose audit ~/src" in out and "--format json" in out and "Exit codes" in out
    assert "audit" in run_cli("--help").stdout
    # the top-level exit codes cover audit's exit 1 (a project that does not translate), as the README does
    top = run_cli("--help").stdout
    assert "with audit" in " ".join(top[top.index("Exit codes:"):].split())
    explained = run_cli("explain", "C2C780")
    assert explained.exit_code == 0 and "audit" in explained.stdout


def test_the_documented_json_shape_has_the_keys_audit_prints(org: Path):
    """docs/audit.md promises the JSON shape is kept stable: its example has every key audit prints
    (top level, project, encrypted file, totals, forecast, keys) and no key audit does not print."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "audit.md").read_text(encoding="utf-8")
    shown = json.loads(doc.split("## The JSON shape", 1)[1].split("```json\n", 1)[1].split("```", 1)[0])
    data = json.loads(run_cli("audit", str(org), "--format", "json").stdout)
    project = {p["path"]: p for p in data["projects"]}["mono/web"]
    doc_project = shown["projects"][0]
    assert set(shown) == set(data)
    assert set(doc_project) == set(project)
    assert set(doc_project["encrypted_files"][0]) == set(project["encrypted_files"][0])
    assert set(doc_project["keys"]) == set(project["keys"])
    assert set(doc_project["forecast"]) == set(project["forecast"])
    assert set(doc_project["forecast"]["default"]) == set(project["forecast"]["default"])
    broken = {p["path"]: p for p in data["projects"]}["broken"]
    assert set(doc_project["diagnostics"][0]) == set(broken["diagnostics"][0])
    assert set(shown["totals"]) == set(data["totals"])


def test_a_failed_projects_line_is_whole_when_its_folder_name_has_a_line_break(tmp_path: Path):
    root = tmp_path / "org"
    for name in ("bro\nken", "bro\u2028ken"):
        _copy(CORPUS / "66chenbiao__BI_learn", root / name)
    for fmt, heading in (("text", "\nFailed: "), ("markdown", "\n## Failed\n")):
        out = run_cli("audit", str(root), "--format", fmt).stdout.split(heading, 1)[1]
        assert out.count("C2C002") == 2, fmt  # the first error, not the path cut at its line break
        assert out.count("ken/codeship-steps.yml:1:1: ") == 2 and "\u2028" not in out


def test_a_folder_that_cannot_be_read_is_named_not_silently_passed_over(org: Path, monkeypatch):
    locked = org / "locked"
    _copy(EXAMPLES / "02.redis", locked / "p")
    real = os.scandir

    def scandir(path=".", *args):
        if Path(path) == locked:  # what chmod 000 does to anyone but root
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args)

    monkeypatch.setattr(os, "scandir", scandir)
    result = audit([org])
    assert "locked/p" not in [p.path for p in result.projects]
    [skipped] = [s for s in result.skipped if s.path == "locked"]
    assert skipped.diagnostic.code == "C2C782" and "Permission denied" in skipped.diagnostic.message


def test_no_project_found_is_said_in_words(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    for fmt in ("text", "json"):
        result = run_cli("audit", str(tmp_path / "empty"), "--format", fmt)
        assert result.exit_code == 0
        assert "no Codeship project" in result.stderr and "codeship-services.yml" in result.stderr


def test_a_folder_name_that_is_not_utf8_is_written_escaped_not_a_traceback(tmp_path: Path):
    root = tmp_path / "org"
    root.mkdir()
    project = Path(os.fsdecode(os.path.join(os.fsencode(root), b"bad\xffname")))  # as a Linux folder may be
    _copy(EXAMPLES / "11.encrypted-aes", project)
    for name in ("audit.json", "audit.md", "audit.txt"):
        result = run_cli("audit", str(root), "-o", str(tmp_path / name))
        assert result.exit_code == 0, result.stderr
        assert "udcffname" in (tmp_path / name).read_text(encoding="utf-8")  # escaped (Markdown doubles the \\)
    data = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))
    assert os.fsencode(data["projects"][0]["path"]) == b"bad\xffname"  # the JSON escape reads back as the name


def test_the_totals_do_not_count_secrets_the_key_could_not_open_as_empty(tmp_path: Path):
    project = _copy(EXAMPLES / "11.encrypted-aes", tmp_path / "org" / "web")
    (project / "environment.encrypted").unlink()
    out = run_cli("audit", str(tmp_path / "org"), "--key-path", "codeship.aes").stdout
    totals = out.split("Totals:", 1)[1].splitlines()[1]
    assert "holding 0 variables" not in totals and "1 not opened" in totals


def test_the_default_branch_is_main_when_the_filters_name_main(tmp_path: Path):
    project = _copy(EXAMPLES / "09.branch-only", tmp_path / "org" / "p")
    for branch in ("main", "master"):
        (project / "codeship-steps.yml").write_text(
            f"- service: demo\n  command: 'true'\n- service: demo\n  tag: {branch}\n  command: deploy\n")
        forecast = audit([tmp_path / "org"]).projects[0].forecast
        assert forecast is not None
        starts = forecast["fanout"]["runner_starts"]
        assert starts["default_branch"] > starts["feature_branch"], branch  # the deploy step runs there
