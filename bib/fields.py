"""What a record's fields may hold: one pattern per field, real dates, clean text.

Every value an upstream sends is hostile until it passes here: `clean_record`
drops what does not fit (with a warning naming the upstream), and the lock's
schema uses the same patterns. So a page range cannot close a BibTeX field,
a class cannot carry a newline, and a month is a month, whatever arrives.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from bib.ids import is_dblp_key, normalize_arxiv, normalize_doi
from bib.record import Person, Record
from bib.text import clean_text

PAGES = r"^[A-Za-z0-9:.]{1,20}(?:\s*[-\u2010-\u2015]{1,3}\s*[A-Za-z0-9:.]{1,20})?$"
VOLUME = r"^[A-Za-z0-9][A-Za-z0-9 ./:()-]{0,39}$"  # also issue numbers: "2", "abs/2401.11181"
ARXIV_CLASS = r"^[a-z-]{2,16}(?:\.[A-Za-z-]{2,16})?$"  # cs.DC, hep-th, physics.comp-ph
VERSION = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,31}$"
SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"  # catalog ids and category file names
KEY = r"^[A-Za-z0-9][A-Za-z0-9_:.+-]{0,99}$"  # safe in every .bib dialect and in LaTeX \cite
URL = r"^https?://[^\s\x00-\x1f\x7f\"<>\\]{1,2000}$"  # braces are encoded where written
_WEB_SCHEME = re.compile(r"https?://[^/?#\s]", re.IGNORECASE)
YEARS = range(1000, 2200)

_PATTERNS = {
    name: re.compile(pattern)
    for name, pattern in (
        ("pages", PAGES),
        ("volume", VOLUME),
        ("number", VOLUME),
        ("arxiv_class", ARXIV_CLASS),
        ("version", VERSION),
    )
}
_TEXT_FIELDS = ("container_title", "collection_title", "publisher", "publisher_place")


def is_key(text: str) -> bool:
    return bool(re.match(KEY, text))


def is_web_url(text: str) -> bool:
    """An http(s) URL with a host and nothing that could break out of a field or a link."""
    return bool(re.match(URL, text)) and has_web_scheme(text)


def has_web_scheme(text: str) -> bool:
    """What every writer checks before it writes a link: no `javascript:` or `data:` ever.

    http(s), "//" and a host: what `urlsplit` would call an http(s) URL with a
    netloc, a regular expression being far cheaper per link.
    """
    return bool(_WEB_SCHEME.match(text.strip()))


def date_parts(values: Iterable[object]) -> tuple[int, ...]:
    """Year, month and day as far as they are real: 2023-02-30 gives (2023, 2).

    Parts come as numbers or digit strings (Crossref sends both); the first part
    that is neither, or is out of range, ends the date.
    """
    parts: list[int] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | str):
            break
        text = str(value).strip()
        if not text.isascii() or not text.isdigit():
            break
        parts.append(int(text))
        if len(parts) == 3:
            break
    return valid_date(tuple(parts))


def valid_date(parts: tuple[int, ...]) -> tuple[int, ...]:
    """The longest prefix of (year, month, day) that is a real date."""
    if not parts or parts[0] not in YEARS:
        return ()
    if len(parts) < 2 or not 1 <= parts[1] <= 12:
        return parts[:1]
    if len(parts) < 3:
        return parts[:2]
    try:
        dt.date(*parts[:3])
    except ValueError:
        return parts[:2]
    return parts[:3]


def clean_person(person: Person) -> Person | None:
    parts = [clean_text(p) if p else None for p in person]
    cleaned = Person(*(p or None for p in parts))
    return cleaned if any(cleaned) else None


def clean_record(record: Record) -> tuple[Record | None, list[str]]:
    """The record with every value that does not fit its field dropped, and what was dropped.

    None when no title is left: a record without one cannot stand for a paper.
    Warnings name the upstream (the record's `source`) and the value, shown with
    `repr` so that no control character reaches a terminal.
    """
    source = record.source
    warnings: list[str] = []

    def drop(name: str, value: object, why: str) -> None:
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        warnings.append(f"{source}: dropped {name} {shown} ({why})")

    title = clean_text(record.title) if isinstance(record.title, str) else ""
    if not title:
        drop("record", record.title, "no title")
        return None, warnings
    changes: dict[str, object] = {"title": title}
    authors = tuple(p for p in (clean_person(p) for p in record.authors) if p)
    if len(authors) != len(record.authors):
        drop("authors", len(record.authors) - len(authors), "empty names")
    changes["authors"] = authors
    issued = valid_date(record.issued)
    if issued != record.issued:
        drop("date part(s)", record.issued[len(issued) :], "not a real date")
    changes["issued"] = issued
    for name in (*_TEXT_FIELDS, *_PATTERNS, "doi", "arxiv_id", "dblp_key", "url"):
        value = getattr(record, name)
        if value is not None and not isinstance(value, str):
            drop(name, value, "not text")
            changes[name] = value = None
        if name in _TEXT_FIELDS:
            changes[name] = clean_text(value) or None if value else None
    for name, pattern in _PATTERNS.items():
        value = changes.get(name, getattr(record, name))
        if value is not None and not pattern.match(clean_text(value)):
            drop(name, value, "does not look like one")
            value = None
        changes[name] = clean_text(value) if value else None
    checks = (
        ("doi", lambda v: normalize_doi(v) == v, "not a normalized DOI"),
        ("arxiv_id", lambda v: (normalize_arxiv(v) or ("",))[0] == v, "not an arXiv id"),
        ("dblp_key", is_dblp_key, "not a DBLP key"),
        ("url", is_web_url, "not an http(s) URL"),
    )
    for name, valid, why in checks:
        value = changes.get(name, getattr(record, name))
        if value is not None and not valid(value):
            drop(name, value, why)
            changes[name] = None
    return record.with_(**changes), warnings
