"""The set of files under `output/`: what the exporters write, and what is left over.

`bib build` writes this set and `bib check` compares against it, so both
agree on which files belong there by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bib.record import Bibliography
from exporters import REGISTRY, Content, Exporter, text_of

DEFAULT_BASENAME = "llm-serving"
CATEGORY_DIR = "by-category"


@dataclass(frozen=True)
class OutputPlan:
    files: dict[Path, str]  # path under the output directory -> text
    stale: list[Path]  # per-category files of the chosen formats that no category writes


def render(
    bib: Bibliography, exporters: list[Exporter], basename: str
) -> Iterator[tuple[Path, Content]]:
    """(relative path, text or chunks) for every file the exporters produce, one format at
    a time, so that a build can write each file and let its text go before the next format."""
    for exporter in exporters:
        name = Path(exporter.filename or basename + exporter.suffix)
        if not exporter.per_category:
            yield name, exporter.render(bib)
            continue
        whole, parts = exporter.render_all(bib)
        yield name, whole
        del whole
        for slug in list(parts):
            yield Path(CATEGORY_DIR) / (slug + exporter.suffix), parts.pop(slug)


def _owner(name: str) -> str | None:
    """The suffix of the format a file name belongs to: the longest registered one it ends with."""
    suffixes = sorted({e.suffix for e in REGISTRY.values()}, key=len, reverse=True)
    return next((s for s in suffixes if name.endswith(s)), None)


def stale(output_dir: Path, exporters: list[Exporter], produced: Iterable[Path]) -> list[Path]:
    """Per-category files of the chosen formats under `output_dir` that no category writes."""
    chosen = {e.suffix for e in exporters if e.per_category}
    expected = {output_dir / rel for rel in produced}
    return [
        path
        for path in sorted((output_dir / CATEGORY_DIR).glob("*"))
        if _owner(path.name) in chosen and path not in expected
    ]


def plan(
    bib: Bibliography,
    output_dir: Path,
    exporters: list[Exporter] | None = None,
    basename: str = DEFAULT_BASENAME,
) -> OutputPlan:
    """Every file to write (relative paths, in memory) and the stale files to remove."""
    exporters = list(REGISTRY.values()) if exporters is None else exporters
    files = {rel: text_of(content) for rel, content in render(bib, exporters, basename)}
    return OutputPlan(files, stale(output_dir, exporters, files))
