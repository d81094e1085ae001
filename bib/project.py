"""The project every command works on: the catalog and its lock, loaded once.

Commands ask this facade for the bibliography, the records that fall back to
the catalog, and the entries whose lock is missing or stale, instead of each
reading `sources.yaml` and `sources.lock.json` in its own way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from bib import catalog as catalog_mod
from bib import lock as lock_mod
from bib.catalog import Catalog, Entry
from bib.keys import assign_keys
from bib.lock import LockedEntry
from bib.match import title_matches
from bib.record import Bibliography, Record, Section
from bib.venues import Form
from bib.venues import apply as venue_names


def fallback_record(entry: Entry) -> Record:
    """What the list itself says about an entry that no upstream has resolved yet.

    The arXiv id or DOI its link or pins name comes along (`eprint`, `doi` in
    the .bib), so even an unresolved entry can be cited and found.
    """
    known = {i.kind: i.value for i in reversed(entry.identifiers)}
    url = known.get("url", entry.link)
    return Record(
        id=entry.id,
        key="",
        type="software" if entry.type == "software" else "misc",
        title=entry.title,
        doi=known.get("doi"),
        arxiv_id=known.get("arxiv"),
        url=url,
        source="catalog",
    )


def locked_for(entry: Entry, locked: LockedEntry) -> bool:
    """Whether `locked` was resolved for this entry's paper: its identifiers and its title.

    A catalog edited to point at another paper, or another list's lock reused
    with this catalog, must not hand one paper's record to another entry.
    """
    if locked.identifiers != entry.identifier_texts:
        return False
    return locked.record.source == "catalog" or title_matches(
        locked.record.title, [entry.title, *entry.aliases]
    )


@dataclass
class Project:
    catalog: Catalog
    locked: dict[str, LockedEntry]
    catalog_path: Path
    lock_path: Path
    venues: Form = "full"  # how the bibliography names venues (`bib.venues`)

    @classmethod
    def load(
        cls,
        catalog_path: str | Path = "sources.yaml",
        lock_path: str | Path = "sources.lock.json",
        venues: Form = "full",
    ) -> Project:
        catalog_path, lock_path = Path(catalog_path), Path(lock_path)
        catalog, locked = catalog_mod.load(catalog_path), lock_mod.read(lock_path)
        return cls(catalog, locked, catalog_path, lock_path, venues)

    @property
    def entries(self) -> tuple[Entry, ...]:
        return self.catalog.entries

    @cached_property
    def unresolved(self) -> list[str]:
        """Catalog ids no upstream resolved yet (the lock may hold their keys), in catalog order."""
        locked = self.locked
        return [
            e.id
            for e in self.catalog.entries
            if e.id not in locked or locked[e.id].record.source == "catalog"
        ]

    @cached_property
    def stale(self) -> list[str]:
        """Catalog ids whose locked record was resolved for another paper (`locked_for`)."""
        locked = self.locked
        return [
            e.id
            for e in self.catalog.entries
            if e.id in locked and locked[e.id].record.source != "catalog"
            and not locked_for(e, locked[e.id])
        ]  # fmt: skip

    @cached_property
    def orphans(self) -> list[str]:
        """Locked ids the catalog no longer has, sorted."""
        return sorted(set(self.locked) - {e.id for e in self.catalog.entries})

    @cached_property
    def bibliography(self) -> Bibliography:
        """Records in catalog order with frozen keys and venues named one way
        (`bib.venues`); unresolved entries fall back to the catalog.

        Every locked key, an orphan's too, is reserved, so a new entry never takes
        a key that a document may still cite.
        """
        locked, stale = self.locked, set(self.stale)
        drafts = [
            venue_names(locked[e.id].record, self.venues)
            if e.id in locked and locked[e.id].record.source != "catalog" and e.id not in stale
            else fallback_record(e)
            for e in self.catalog.entries
        ]
        keys = assign_keys(drafts, {entry_id: item.key for entry_id, item in locked.items()})
        by_id = {record.id: record for record in drafts}
        sections = tuple(
            Section(
                title=category.label,
                slug=category.slug,
                group=category.group,
                name=category.name,
                records=tuple(
                    by_id[e.id].with_(key=keys[e.id], categories=(category.name,))
                    for e in category.entries
                ),
            )
            for category in self.catalog.categories
        )
        return Bibliography(self.catalog.title, sections)

    def write_lock(self, entries: dict[str, LockedEntry]) -> None:
        """Write the lock atomically: catalog order first, then ids the catalog dropped."""
        ordered = {e.id: entries[e.id] for e in self.catalog.entries if e.id in entries}
        ordered.update({k: v for k, v in entries.items() if k not in ordered})
        lock_mod.write(self.lock_path, ordered)
        self.locked = ordered
        for name in ("unresolved", "stale", "orphans", "bibliography"):
            self.__dict__.pop(name, None)
