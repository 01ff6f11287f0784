"""Docker layer cache for `cached: true` services (Codeship kept their last image and pulled it
as the next build's cache): each job keeps the image the script built under its plain name in the
platform's cache (`docker save`, one entry per image, keyed by branch) and loads it before the
next run, where the script builds with it as `cache_from` (C2C_CACHE_FROM). Commands are POSIX sh:
GitLab's shell may be sh, GitHub's is bash."""

from __future__ import annotations

from ..shell import sq
from .plan import Cache

DIR = ".c2c-cache"  # under the outputs' folder, where the jobs work
ENV = "C2C_CACHE_FROM"


def folder(cache: Cache) -> str:
    return f"{DIR}/{cache.name}"


def services(caches: list[Cache]) -> str:
    return " ".join(c.service for c in caches)


def load_lines(caches: list[Cache]) -> list[str]:
    """Load each restored image (a damaged one only costs the cache) and note the id of the
    image the runner then has, so that an image the run leaves unchanged is not saved again."""
    lines = ["mkdir -p " + DIR]
    for c in caches:
        d = folder(c)
        lines.append(f"if [ -f {d}/image.tar ] && ! docker load -q -i {d}/image.tar; then "
                     f"echo {sq(f'the cached image of {c.service} could not be loaded: it is built without it')} >&2; fi")
        lines.append(f"docker image inspect -f '{{{{.Id}}}}' {sq(c.image)} > {d}.loaded 2>/dev/null || true")
    return lines


def save_lines(caches: list[Cache], output: bool) -> list[str]:
    """`docker save` each image the run built (or changed); with output, say so in $GITHUB_OUTPUT
    as save_N=true (N: the cache's index) for the step that uploads it. A failure here only
    costs the next run its cache."""
    lines = []
    for n, c in enumerate(caches):
        d = folder(c)
        save = f"mkdir -p {d} && docker save -o {d}/image.tar {sq(c.image)}"
        warn = f"echo {sq(f'could not keep the image of {c.service} for the next runs')} >&2"
        save = (f'if {save}; then echo "save_{n}=true" >> "$GITHUB_OUTPUT"; else {warn}; fi' if output else
                f"if ! {{ {save}; }}; then {warn}; fi")
        lines.append(f"id=$(docker image inspect -f '{{{{.Id}}}}' {sq(c.image)} 2>/dev/null || true)")
        lines.append(f'if [ -n "$id" ] && [ "$id" != "$(cat {d}.loaded 2>/dev/null || true)" ]; then {save}; fi')
    return lines
