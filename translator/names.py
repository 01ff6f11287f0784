"""Names the outputs can use. Codeship took any YAML key as a service name; Compose allows
[a-zA-Z0-9._-] and the Compose CLI would read a leading '-' as an option. Docker's image and
volume names, and the CI files' job ids and cache names, take less: `slug`."""

from __future__ import annotations

import hashlib
import re

_INVALID = re.compile(r"[^a-zA-Z0-9._-]+")


def compose_service_name(name: str) -> str:
    """The same name for the same input, every time; references are mapped the same way."""
    cleaned = _INVALID.sub("-", name).lstrip("-.")
    return cleaned or "service"


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, limit: int = 0) -> str:
    """TEXT in lower case with each run of other characters than a-z and 0-9 made one `-`: the
    one rule for every name made from a user's text that Docker (image, volume names) or a CI
    file (job ids, cache names) must accept.

    Its edges, decided here once for every caller:
    - no `-` at either end (`--app!` is `app`): Docker's names and GitHub's job ids start with a
      letter or digit, and a name does not end in a separator;
    - `limit` (0: none) cuts it to that many characters, and a `-` the cut leaves at the end goes;
    - when nothing is left (a name of only other characters: `日本語`, `🚀`, `!!!`, `/`), `x` and 8
      hex digits of the text's SHA-256: it still starts with a letter, and two such names (two
      projects `日本` and `中国` on one machine) do not share their images.

    A slug loses information (`My App` and `my-app` have one); callers that need distinct names
    add a suffix (ci.plan's job ids) or a hash (ci.plan.cache_name) themselves. GitLab's own
    CI_COMMIT_REF_SLUG is a different rule, mirrored on purpose by ci.gitlab.commit_ref_slug."""
    cut = _NOT_SLUG.sub("-", text.lower()).strip("-")
    if limit:
        cut = cut[:limit].rstrip("-")
    return cut or "x" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
