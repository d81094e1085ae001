"""`bib build`: catalog + lock -> files under `output/`, offline and deterministic."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bib import output_set, outputs
from bib.project import Project
from bib.record import Bibliography
from exporters import REGISTRY


@dataclass
class BuildReport:
    entries: int = 0
    unresolved: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)


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


def _untypeset_warnings(bib: Bibliography) -> list[str]:
    from exporters.bibtex import dropped

    warnings = []
    for record in bib.records:
        if chars := dropped(record):
            shown = " ".join(chars)
            warnings.append(
                f"entry '{record.id}': the BibTeX files drop {shown} (no TeX font has them "
                "without extra packages); the BibLaTeX and CSL-JSON files keep them"
            )
    return warnings


def build(
    project: Project,
    output_dir: Path = Path("output"),
    formats: list[str] | None = None,
    basename: str = outputs.DEFAULT_BASENAME,
) -> BuildReport:
    """Render everything in memory, then replace the output set in one step.

    Bad input leaves `output/` untouched; so do a kill and a full disk (see
    `bib.output_set`).
    """
    with _without_cycle_collector(), output_set.exclusive(output_dir):
        cleared = output_set.recover(output_dir)
        exporters = [REGISTRY[name] for name in (formats or list(REGISTRY))]
        bib = project.bibliography
        plan = outputs.plan(bib, output_dir, exporters, basename)
        report = BuildReport(entries=len(bib.records), unresolved=list(project.unresolved))
        if cleared:
            names = ", ".join(p.name for p in cleared)
            report.warnings.append(f"cleared what an interrupted build left: {names}")
        if project.orphans:
            names = ", ".join(project.orphans)
            report.warnings.append(
                f"{project.lock_path}: {len(project.orphans)} locked ids not in catalog: {names}"
            )
        if "bibtex" in {e.name for e in exporters}:
            report.warnings.extend(_untypeset_warnings(bib))
        if report.unresolved:
            report.warnings.append(
                f"{len(report.unresolved)} of {report.entries} entries are not in the lock and "
                "were exported from the catalog alone (run `bib resolve`)"
            )
        stale = {path.relative_to(output_dir) for path in plan.stale}
        published = output_set.publish(output_dir, plan.files, stale)
        report.written, report.unchanged = published.written, published.unchanged
        report.removed = published.removed
        return report
