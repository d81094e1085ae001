"""The lock file's JSON Schema (draft 7), built from the same patterns the records obey.

The lock is committed and edited by pull requests, so it is read as
untrusted input: a value that passes this schema can be written into every
output format as it is.
"""

from __future__ import annotations

from typing import Any

from bib import fields
from bib.record import RECORD_TYPES
from bib.text import INVISIBLE

LOCK_VERSION = 1
# Text a reader sees: no control, zero-width or bidirectional formatting characters.
_VISIBLE = f"^[^{INVISIBLE}]+$"
_TEXT = {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": _VISIBLE}


def _string(pattern: str) -> dict[str, Any]:
    return {"type": "string", "pattern": pattern}


_PERSON = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": False,
    "properties": {"family": _TEXT, "given": _TEXT, "literal": _TEXT},
}
_RECORD = {
    "type": "object",
    "required": ["type", "title"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": list(RECORD_TYPES)},
        "title": _TEXT,
        "authors": {"type": "array", "items": _PERSON},
        "issued": {
            "type": "array",
            "minItems": 1,
            "items": [
                {"type": "integer", "minimum": min(fields.YEARS), "maximum": max(fields.YEARS)},
                {"type": "integer", "minimum": 1, "maximum": 12},
                {"type": "integer", "minimum": 1, "maximum": 31},
            ],
            "additionalItems": False,
        },
        "container_title": _TEXT,
        "collection_title": _TEXT,
        "volume": _string(fields.VOLUME),
        "number": _string(fields.VOLUME),
        "pages": _string(fields.PAGES),
        "publisher": _TEXT,
        "publisher_place": _TEXT,
        "doi": _string(r"^10\.\d{4,9}/[-._;()/:<>a-z0-9]+$"),
        "arxiv_id": _string(r"^(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})$"),
        "arxiv_class": _string(fields.ARXIV_CLASS),
        "dblp_key": _string(r"^(conf|journals|books|phd|series|reference|tr)/[\w.-]+/[\w.-]+$"),
        "url": _string(fields.URL),
        "version": _string(fields.VERSION),
        "source": _string(r"^[a-z][a-z-]{0,30}$"),
        "retrieved": _string(r"^\d{4}-\d{2}-\d{2}$"),
    },
}
_ENTRY = {
    "type": "object",
    "required": ["key", "record"],
    "additionalProperties": False,
    "properties": {
        "key": _string(fields.KEY),
        "identifiers": {
            "type": "array",
            "items": _string(r"^(doi|arxiv|dblp|url|pypi):\S{1,2000}$"),
            "uniqueItems": True,
        },
        "record": _RECORD,
    },
}
SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "sources.lock.json",
    "type": "object",
    "required": ["lock_version", "entries"],
    "additionalProperties": False,
    "properties": {
        "lock_version": {"const": LOCK_VERSION},
        "entries": {
            "type": "object",
            "propertyNames": {"pattern": fields.SLUG},
            "additionalProperties": _ENTRY,
        },
    },
}
