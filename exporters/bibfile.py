"""What the BibTeX and BibLaTeX files share: names, pages, and writing with bibtexparser.

Entries are built as bibtexparser v2 blocks and written with an empty unparse
stack: the values are already encoded by the dialect, and the default stack
would deep-copy every block (most of the write time for a large library).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.model import Entry, ExplicitComment, Field

from bib.record import Bibliography, Person, Record, Section


def braced(text: str) -> str:
    return "{" + text + "}"


def format_name(person: Person, escape: Callable[[str], str]) -> str:
    """`Family, Given`, the one form BibTeX and biber never mis-split; organisations braced."""
    if person.literal:
        return braced(escape(person.literal))
    family = escape(person.family or "")
    if " " in family and not re.match(r"^(?:[a-z]+ )+\S+$", person.family or ""):
        family = braced(family)  # "Van Den Berg" is one family name, not given names
    return f"{family}, {escape(person.given)}" if person.given else family


def format_pages(pages: str) -> str:
    return re.sub(r"\s*[-\u2010-\u2015]+\s*", "--", pages.strip())


def url_value(url: str) -> str:
    """URLs are verbatim fields: only braces, which would unbalance the value, are encoded."""
    return braced(url.replace("{", "%7B").replace("}", "%7D"))


class BibFile:
    """A .bib dialect: entry types, field encoding, alignment and its header comment."""

    def __init__(
        self,
        entry_types: dict[str, str],
        fields: Callable[[Record], list[tuple[str, str]]],
        value_column: int,
        header: Callable[[str], str],
    ) -> None:
        self.entry_types = entry_types
        self.fields = fields
        self.header = header
        self.format = bibtexparser.BibtexFormat()
        self.format.indent = "  "
        self.format.value_column = value_column  # every value starts in one column
        self.format.block_separator = "\n"
        # Cached: build writes each section twice, in the whole file and alone.
        self.section_text = lru_cache(maxsize=256)(self._section_text)

    def entry(self, record: Record) -> Entry:
        fields = [Field(name, value) for name, value in self.fields(record)]
        return Entry(self.entry_types[record.type], record.key, fields)

    def render(self, bibliography: Bibliography) -> str:
        text = "".join(self.section_text(section) for section in bibliography.sections)
        return f"@comment{{{self.header(bibliography.title)}}}\n" + text

    def _section_text(self, section: Section) -> str:
        count = len(section.records)
        noun = "entry" if count == 1 else "entries"
        blocks = [ExplicitComment(f"Category: {section.title} ({count} {noun})")]
        blocks.extend(self.entry(record) for record in section.records)
        library = Library(blocks)
        return "\n" + bibtexparser.write_string(
            library, unparse_stack=[], bibtex_format=self.format
        )
