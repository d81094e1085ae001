"""Reading values out of an upstream's JSON without trusting their types.

A well-formed answer can still hold a number where text belongs, a string
where a list belongs, or an object where a string belongs; these helpers give
the value in the expected shape or nothing, so a parser never raises on them.
"""

from __future__ import annotations

from typing import Any


def text(value: Any) -> str | None:
    """Text, or a number as text; anything else (lists, objects, booleans) is no text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return None


def first_text(value: Any) -> str | None:
    """The first text of a list (Crossref's titles), or the value itself when it is text."""
    if isinstance(value, list):
        return next((t for t in map(text, value) if t), None)
    return text(value)


def objects(value: Any) -> list[dict]:
    """The objects of a list; a lone object stands for a list of one (DBLP does that)."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}
