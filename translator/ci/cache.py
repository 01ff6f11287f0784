"""Docker layer cache for `cached: true` services (Codeship kept their last image and pulled it
as the next build's cache): each job keeps the image the script built under its plain name in the
platform's cache (`docker save`, one entry per image, keyed by branch) and loads it before the
next run, where the script builds with it as `cache_from` (C2C_CACHE_FROM). Commands are POSIX sh:
GitLab's shell may be sh, GitHub's is bash."""

from __future__ import annotations

from ..shell import sq
from .plan import Cache

DIR = ".c2c-cache"  # GitLab: where the cache is restored and saved (GitLab caches only paths in the project)
ENV = "C2C_CACHE_FROM"
# Nothing of the cache stays in the outputs' folder (usually a build context: `COPY . .` would copy
# the last image.tar into the new image) while the script runs: on GitHub the cache lives under
# the runner's temp folder; on GitLab the restored folder is moved out of the project after
# `docker load` and a tar is put back only after the script.
GITHUB_DIR = '"$RUNNER_TEMP"/c2c-cache'
GITLAB_AWAY = "c2c_away"  # the shell variable naming the folder the restored one was moved to


def folder(cache: Cache) -> str:
    return f"{DIR}/{cache.name}"


def github_path(cache: Cache) -> str:
    """actions/cache's path of the cache: under the runner's temp folder, outside the tree."""
    return "${{ runner.temp }}/c2c-cache/" + cache.name


def services(caches: list[Cache]) -> str:
    return " ".join(c.service for c in caches)


def _load(c: Cache, tar: str) -> str:
    return (f"if [ -f {tar} ] && ! docker load -q -i {tar}; then "
            f"echo {sq(f'the cached image of {c.service} could not be loaded: it is built without it')} >&2; fi")


def _inspect(c: Cache) -> str:
    return f"docker image inspect -f '{{{{.Id}}}}' {sq(c.image)} 2>/dev/null || true"


def _save(c: Cache, d: str) -> str:
    """docker save into a temporary file renamed into place: a failed save leaves no truncated
    image.tar for the platform to keep."""
    return (f"mkdir -p {d} && docker save -o {d}/image.tar.part {sq(c.image)} && "
            f"mv {d}/image.tar.part {d}/image.tar")


def _warn(c: Cache) -> str:
    return f"echo {sq(f'could not keep the image of {c.service} for the next runs')} >&2"


def github_load_lines(caches: list[Cache]) -> list[str]:
    """Load each restored image (a damaged one only costs the cache) and note the id of the
    image the runner then has, so that an image the run leaves unchanged is not saved again."""
    lines = []
    for c in caches:
        d = f"{GITHUB_DIR}/{c.name}"
        lines.append(_load(c, f"{d}/image.tar"))
        lines.append(f"mkdir -p {GITHUB_DIR} && {{ {_inspect(c)}; }} > {d}.loaded")
    return lines


def github_save_lines(caches: list[Cache]) -> list[str]:
    """`docker save` each image the run built (or changed) and say so in $GITHUB_OUTPUT as
    save_N=true (N: the cache's index) for the step that uploads it. A failure here only costs
    the next run its cache."""
    lines = []
    for n, c in enumerate(caches):
        d = f"{GITHUB_DIR}/{c.name}"
        lines.append(f"id=$({_inspect(c)})")
        lines.append(f'if [ -n "$id" ] && [ "$id" != "$(cat {d}.loaded 2>/dev/null || true)" ]; then '
                     f'if {_save(c, d)}; then echo "save_{n}=true" >> "$GITHUB_OUTPUT"; '
                     f"else rm -f {d}/image.tar.part; {_warn(c)}; fi; fi")
    return lines


def gitlab_load_lines(caches: list[Cache]) -> list[str]:
    """Load each restored image, note its id in c2c_loaded_N, and move the restored folder (with
    anything an earlier job left there) out of the project, where the script's builds cannot
    see it. None without caches."""
    if not caches:
        return []
    lines = []
    for n, c in enumerate(caches):
        lines.append(_load(c, f"{folder(c)}/image.tar"))
        lines.append(f"c2c_loaded_{n}=$({_inspect(c)})")
    lines.append(f"{GITLAB_AWAY}=$(mktemp -d)")
    lines.append(f'if [ -d {DIR} ] && ! mv {DIR} "${GITLAB_AWAY}/"; then rm -rf {DIR}; fi')
    return lines


def gitlab_save_lines(caches: list[Cache]) -> list[str]:
    """Put each image back into the project for GitLab's cache: `docker save` when the run built
    (or changed) it, else the restored tar as it was (GitLab then finds the cache up to date).
    A failure here only costs the next run its cache."""
    lines = []
    for n, c in enumerate(caches):
        d = folder(c)
        kept = f'"${GITLAB_AWAY}"/{d}/image.tar'
        lines.append(f"id=$({_inspect(c)})")
        lines.append(f'if [ -n "$id" ] && [ "$id" != "$c2c_loaded_{n}" ]; then '
                     f"if ! {{ {_save(c, d)}; }}; then rm -f {d}/image.tar.part; {_warn(c)}; fi; "
                     f"elif [ -f {kept} ] && ! {{ mkdir -p {d} && mv {kept} {d}/; }}; then {_warn(c)}; fi")
    lines.append(f'rm -rf "${GITLAB_AWAY}"')
    return lines
