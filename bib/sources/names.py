"""Splitting the display names some upstreams give (arXiv, DBLP) into family and given."""

from __future__ import annotations

import re

from bib.record import Person

_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "la", "le", "du", "dos"}
_DBLP_HOMONYM = re.compile(r"\s+\d{4}$")


def split_name(name: str) -> Person:
    """'Joseph E. Gonzalez' -> Gonzalez, Joseph E.; lower-case particles join the family name."""
    words = _DBLP_HOMONYM.sub("", " ".join(name.split())).split(" ")
    if len(words) == 1:
        return Person(family=words[0])
    cut = len(words) - 1
    while cut > 1 and words[cut - 1].lower() in _PARTICLES and words[cut - 1].islower():
        cut -= 1
    return Person(family=" ".join(words[cut:]), given=" ".join(words[:cut]))
