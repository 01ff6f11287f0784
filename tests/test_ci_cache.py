"""`cached: true` on GitHub Actions / GitLab CI: the jobs keep the built image of each cached
service in the platform's cache (`docker save`), load it on the next run's runner, and the script
builds with it as the layer cache (C2C_CACHE_FROM: `cache_from` + BuildKit's inline cache
metadata). A fresh runner is simulated on the shared engine by removing the image and the BuildKit
cache records of this test's Dockerfile (a unique token in every RUN line), nothing else."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from e2e_support import (
    docker,
    make_project,
    remove_images,
    run_script,
    script_argv,
    script_env,
    write_codeship,
)
from e2e_support import translate as translate_project

from translator.api import translate

SLOW = 4  # seconds the Dockerfile's RUN sleeps


def cached_project(root: Path, image: str, token: str, *options: str, translated: bool = True) -> Path:
    services = {"app": {"build": {"image": image, "context": "."}, "cached": True},
                "plain": {"image": "busybox"}}
    steps = [{"name": "test", "service": "app", "command": ["cat", "/token"]}]
    # COPY . : the build context (the outputs' folder) must hold nothing of the CI cache, or the
    # layer changes every run and the RUN after it misses the cache
    dockerfile = f"FROM busybox\nRUN echo {token} > /token && sleep {SLOW}\nCOPY . /src\nRUN echo {token} > /second\n"
    if not translated:
        return write_codeship(root, services, steps, {"Dockerfile": dockerfile})
    return make_project(root, services, steps, {"Dockerfile": dockerfile}, *options)


def forget_build(token: str, *images: str) -> None:
    """A fresh runner: the images and the BuildKit cache records of the RUN lines holding token,
    and of the steps built on them, gone (children before parents: a record in use by another
    cannot be pruned)."""
    remove_images(*images)
    for _ in range(5):
        records = json.loads(docker("system", "df", "-v", "--format", "{{json .BuildCache}}").stdout or "null")
        ids = {r["ID"] for r in records or [] if token in (r.get("Description") or "")}
        while grown := {r["ID"] for r in records or [] if r.get("Parent") in ids} - ids:
            ids |= grown  # the records built on them (the COPY after a RUN) hold them in use
        if not ids:
            return
        for record in ids:
            docker("builder", "prune", "-af", "--filter", f"id={record}", check=False)
    raise AssertionError(f"BuildKit cache records of {token} could not be removed")


def cache_hits(output: str, token: str) -> int:
    """Build lines of the RUN steps holding token that were served from the cache: BuildKit
    prints `#N CACHED` after the step's line, the classic builder ` ---> Using cache`."""
    lines = output.splitlines()
    hits = 0
    for i, line in enumerate(lines):
        if token in line and "RUN" in line:
            after = " ".join(lines[i + 1:i + 3])
            hits += "CACHED" in after or "Using cache" in after
    return hits


@pytest.mark.docker
@pytest.mark.usefixtures("no_leftovers")
def test_a_loaded_image_is_the_layer_cache_of_the_next_build(tmp_path, compose):
    token = f"c2c-cache-{uuid.uuid4().hex[:12]}"
    image = f"c2c-e2e-{token}"
    project = cached_project(tmp_path / "p", image, token)
    saved = tmp_path / "app.tar"
    try:
        first = run_script(project, compose, env={"C2C_CACHE_FROM": "app"})
        assert first.returncode == 0, first
        assert cache_hits(first.output, token) == 0
        docker("save", "-o", str(saved), image)
        forget_build(token, image)
        docker("load", "-q", "-i", str(saved))  # what the job does with the platform's cache
        second = run_script(project, compose, env={"C2C_CACHE_FROM": "app"})
        assert second.returncode == 0, second
        assert second.said("test") == [token]
        assert cache_hits(second.output, token) == 2, second  # both RUN lines, the slow one too
    finally:
        forget_build(token, image)


