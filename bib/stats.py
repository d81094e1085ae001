"""`bib stats`: how many papers per category, year and venue, for a glance at the list.

`summarize` counts; `bib.commands.stats` prints the counts for a terminal
and `exporters.stats_svg` draws them. Everything is deterministic: categories keep
the catalog's order, years ascend (records without a year last), and venues go
by count, most first, ties by name.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bib.record import Bibliography, Record
from bib.venues import short_name

PREPRINT = "arXiv"
SOFTWARE = "software"
NO_YEAR = "no year"

_SPACE = re.compile(r"\s+")
Counts = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Stats:
    """Counts over every record of a bibliography (software included).

    Each of `categories`, `years` and `venues` is a tuple of (label, count)
    pairs in display order.
    """

    title: str
    categories: Counts
    years: Counts
    venues: Counts
    papers: int
    published: int  # conference papers and journal articles
    preprints: int
    software: int
    with_doi: int
    with_arxiv: int


def venue(record: Record) -> str:
    """A short venue label for one record."""
    if record.type == "software":
        return SOFTWARE
    if record.type == "preprint":
        return PREPRINT if record.arxiv_id else "preprint"
    if record.container_title and record.container_title.strip():
        return short_name(record.container_title)
    return "unresolved" if record.type == "misc" else "unknown venue"


def _by_count(counter: Counter[str]) -> Counts:
    """Most first; ties by name (case-insensitively, then exactly)."""
    return tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0].casefold(), item[0])))


def _by_year(records: Iterable[Record]) -> Counts:
    counter = Counter(record.year for record in records)
    known = sorted(year for year in counter if year is not None)
    pairs = [(str(year), counter[year]) for year in known]
    if None in counter:
        pairs.append((NO_YEAR, counter[None]))
    return tuple(pairs)


def summarize(bibliography: Bibliography) -> Stats:
    records = bibliography.records
    return Stats(
        title=bibliography.title,
        categories=tuple((s.title, len(s.records)) for s in bibliography.sections),
        years=_by_year(records),
        venues=_by_count(Counter(venue(r) for r in records)),
        papers=len(records),
        published=sum(r.type in ("paper-conference", "article-journal") for r in records),
        preprints=sum(r.type == "preprint" for r in records),
        software=sum(r.type == "software" for r in records),
        with_doi=sum(bool(r.doi) for r in records),
        with_arxiv=sum(bool(r.arxiv_id) for r in records),
    )


def top(counts: Counts, limit: int, other: str = "other") -> Counts:
    """The first `limit` pairs, and the rest added up as one `other` pair if there is a rest."""
    if len(counts) <= limit:
        return counts
    rest = sum(count for _label, count in counts[limit:])
    return (*counts[:limit], (other, rest))


def totals_line(stats: Stats) -> str:
    kinds = [
        f"{stats.published} published",
        f"{stats.preprints} preprint{'s' if stats.preprints != 1 else ''}",
    ]
    if stats.software:
        kinds.append(f"{stats.software} software")
    return (
        f"{stats.papers} paper{'s' if stats.papers != 1 else ''} "
        f"({', '.join(kinds)}; {stats.with_doi} with DOI, {stats.with_arxiv} with arXiv id)"
    )
