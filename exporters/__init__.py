"""Exporters by name: each turns a Bibliography into the text of one file.

Exporters read only `bib.record` types; they never see the catalog, the lock
or an upstream, so adding a format never touches resolution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bib.record import Bibliography
from exporters import biblatex, bibtex, csl_json, markdown, stats_svg


@dataclass(frozen=True)
class Exporter:
    name: str
    suffix: str
    render: Callable[[Bibliography], str]
    per_category: bool = False
    description: str = ""
    filename: str | None = None  # a fixed name instead of basename + suffix


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
        Exporter(
            "biblatex",
            ".biblatex.bib",
            biblatex.render,
            per_category=True,
            description="BibLaTeX for biber (UTF-8, ISO dates, eprint fields), grouped by category",
        ),
        Exporter(
            "csl-json",
            ".json",
            csl_json.render,
            description="CSL-JSON (CSL 1.0.2) for Pandoc, citeproc and Zotero",
        ),
        Exporter(
            "markdown",
            ".md",
            markdown.render,
            description="the reading list as Markdown, with DOI/arXiv links and citation keys",
            filename="README.md",
        ),
        Exporter(
            "stats-svg",
            "-stats.svg",
            stats_svg.render,
            description="a picture of the list: papers per category, year and venue (SVG)",
        ),
    )
}