def test_dry_run_shows_the_cache_of_the_listed_services_only(tmp_path):
    token = f"c2c-cache-{uuid.uuid4().hex[:12]}"
    project = cached_project(tmp_path / "p", f"c2c-e2e-{token}", token)
    argv = script_argv(project, "v2", "--dry-run")
    out = subprocess.run(argv, capture_output=True, text=True, env=script_env({"C2C_CACHE_FROM": "app"})).stdout
    assert f"cache_from c2c-e2e-{token}" in out, out
    plain = subprocess.run(argv, capture_output=True, text=True, env=script_env()).stdout
    assert "cache_from" not in plain, plain


# --- the pipelines (no engine) -------------------------------------------------------------------
SERVICES = {
    "app": {"build": ".", "cached": True, "depends_on": ["db"]},
    "db": {"build": {"context": ".", "dockerfile": "Dockerfile.db"}, "cached": True,
           "default_cache_branch": "release/1.x"},
    "web": {"build": "."},  # not cached
    "tool": {"image": "busybox", "cached": True},  # nothing built: nothing to cache
}
STEPS = [
    {"name": "test", "service": "app", "command": "true"},
    {"type": "parallel", "name": "more", "steps": [
        {"name": "web", "service": "web", "command": "true"},
        {"name": "tool", "service": "tool", "command": "true"}]},
]


def _pipelines(tmp_path: Path, services=SERVICES, steps=STEPS) -> tuple[dict, dict, dict[str, str]]:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    project = write_codeship(tmp_path / "ci", services, steps,
                             {"Dockerfile": "FROM busybox\n", "Dockerfile.db": "FROM busybox\n"})
    result = translate(project, ci=("github", "gitlab"), ci_fanout=True)  # a job per step
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    texts = {"codeship.yml" if p.parent.name == "workflows" else p.name: text for p, text in result.outputs.items()}
    return yaml.safe_load(texts["codeship.yml"]), yaml.safe_load(texts[".gitlab-ci.yml"]), texts


def test_github_jobs_restore_load_and_save_the_images_of_cached_services(tmp_path):
    gh, _, _ = _pipelines(tmp_path)
    steps = gh["jobs"]["s01-test"]["steps"]
    restores = [s for s in steps if s.get("uses") == "actions/cache/restore@v4"]
    branch, default = "${{ steps.c2c-key.outputs.branch }}", "${{ steps.c2c-key.outputs.default }}"
    # app depends on db: the job may build both; one cache per image, keyed by branch and run,
    # kept under the runner's temp folder (never in the build context); the repository's default
    # branch is always the last restore key, after default_cache_branch
    assert [r["with"] for r in restores] == [
        {"path": "${{ runner.temp }}/c2c-cache/c2c-docker-ci-db",
         "key": f"c2c-docker-ci-db_{branch}:${{{{ github.run_id }}}}",
         "restore-keys": f"c2c-docker-ci-db_{branch}:\nc2c-docker-ci-db_release/1.x:\nc2c-docker-ci-db_{default}:\n"},
        {"path": "${{ runner.temp }}/c2c-cache/c2c-docker-ci-app",
         "key": f"c2c-docker-ci-app_{branch}:${{{{ github.run_id }}}}",
         "restore-keys": f"c2c-docker-ci-app_{branch}:\nc2c-docker-ci-app_{default}:\n"}]
    names = [s.get("name") for s in steps]
    run = steps[names.index("test")]
    assert names.index("the cache keys' branches") < names.index("the last image of db (cached: true)")
    assert names.index("load the cached images") < names.index("test") < names.index("keep the built images for the next runs")
    assert 'docker load -q -i "$RUNNER_TEMP"/c2c-cache/c2c-docker-ci-app/image.tar' in steps[names.index("load the cached images")]["run"]
    assert gh["jobs"]["s01-test"]["env"]["C2C_CACHE_FROM"] == "db app" and run["env"] == {"C2C_STEP": "test"}
    keep = steps[names.index("keep the built images for the next runs")]
    assert keep["if"] == "${{ !cancelled() }}"  # also when the step failed: the image is fine
    assert ("docker save -o \"$RUNNER_TEMP\"/c2c-cache/c2c-docker-ci-app/image.tar.part 'ci-app' && "
            'mv "$RUNNER_TEMP"/c2c-cache/c2c-docker-ci-app/image.tar.part "$RUNNER_TEMP"/c2c-cache/c2c-docker-ci-app/image.tar') in keep["run"]
    assert ".c2c-cache" not in "".join(s.get("run", "") for s in steps)
    saves = [s for s in steps if s.get("uses") == "actions/cache/save@v4"]
    assert [s["with"] for s in saves] == [{"path": r["with"]["path"], "key": r["with"]["key"]} for r in restores]
    assert saves[1]["if"] == ("${{ !cancelled() && steps.c2c-images.outputs.save_1 == 'true' && "
                              "steps.c2c-cache-1.outputs.cache-hit != 'true' }}")
    for job in ("s02-more-web", "s02-more-tool"):  # not cached / nothing built
        assert not any("cache" in s.get("uses", "") for s in gh["jobs"][job]["steps"]), job
        assert "C2C_CACHE_FROM" not in gh["jobs"][job]["env"]


