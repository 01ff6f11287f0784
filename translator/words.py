"""Words for messages: counted nouns ("1 step", "2 steps"), never "1 steps" or "step(s)"."""

from __future__ import annotations


def plural(count: int, noun: str, many: str = "") -> str:
    """`1 step`, `2 steps` (`many`: the plural when it is not NOUN + s)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"
