"""Splitting the display names some upstreams give (arXiv, DBLP) into family and given.

Written here rather than borrowed: bibtexparser's splitter gives the same
answers on the real names we hold (the tests compare them), except that it
takes any lower-case word for a particle ("Kyoo il Kim" -> "il Kim"); `bib
resolve` must not need bibtexparser anyway, and nameparser, the other
candidate, costs 0.1 s to import and ten times our time per name.
"""

from __future__ import annotations

import re

from bib.record import Person

PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "la", "le", "du", "dos"}
_DBLP_HOMONYM = re.compile(r"\s+\d{4}$")


def split_name(name: str) -> Person:
    """'Joseph E. Gonzalez' -> Gonzalez, Joseph E.

    As BibTeX reads "First von Last": the family name starts at the first
    lower-case particle after the given name ("Vânia de Oliveira Neves" ->
    "de Oliveira Neves"), or else is the last word.
    """
    words = _DBLP_HOMONYM.sub("", " ".join(name.split())).split(" ")
    if len(words) == 1:
        return Person(family=words[0])
    start = next((i for i in range(1, len(words) - 1) if words[i] in PARTICLES), len(words) - 1)
    return Person(family=" ".join(words[start:]), given=" ".join(words[:start]))