@pytest.mark.parametrize(("branch", "escaped"), [("main", "main"), ("a,b", "a%2Cb"), ("100%,x", "100%25%2Cx")])
def test_github_cache_keys_hold_no_comma(tmp_path, branch, escaped):
    """actions/cache refuses keys with commas, which git allows in branch names: the key step
    escapes them (and %, so that two branches never share a key)."""
    gh, _, _ = _pipelines(tmp_path)
    [step] = [s for s in gh["jobs"]["s01-test"]["steps"] if s.get("id") == "c2c-key"]
    out = tmp_path / "out"
    env = {"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(out), "C2C_TAG": branch, "C2C_DEFAULT_BRANCH": "x,y"}
    subprocess.run(["bash", "-c", step["run"]], env=env, check=True)
    assert out.read_text() == f"branch={escaped}\ndefault=x%2Cy\n"
    services = dict(SERVICES, db=dict(SERVICES["db"], default_cache_branch="rel,1"))
    gh, _, _ = _pipelines(tmp_path / "p2", services)
    restore = next(s for s in gh["jobs"]["s01-test"]["steps"] if s.get("uses") == "actions/cache/restore@v4")
    assert "c2c-docker-ci-db_rel%2C1:\n" in restore["with"]["restore-keys"]


def test_gitlab_jobs_keep_the_images_of_cached_services_in_the_cache(tmp_path):
    _, gl, _ = _pipelines(tmp_path)
    job = gl["s01-test"]
    assert job["cache"] == [
        {"key": "c2c-docker-ci-db_$CI_COMMIT_REF_SLUG", "fallback_keys": ["c2c-docker-ci-db_release-1-x"],
         "paths": ["ci/.c2c-cache/c2c-docker-ci-db/"], "when": "always"},
        {"key": "c2c-docker-ci-app_$CI_COMMIT_REF_SLUG", "fallback_keys": ["c2c-docker-ci-app_$CI_DEFAULT_BRANCH_SLUG"],
         "paths": ["ci/.c2c-cache/c2c-docker-ci-app/"], "when": "always"}]
    assert job["variables"] == {"C2C_CACHE_FROM": "db app"}
    script = job["script"]
    run = next(i for i, line in enumerate(script) if "./codeship-steps.sh" in line)
    assert script[run].endswith('"$@" || c2c_status=$?')
    script[run] = script[run].split("|| ", 1)[1]  # the images are kept also when the step failed
    assert any("docker load" in line for line in script[:run])
    # the restored folder leaves the project before the script (the build context must not hold it)
    assert script.index('if [ -d .c2c-cache ] && ! mv .c2c-cache "$c2c_away/"; then rm -rf .c2c-cache; fi') < run
    assert any("docker save" in line for line in script[run:])
    assert script[-1] == 'exit "${c2c_status:-0}"'
    assert "cache" not in gl["s02-more-web"] and "cache" not in gl["s02-more-tool"]
    assert [line for line in gl["s02-more-web"]["script"] if "./codeship-steps.sh" in line][0].endswith('"$@"')


def test_a_project_without_cached_services_has_no_cache_lines(tmp_path):
    services = {k: {x: y for x, y in v.items() if x not in ("cached", "default_cache_branch")}
                for k, v in SERVICES.items()}
    gh, gl, texts = _pipelines(tmp_path, services)
    jobs = yaml.safe_dump({k: v for k, v in gl.items() if k != "default"})  # (default: the docker set-up)
    for text in (texts["codeship.yml"], jobs):
        for word in ("cache", "c2c_", "docker load", "docker save", "C2C_CACHE_FROM"):
            assert word not in text, (word, text)
    assert gl["s01-test"]["script"][2].startswith("./codeship-steps.sh")


def test_gitlab_cache_keys_of_two_images_never_meet(tmp_path):
    """Image app on branch x-main and image app-x on main: the keys differ (`_` between image
    and branch, which neither has); a job's merged cache has its own prefix."""
    services = {"app": {"build": {"image": "app", "context": "."}, "cached": True},
                "app-x": {"build": {"image": "app-x", "context": "."}, "cached": True}}
    steps = [{"name": "a", "service": "app", "command": "true"}, {"name": "b", "service": "app-x", "command": "true"}]
    _, gl, _ = _pipelines(tmp_path, services, steps)
    keys = {gl[j]["cache"][0]["key"] for j in ("s01-a", "s02-b")}
    assert keys == {"c2c-docker-app_$CI_COMMIT_REF_SLUG", "c2c-docker-app-x_$CI_COMMIT_REF_SLUG"}
    assert "c2c-docker-app_x-main" != "c2c-docker-app-x_main"
    assert [k.replace("$CI_COMMIT_REF_SLUG", b) for k, b in zip(sorted(keys), ("x-main", "main"))] == [
        "c2c-docker-app-x_x-main", "c2c-docker-app_main"]


def test_cache_steps_are_schema_valid_and_shellcheck_clean(tmp_path):
    from conftest import need_tool
    from test_ci_pipelines import _schema

    need_tool("shellcheck", "--version")
    gh, gl, _ = _pipelines(tmp_path)
    assert not list(_schema("github-workflows.json").iter_errors(gh))
    assert not list(_schema("gitlab-ci.json").iter_errors(gl))
    scripts = [("bash", s["run"]) for s in gh["jobs"]["s01-test"]["steps"] if "run" in s]
    scripts.append(("sh", "\n".join(gl["default"]["before_script"] + gl["s01-test"]["script"])))
    for shell, text in scripts:
        proc = subprocess.run(["shellcheck", "-s", shell, "-"], input=text, capture_output=True, text=True)
        assert proc.returncode == 0, f"{text}\n{proc.stdout}"


# --- for real, on the platforms' local runners ---------------------------------------------------
def _cached_repo(root: Path, token: str, platform: str) -> tuple[Path, str]:
    """A git repository with the project in ci/: one cached service whose Dockerfile is slow."""
    from test_ci_runs import _git

    image = f"c2c-e2e-{token}"
    repo = root / "repo"
    cached_project(repo / "ci", image, token, translated=False)
    (repo / ".gitignore").write_text(".gitlab-ci-local/\n.c2c-cache/\n")
    _git(repo.parent, "init", "-q", "-b", "master", str(repo))
    translate_project(repo / "ci", "--ci", platform)
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "c")
    return repo, image


