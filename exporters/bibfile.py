"""What the BibTeX and BibLaTeX files share: names, pages, escaping, the writer."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache

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


@lru_cache(maxsize=1 << 16)  # people write many papers
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
    plain = value.isascii() and value.isprintable() and value == value.strip()
    if not plain or "  " in value:  # most values are plain: no cleaning to do
        value = clean_text(value)
    return braced(value.translate(_VERBATIM_UNSAFE))


def comment(text: str) -> str:
    """Text that stays inside an @comment{...} header whatever a catalog heading says."""
    return " ".join(_COMMENT_UNSAFE.sub(" ", clean_text(text)).split())


class BibFile:
    """A .bib dialect: entry types, field encoding, alignment and its header comment.

    Entries are written straight to text, one after another, in the layout of
    bibtexparser's writer (two-space indent, every value starting in one column,
    a blank line between blocks), which the tests parse back with bibtexparser.
    Building its object model first cost more than the encoding itself.
    """

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
        # Padding after each field name so that every value starts in one column.
        self._pad = cache(lambda name: " " * max(0, value_column - len(name) - 3))

    def entry(self, record: Record) -> str:
        if not is_key(record.key):
            raise ValueError(f"entry '{record.id}': citation key {record.key!r} is unsafe to write")
        fields = self.fields(record)
        last = len(fields) - 1
        lines = [f"@{self.entry_types[record.type]}{{{record.key},\n"]
        lines += [
            f"  {name}{self._pad(name)} = {value}{',' if i < last else ''}\n"
            for i, (name, value) in enumerate(fields)
        ]
        lines.append("}\n")
        return "".join(lines)

    def _section_text(self, section: Section) -> str:
        count = len(section.records)
        noun = "entry" if count == 1 else "entries"
        head = f"@comment{{{comment(f'Category: {section.title} ({count} {noun})')}}}\n"
        return "\n" + "\n".join([head, *map(self.entry, section.records)])

    def _header(self, title: str) -> str:
        return f"@comment{{{comment(self.header(title))}}}\n"

    def render(self, bibliography: Bibliography) -> str:
        return "".join(self.render_all(bibliography)[0])

    def render_all(
        self, bibliography: Bibliography
    ) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
        """The whole file and one file per section, as chunks that share each section's text."""
        sections = {s.slug: self._section_text(s) for s in bibliography.sections}
        header = self._header(bibliography.title)
        return (header, *sections.values()), {slug: (header, t) for slug, t in sections.items()}
