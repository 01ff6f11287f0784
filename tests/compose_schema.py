"""Tests' check of a generated Compose document against the Compose Specification JSON schema,
as shipped by check-jsonschema (kept current there, so it is not copied here). jsonschema and
check-jsonschema are test dependencies (the `test` extra), not the package's."""

from __future__ import annotations

import json
from functools import lru_cache


@lru_cache(maxsize=1)
def _validator():
    from importlib.resources import files

    import jsonschema

    text = (files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json").read_text("utf-8")
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def compose_schema_errors(document: dict) -> list[str]:
    """Every schema violation as 'path: message'; empty when the document is valid."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return ["/".join(map(str, e.absolute_path)) + ": " + e.message for e in errors]
