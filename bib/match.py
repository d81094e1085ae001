"""The guard: does a candidate record really describe the catalog's paper?

Accepting a wrong match silently corrupts every paper that cites it, so a
candidate must carry the catalog title (or an alias the maintainer recorded),
and, when both sides know their authors, share some of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bib.record import Person, Record
from bib.text import ascii_fold


def normalize_title(title: str) -> str:
    """Case, accents, punctuation and spacing removed: 'Flash-LLM:' == 'flash llm'."""
    return re.sub(r"[^a-z0-9]+", "", ascii_fold(title).lower())


_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")


def title_matches(candidate: str, titles: Iterable[str]) -> bool:
    titles = tuple(titles)
    if candidate in titles:  # the common case, the very same text: normalize it once, if at all
        if candidate.isascii() and _ASCII_ALNUM.search(candidate):
            return True
        return bool(normalize_title(candidate))
    wanted = normalize_title(candidate)
    return bool(wanted) and any(normalize_title(t) == wanted for t in titles)


def _families(people: Iterable[Person]) -> set[str]:
    return {normalize_title(p.family or p.literal or "") for p in people} - {""}


def authors_overlap(a: tuple[Person, ...], b: tuple[Person, ...]) -> bool:
    """True when either side has no authors, or they share the first author or half of them.

    Author lists do change between a preprint and its published version
    (FlexGen went from 14 to 10 authors), so full equality would be too strict.
    """
    left, right = _families(a), _families(b)
    if not left or not right:
        return True
    if _families(a[:1]) == _families(b[:1]):
        return True
    return len(left & right) * 2 >= min(len(left), len(right))


def accepts(candidate: Record, titles: Iterable[str], authors: tuple[Person, ...] = ()) -> bool:
    return title_matches(candidate.title, titles) and authors_overlap(candidate.authors, authors)
