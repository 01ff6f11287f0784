"""Names Compose accepts. Codeship took any YAML key as a service name; Compose allows
[a-zA-Z0-9._-] and the Compose CLI would read a leading '-' as an option."""

from __future__ import annotations

import re

_INVALID = re.compile(r"[^a-zA-Z0-9._-]+")


def compose_service_name(name: str) -> str:
    """The same name for the same input, every time; references are mapped the same way."""
    cleaned = _INVALID.sub("-", name).lstrip("-.")
    return cleaned or "service"
