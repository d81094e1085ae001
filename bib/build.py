"""`bib build`: catalog + lock -> files under `output/`, offline and deterministic."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bib import catalog as catalog_mod
from bib import lock as lock_mod
from bib.atomic import write_text_atomic
from bib.catalog import Catalog, Entry
from bib.keys import assign_keys
from bib.lock import LockedEntry
from bib.record import Bibliography, Record, Section
from exporters import REGISTRY, Exporter

DEFAULT_BASENAME = "llm-serving"
CATEGORY_DIR = "by-category"


@dataclass
class BuildReport:
    entries: int = 0
    unresolved: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)


def fallback_record(entry: Entry) -> Record:
    """What the list itself says about an entry that no upstream has resolved yet."""
    url = next((p.value for p in entry.pins if p.kind == "url"), entry.link)
    return Record(
        id=entry.id,
        key="",
        type="software" if entry.type == "software" else "misc",
        title=entry.title,
        url=url,
        source="catalog",
    )


def bibliography(
    catalog: Catalog, locked: dict[str, LockedEntry]
) -> tuple[Bibliography, list[str]]:
    """Records in catalog order with frozen keys; also the ids that fell back to the catalog."""
    unresolved: list[str] = []
    drafts: list[Record] = []
    for entry in catalog.entries:
        if entry.id in locked:
            drafts.append(locked[entry.id].record)
        else:
            unresolved.append(entry.id)
            drafts.append(fallback_record(entry))
    frozen = {entry_id: item.key for entry_id, item in locked.items()}
    keys = assign_keys(drafts, frozen)
    by_id = {record.id: record for record in drafts}
    sections = tuple(
        Section(
            title=category.label,
            slug=category.slug,
            group=category.group,
            name=category.name,
            records=tuple(
                by_id[e.id].with_(key=keys[e.id], categories=(category.label,))
                for e in category.entries
            ),
        )
        for category in catalog.categories
    )
    return Bibliography(catalog.title, sections), unresolved


def render_outputs(bib: Bibliography, exporters: list[Exporter], basename: str) -> dict[Path, str]:
    """Relative path -> text for every file the exporters produce."""
    files: dict[Path, str] = {}
    for exporter in exporters:
        files[Path(exporter.filename or basename + exporter.suffix)] = exporter.render(bib)
        if exporter.per_category:
            for section in bib.sections:
                single = Bibliography(bib.title, (section,))
                files[Path(CATEGORY_DIR) / (section.slug + exporter.suffix)] = exporter.render(
                    single
                )
    return files


def _stale_category_files(
    directory: Path, expected: set[Path], exporters: list[Exporter]
) -> list[Path]:
    """Per-category files of the chosen formats whose category no longer exists."""
    suffixes = sorted({e.suffix for e in REGISTRY.values()}, key=len, reverse=True)
    chosen = {e.suffix for e in exporters if e.per_category}
    stale = []
    for path in sorted((directory / CATEGORY_DIR).glob("*")):
        owner = next((s for s in suffixes if path.name.endswith(s)), None)
        if owner in chosen and path not in expected:
            stale.append(path)
    return stale


@contextmanager
def _without_cycle_collector() -> Iterator[None]:
    """Pause the cyclic garbage collector for the duration of a build.

    A build allocates about a hundred objects per entry that all live until it
    ends; the collector rescans them again and again and finds nothing (our
    objects hold no cycles), which was half the time of a 10,000-entry build.
    Reference counting still frees everything.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build(
    catalog_path: str | Path = "sources.yaml",
    lock_path: str | Path = "sources.lock.json",
    output_dir: str | Path = "output",
    formats: list[str] | None = None,
    basename: str = DEFAULT_BASENAME,
) -> BuildReport:
    """Render everything in memory first, so bad input leaves `output/` untouched."""
    with _without_cycle_collector():
        return _build(catalog_path, lock_path, output_dir, formats, basename)


def _build(
    catalog_path: str | Path,
    lock_path: str | Path,
    output_dir: str | Path,
    formats: list[str] | None,
    basename: str,
) -> BuildReport:
    catalog = catalog_mod.load(catalog_path)
    locked = lock_mod.read(lock_path)
    exporters = [REGISTRY[name] for name in (formats or list(REGISTRY))]
    bib, unresolved = bibliography(catalog, locked)
    files = render_outputs(bib, exporters, basename)

    report = BuildReport(entries=len(bib.records), unresolved=unresolved)
    known = {entry.id for entry in catalog.entries}
    orphans = sorted(set(locked) - known)
    if orphans:
        names = ", ".join(orphans)
        report.warnings.append(f"{lock_path}: {len(orphans)} locked ids not in catalog: {names}")
    if unresolved:
        report.warnings.append(
            f"{len(unresolved)} of {report.entries} entries are not in the lock and were "
            "exported from the catalog alone (run `bib resolve`)"
        )
    out = Path(output_dir)
    expected = {out / rel for rel in files}
    for rel, text in files.items():
        target = out / rel
        (report.written if write_text_atomic(target, text) else report.unchanged).append(target)
    for path in _stale_category_files(out, expected, exporters):
        path.unlink()
        report.removed.append(path)
    return report
