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

from bib.fields import is_key
from bib.record import Bibliography, Person, Record, Section
from bib.text import clean_text

# Characters BibTeX reads in a comment: "@" starts an entry even inside @comment{...}
# (classic BibTeX does not skip the braces), and braces would end the comment early.
_COMMENT_UNSAFE = re.compile(r"[@{}\\%]")
# Percent-encoded in verbatim fields (DOIs, URLs, eprints): braces would unbalance the value.
_VERBATIM_UNSAFE = str.maketrans({"{": "%7B", "}": "%7D", "\\": "%5C"})


def braced(text: str) -> str:
    return "{" + text + "}"


def format_name(person: Person, escape: Callable[[str], str]) -> str:
    """`Family, Given`, the one form BibTeX and biber never mis-split; organisations braced.

    Empty when nothing of the name survives escaping (a name in a script the
    file cannot carry); a given name alone stands as the family name, since
    "Family, " with nothing before the comma is an error in every style.
    """
    if person.literal:
        literal = escape(person.literal).strip()
        return braced(literal) if literal else ""
    family = escape(person.family or "").strip()
    given = escape(person.given or "").strip()
    if not family:
        family, given = given, ""
    if " " in family and not re.match(r"^(?:[a-z]+ )+\S+$", family):
        family = braced(family)  # "Van Den Berg" is one family name, not given names
    return f"{family}, {given}" if given else family


def format_names(people: tuple[Person, ...], escape: Callable[[str], str]) -> str:
    """The `author` value: names joined by "and", names with nothing left omitted."""
    return " and ".join(n for n in (format_name(p, escape) for p in people) if n)


def format_pages(pages: str) -> str:
    return re.sub(r"\s*[-\u2010-\u2015]+\s*", "--", pages.strip())


def verbatim(value: str) -> str:
    """A verbatim field (URL, DOI, eprint): braces and backslashes percent-encoded, one line.

    Validated records never hold them; this keeps even a hand-made record from
    closing its field or entry.
    """
    return braced(clean_text(value).translate(_VERBATIM_UNSAFE))


def comment(text: str) -> str:
    """Text that stays inside an @comment{...} header whatever a catalog heading says."""
    return " ".join(_COMMENT_UNSAFE.sub(" ", clean_text(text)).split())


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
        if not is_key(record.key):
            raise ValueError(f"entry '{record.id}': citation key {record.key!r} is unsafe to write")
        fields = [Field(name, value) for name, value in self.fields(record)]
        return Entry(self.entry_types[record.type], record.key, fields)

    def render(self, bibliography: Bibliography) -> str:
        text = "".join(self.section_text(section) for section in bibliography.sections)
        return f"@comment{{{comment(self.header(bibliography.title))}}}\n" + text

    def _section_text(self, section: Section) -> str:
        count = len(section.records)
        noun = "entry" if count == 1 else "entries"
        blocks = [ExplicitComment(comment(f"Category: {section.title} ({count} {noun})"))]
        blocks.extend(self.entry(record) for record in section.records)
        library = Library(blocks)
        return "\n" + bibtexparser.write_string(
            library, unparse_stack=[], bibtex_format=self.format
        )