@pytest.mark.docker
def test_gitlab_second_pipeline_restores_the_cache_and_builds_from_it(tmp_path):
    """Both pipelines run on master: gitlab-ci-local 4.56 ignores `fallback_keys` (and does not
    set CI_DEFAULT_BRANCH_SLUG), so a branch starting from another branch's cache cannot be run
    here; the fallback keys are checked as text (test_gitlab_jobs_keep_the_images_…). The second
    run's COPY . layer is a cache hit only when no cache file is in the build context."""
    from test_ci_runs import _runner, as_shell_executor, run_pipeline

    gcl = _runner("gitlab-ci-local")
    token = f"c2c-cache-{uuid.uuid4().hex[:12]}"
    repo, image = _cached_repo(tmp_path, token, "gitlab")
    as_shell_executor(repo)
    argv = [gcl, "--shell-isolation", "--no-color", "--variable", "C2C_COMPOSE=v2", "--variable", "C2C_GITLAB_DOCKER=host"]
    try:
        code, first = run_pipeline(argv, repo, {})
        assert code == 0 and cache_hits(first, token) == 0
        assert "exported cache" in first
        forget_build(token, image)  # the next pipeline runs on a fresh runner
        code, second = run_pipeline(argv, repo, {})
        assert code == 0
        assert f"imported cache 'c2c-docker-{image}_master'" in second
        assert f"Loaded image: {image}:latest" in second
        assert cache_hits(second, token) == 2  # both RUN lines from the loaded image, the slow one too
    finally:
        forget_build(token, image)


