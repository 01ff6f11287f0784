"""Find the services and steps files the way jet does (plus the spellings older jet read)."""

from __future__ import annotations

from pathlib import Path

SERVICES_NAMES = (
    "codeship-services.yml", "codeship-services.yaml", "codeship-services.json",
    "jet-services.yml", "jet-services.yaml", "jet-services.json",
    "docker-compose.yml", "docker-compose.yaml",
)
STEPS_NAMES = (
    "codeship-steps.yml", "codeship-steps.yaml", "codeship-steps.json",
    "jet-steps.yml", "jet-steps.yaml", "jet-steps.json",
)


def find_file(directory: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None
