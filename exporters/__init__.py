"""Exporters by name: each turns a Bibliography into the text of one file.

Exporters read only `bib.record` types (and small helpers such as `bib.stats`);
they never see the catalog, the lock, an upstream or a command, so adding a
format never touches resolution.

The registry names each exporter's module instead of importing it: `bib
--help` and `bib resolve` can list the formats without loading bibtexparser,
which only the commands that render pay for.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from bib.record import Bibliography

# A file's text, whole or as chunks to be written one after another: the whole-list file
# and the per-category files can then share their sections' text instead of copying it.
Content = str | tuple[str, ...]


def text_of(content: Content) -> str:
    return content if isinstance(content, str) else "".join(content)


@dataclass(frozen=True)
class Exporter:
    name: str
    suffix: str
    module: str  # under `exporters`; it defines `render(Bibliography) -> str`
    per_category: bool = False
    description: str = ""
    filename: str | None = None  # a fixed name instead of basename + suffix

    def render(self, bibliography: Bibliography) -> str:
        return import_module(f"exporters.{self.module}").render(bibliography)

    def render_all(self, bibliography: Bibliography) -> tuple[Content, dict[str, Content]]:
        """The whole file and one per section (slug -> text), in one pass where the
        exporter can (`render_all` in its module), else section by section."""
        module = import_module(f"exporters.{self.module}")
        if hasattr(module, "render_all"):
            return module.render_all(bibliography)
        parts = {
            s.slug: module.render(Bibliography(bibliography.title, (s,)))
            for s in bibliography.sections
        }
        return module.render(bibliography), parts


REGISTRY: dict[str, Exporter] = {
    exporter.name: exporter
    for exporter in (
        Exporter(
            "bibtex",
            ".bib",
            "bibtex",
            per_category=True,
            description="canonical BibTeX, grouped by category",
        ),
        Exporter(
            "biblatex",
            ".biblatex.bib",
            "biblatex",
            per_category=True,
            description="BibLaTeX for biber (UTF-8, ISO dates, eprint fields), grouped by category",
        ),
        Exporter(
            "csl-json",
            ".json",
            "csl_json",
            per_category=True,
            description="CSL-JSON (CSL 1.0.2) for Pandoc, citeproc and Zotero",
        ),
        Exporter(
            "markdown",
            ".md",
            "markdown",
            per_category=True,
            description="the reading list as Markdown, with DOI/arXiv links and citation keys",
            filename="README.md",
        ),
        Exporter(
            "stats-svg",
            "-stats.svg",
            "stats_svg",
            description="a picture of the list: papers per category, year and venue (SVG)",
        ),
    )
}
