"""Exporters by name: each turns a Bibliography into the text of one file.

Exporters read only `bib.record` types; they never see the catalog, the lock
or an upstream, so adding a format never touches resolution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bib.record import Bibliography
from exporters import bibtex


@dataclass(frozen=True)
class Exporter:
    name: str
    suffix: str
    render: Callable[[Bibliography], str]
    per_category: bool = False
    description: str = ""


REGISTRY: dict[str, Exporter] = {
    exporter.name: exporter
    for exporter in (
        Exporter(
            "bibtex",
            ".bib",
            bibtex.render,
            per_category=True,
            description="canonical BibTeX, grouped by category",
        ),
    )
}
