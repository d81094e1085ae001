"""One written form per person across the bibliography, whatever each upstream sent.

arXiv, DBLP, PMLR and Crossref spell some people differently ("Ré" and "Re",
"McAllister" and "Mcallister"). Two occurrences are taken for one person when
their names fold to the same letters (case, accents and punctuation aside) and
their papers share a co-author, directly or through a chain of such papers;
everyone with that name in unrelated papers is left alone, since two people
may fold to one name. Each person is then written in the richest form seen:
the most diacritics, then the most capitals past the first letter (the
person's own "McAllister"), then the most frequent, then the first.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence

from bib.record import Person, Record
from bib.text import ascii_fold

Occurrence = tuple[int, int]  # (record index, author index)


def folded(person: Person) -> str:
    """The name with case, accents, punctuation and spacing removed."""
    text = " ".join(p for p in (person.given, person.family, person.literal) if p)
    return re.sub(r"[^a-z0-9]+", "", ascii_fold(text).lower())


def _richness(person: Person) -> tuple[int, int]:
    text = "".join(p for p in person if p)
    accents = sum(not c.isascii() for c in text)
    inner_capitals = sum(c.isupper() for word in text.split() for c in word[1:])
    return accents, inner_capitals


class _Groups:
    """Union-find over occurrences."""

    def __init__(self) -> None:
        self.parent: dict[Occurrence, Occurrence] = {}

    def find(self, x: Occurrence) -> Occurrence:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: Occurrence, b: Occurrence) -> None:
        self.parent[self.find(a)] = self.find(b)


def one_form(records: Sequence[Record]) -> list[Record]:
    """`records` with every person written one way; records without a change are kept as is."""
    names = [[folded(p) for p in r.authors] for r in records]
    by_name: dict[str, list[Occurrence]] = defaultdict(list)
    for r, people in enumerate(names):
        for a, name in enumerate(people):
            if name:
                by_name[name].append((r, a))
    groups = _Groups()
    for name, places in by_name.items():
        spellings = {records[r].authors[a] for r, a in places}
        if len(spellings) < 2:
            continue  # written one way already: nothing to choose
        for i, (r1, a1) in enumerate(places):
            for r2, a2 in places[i + 1 :]:
                shared = (set(names[r1]) & set(names[r2])) - {name, ""}
                if shared:
                    groups.join((r1, a1), (r2, a2))
    members: dict[Occurrence, list[Occurrence]] = defaultdict(list)
    for place in groups.parent:
        members[groups.find(place)].append(place)
    chosen: dict[Occurrence, Person] = {}
    for places in members.values():
        forms = [records[r].authors[a] for r, a in sorted(places)]
        counts = Counter(forms)
        best = max(dict.fromkeys(forms), key=lambda p: (*_richness(p), counts[p]))
        chosen.update({place: best for place in places})
    out = list(records)
    for r in sorted({r for r, _ in chosen}):
        authors = tuple(chosen.get((r, a), p) for a, p in enumerate(records[r].authors))
        if authors != records[r].authors:
            out[r] = records[r].with_(authors=authors)
    return out
