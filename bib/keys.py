"""Citation keys in the form most paper READMEs publish: `kwon2023efficient`.

A key is part of every LaTeX document that cites it, so once the lock holds a
key it is reused verbatim; only entries new to the lock get generated keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import count, product
from string import ascii_lowercase

from bib.record import Record
from bib.text import ascii_fold

# Words a reader would not use to recall a title (Better BibTeX's skip list, trimmed).
_STOP_TEXT = """
a about above across after against along among an and around as at before behind below
beneath beside between beyond but by down during except for from in inside into like near
nor of off on onto or out over past since so than the through to toward towards under
until up upon via with within without yet is are be
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", ascii_fold(text).lower())


def base_key(record: Record) -> str:
    """family name + year + first significant title word; parts that are unknown are skipped."""
    author = ""
    if record.authors:
        first = record.authors[0]
        author = _alnum(first.family or first.literal or first.given or "")
    year = str(record.year) if record.year else ""
    word = ""
    # Hyphenated names stay whole: "S-LoRA" gives "slora", not "s".
    for token in re.split(r"[\s:/]+", record.title):
        candidate = _alnum(token)
        if candidate and candidate not in STOP_WORDS:
            word = candidate
            break
    return f"{author}{year}{word}" or _alnum(record.id) or "anonymous"


def _suffixes() -> Iterator[str]:
    """a ... z, aa ... zz, aaa ...: never runs out."""
    for length in count(1):
        for letters in product(ascii_lowercase, repeat=length):
            yield "".join(letters)


def assign_keys(records: Iterable[Record], frozen: dict[str, str]) -> dict[str, str]:
    """id -> key for every record; `frozen` (id -> key from the lock) always wins.

    Records are taken in catalog order, so the first of two colliding papers
    keeps the bare key and later ones get `a`, `b`, ... as Better BibTeX does.
    """
    keys: dict[str, str] = {}
    # biber compares keys case-insensitively: "Kwon2023x" in the lock takes "kwon2023x" too.
    taken = {key.lower() for key in frozen.values()}
    suffixes: dict[str, Iterator[str]] = {}
    for record in records:
        if record.id in frozen:
            keys[record.id] = frozen[record.id]
            continue
        base = base_key(record)
        key = base
        if key in taken:
            # One suffix iterator per base keeps many collisions linear, not quadratic.
            remaining = suffixes.setdefault(base, _suffixes())
            key = next(base + s for s in remaining if base + s not in taken)
        taken.add(key.lower())
        keys[record.id] = key
    return keys