@pytest.mark.docker
def test_github_run_on_another_branch_restores_the_default_branch_cache(tmp_path):
    """With Compose v1 (the classic builder): a first run on master keeps the image; a run on a
    new branch finds no cache of its own and restores master's through restore-keys (the last
    one, the repository's default branch). The second run's COPY . layer is a cache hit only when
    no cache file is in the build context."""
    from test_ci_runs import ACTIONS, _branch, _runner, run_pipeline

    binary = _runner("act")
    token = f"c2c-cache-{uuid.uuid4().hex[:12]}"
    repo, image = _cached_repo(tmp_path, token, "github")
    store = tmp_path / "cache-store"  # the repository's Actions cache, kept between the runs

    def act(branch: str) -> tuple[int, str]:
        event = tmp_path / "push.json"
        event.write_text(json.dumps({"ref": f"refs/heads/{branch}", "repository": {"default_branch": "master"}}))
        argv = [binary, "push", "-e", str(event), "-P", "ubuntu-latest=-self-hosted",
                "--env", f"C2C_TEST_REPO={repo}", "--env", f"C2C_CACHE_STORE={store}", "--env", "C2C_COMPOSE=v1"]
        for action in ("checkout", "cache"):
            argv += ["--local-repository", f"actions/{action}@v4={ACTIONS / action}"]
        return run_pipeline(argv, repo, {})

    try:
        code, first = act("master")
        assert code == 0 and cache_hits(first, token) == 0
        assert "Cache saved with key: c2c-docker-" in first
        forget_build(token, image)  # the next run has a fresh runner
        _branch(repo, "feature/x")
        code, second = act("feature/x")
        assert code == 0
        assert f"Cache restored from key: c2c-docker-{image}_master:" in second
        assert cache_hits(second, token) == 2  # both RUN lines from the loaded image, the slow one too
        assert "Cache saved" not in second  # the image did not change: nothing new to keep
    finally:
        forget_build(token, image)


def test_migration_report_says_where_the_cached_images_are_kept(tmp_path):
    from e2e_support import write_codeship
    from helpers import run_cli

    write_codeship(tmp_path, SERVICES, STEPS, {"Dockerfile": "FROM busybox\n", "Dockerfile.db": "FROM busybox\n"})
    result = run_cli("translate", ".", "--ci", "github", "--ci", "gitlab", "--report", "report.md", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    report = (tmp_path / "report.md").read_text()
    assert "`cached: true` (db, app): each job keeps the image it built in the platform's cache" in report
    assert "'Use separate caches for protected branches'" in report
    assert "a run reads only its own branch's, the default branch's and a pull request's base branch's" in report
    assert "$CI_DEFAULT_BRANCH_SLUG, a predefined variable of GitLab 17.x" in report


def test_two_images_never_share_a_cache():
    from translator.ci.plan import cache_name

    assert cache_name("ci-app") == "c2c-docker-ci-app"
    names = {cache_name(image) for image in ("org/app", "org-app", "org/app:2", "Org/App", "x" * 100, "x" * 101)}
    assert len(names) == 6
    assert all(len(n) < 90 for n in names)
