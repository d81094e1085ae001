"""Awesome-list Markdown to a catalog skeleton, on markdown-it-py's token stream.

Headings give categories (the heading above a category is its group); bullets,
numbered items and table rows give entries. The document is walked as tokens,
never as lines, so code blocks, HTML, emphasis and nested lists are what the
Markdown says they are. Everything that is not an entry is counted by reason,
so an import that finds few papers says why.
"""

from __future__ import annotations

import gc
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from bib import paper_links
from bib.catalog import slugify
from bib.errors import CatalogError
from bib.markdown_entry import Candidate, clean, is_title_case, is_venue, read, strip_symbols
from bib.markdown_inline import Piece, flatten, plain_text

# Sections that hold no papers of the list: navigation, project housekeeping, other lists.
DEFAULT_EXCLUDE = re.compile(
    r"^(?:(?:table\s+of\s+)?contents?|toc|index|contribut\w*|how\s+to\s+contribute|licen[cs]e"
    r"|star[-\s]?history|stargazers?|citations?|cite|how\s+to\s+cite|acknowledge?ments?"
    r"|(?:other|related)\b.*\blists?|see\s+also|news|updates?|latest\s+news|what'?s\s+new)$",
    re.IGNORECASE,
)
_ID_LENGTH = 80
_DATE_OR_STATUS = re.compile(
    r"^(?:[\d\s./-]+|publications?|published|preprints?|arxiv|under\s+review|accepted"
    r"|conferences?|journals?|workshops?|others?)$",
    re.IGNORECASE,
)
_HTML_HEADING = re.compile(r"^\s*<h([1-6])\b[^>]*>(.*?)</h\1>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]*>")
_EMPTY_PARENS = re.compile(r"[(\[]\s*[)\]]")
_CODE_ENTRY = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S|^\s*\|.*\||\]\(")
_TITLE_HEADER = (
    re.compile(r"\btitles?\b", re.IGNORECASE),
    re.compile(r"^(?:papers?|paper name|names?|works?|publications?|articles?)$", re.IGNORECASE),
    re.compile(r"^(?:methods?|models?|approach|systems?)$", re.IGNORECASE),
)
_VENUE_HEADER = re.compile(
    r"venue|conference|\bconf\b|journal|publish|where|booktitle|source", re.IGNORECASE
)

_PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_normalize_link = _PARSER.normalizeLink


def _link_as_written(url: str) -> str:
    """Links are kept as the list writes them; only odd ones go through percent-encoding.

    markdown-it normalizes every link (parse, punycode, re-encode), a third of the
    parse time of a large list, and a no-op on the plain ASCII URLs lists hold.
    """
    return url if url.isascii() and url.isprintable() and " " not in url else _normalize_link(url)


_PARSER.normalizeLink = _link_as_written  # type: ignore[method-assign]


@dataclass
class Report:
    """What an import found: entries and categories written, and what it skipped, by reason."""

    entries: int = 0
    categories: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()))
        return (
            f"{self.entries} entries in {self.categories} categories; "
            f"skipped {sum(self.skipped.values())}" + (f" ({reasons})" if reasons else "")
        )


@dataclass(frozen=True)
class Imported:
    catalog: dict
    report: Report


@dataclass
class _Category:
    name: str
    group: str | None
    excluded: bool
    papers: list[dict[str, str]] = field(default_factory=list)


@dataclass
class _Item:
    line: int
    pieces: list[Piece] = field(default_factory=list)
    children: list[_Item] = field(default_factory=list)


class _Tokens:
    """The block structure: headings, paragraphs, lists as item trees, tables as rows."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens

    def inline(self, i: int) -> list[Piece]:
        token = self.tokens[i]
        return flatten(token.children or []) if token.type == "inline" else []

    def list(self, i: int) -> tuple[list[_Item], int]:
        close, level = self.tokens[i].type.replace("_open", "_close"), self.tokens[i].level
        items: list[_Item] = []
        i += 1
        while not (self.tokens[i].type == close and self.tokens[i].level == level):
            if self.tokens[i].type == "list_item_open":
                item, i = self.item(i)
                items.append(item)
            else:
                i += 1
        return items, i + 1

    def item(self, i: int) -> tuple[_Item, int]:
        start = self.tokens[i]
        item = _Item(line=(start.map or [0])[0] + 1)
        i += 1
        while not (
            self.tokens[i].type == "list_item_close" and self.tokens[i].level == start.level
        ):
            token = self.tokens[i]
            if token.type == "inline":
                if item.pieces:
                    item.pieces.append(Piece("break"))
                item.pieces.extend(self.inline(i))
                i += 1
            elif token.type in ("bullet_list_open", "ordered_list_open"):
                children, i = self.list(i)
                item.children.extend(children)
            elif token.type == "table_open":
                _, rows, i = self.table(i)
                item.children.extend(_Item(line, _joined(cells)) for line, cells in rows)
            else:
                i += 1
        return item, i + 1

    def table(self, i: int) -> tuple[list[str], list[tuple[int, list[list[Piece]]]], int]:
        """(header texts, rows as (line, cells)) and the index after the table."""
        header: list[str] = []
        rows: list[tuple[int, list[list[Piece]]]] = []
        line = 0
        i += 1
        while self.tokens[i].type != "table_close":
            token = self.tokens[i]
            if token.type == "tr_open":
                line = (token.map or [0])[0] + 1
                rows.append((line, []))
            elif token.type == "inline":
                rows[-1][1].append(self.inline(i))
            i += 1
        if rows:
            header = [clean(plain_text(cell)).lower() for cell in rows[0][1]]
            rows = rows[1:]
        return header, rows, i + 1


class _Importer:
    def __init__(self, path: str, exclude: Iterable[str], keep_non_papers: bool) -> None:
        self.path = path
        self.exclude = {_section_key(name) for name in exclude}
        self.keep_non_papers = keep_non_papers
        self.report = Report()
        self.title: str | None = None
        self.description: str | None = None
        self.categories: list[_Category] = []
        self.headings: list[tuple[int, str, bool]] = []
        self.current: _Category | None = None
        self.section: _Category | None = None
        self.ids: set[str] = set()
        self.titles: set[str] = set()
        self.seen_heading = False

    # --- structure -------------------------------------------------------------------------

    def run(self, text: str) -> Imported:
        tokens = _PARSER.parse(text)
        blocks = _Tokens(tokens)
        i = 0
        while i < len(tokens):
            token = tokens[i]
            kind = token.type
            if kind == "heading_open":
                self.heading(int(token.tag[1]), blocks.inline(i + 1))
                i += 3
            elif kind == "html_block" and (html := _HTML_HEADING.match(token.content)):
                name = _TAGS.sub(" ", html.group(2))
                self.heading(int(html.group(1)), [Piece("text", name)])
                i += 1
            elif kind == "paragraph_open":
                self.paragraph(blocks.inline(i + 1))
                i += 3
            elif kind in ("bullet_list_open", "ordered_list_open"):
                items, i = blocks.list(i)
                self.items(items, self.target())
            elif kind == "table_open":
                header, rows, i = blocks.table(i)
                self.rows(header, rows, self.target())
            elif kind in ("fence", "code_block"):
                self.code(token.content)
                i += 1
            else:
                i += 1
        return self.finish()

    def heading(self, level: int, pieces: list[Piece]) -> None:
        name = _heading_name(pieces)
        if level == 1 and self.title is None and not self.seen_heading:
            self.title = name or None
            self.seen_heading = self.title is not None
            return
        self.seen_heading = True
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        parent = self.headings[-1] if self.headings else None
        excluded = (parent is not None and parent[2]) or self.is_excluded(name)
        self.headings.append((level, name, excluded))
        self.current = self.new_category(name, parent[1] if parent else None, excluded)
        self.section = None

    def paragraph(self, pieces: list[Piece]) -> None:
        words = [p for p in pieces if p.kind == "text" and clean(p.text)]
        if words and all(p.bold for p in words) and not any(p.kind == "link" for p in pieces):
            # A bold line standing alone is a heading in all but name.
            name = clean(plain_text(pieces))
            if _groups_by_date_or_status(name):
                return  # "**2024**", "**arXiv**": an order within the category, not a category
            if name and len(name.split()) <= 12:
                parent = self.current
                self.section = self.new_category(
                    name,
                    parent.name if parent else None,
                    parent.excluded if parent else False,
                )
                return
        if self.title is not None and self.description is None and not self.headings:
            text = " ".join(
                p.text for p in pieces if p.kind == "text" or (p.kind == "link" and not p.image)
            )
            text = " ".join(strip_symbols(text).split())
            if len(text.split()) >= 3:
                self.description = text

    def target(self) -> _Category:
        if self.section is not None:
            return self.section
        if self.current is None:
            self.current = self.new_category(self.title or "Papers", None, False)
        return self.current

    def new_category(self, name: str, group: str | None, excluded: bool) -> _Category:
        category = _Category(name or "Untitled", group, excluded)
        self.categories.append(category)
        return category

    def is_excluded(self, name: str) -> bool:
        key = _section_key(name)
        return bool(DEFAULT_EXCLUDE.match(key)) or key in self.exclude

    def code(self, content: str) -> None:
        lines = sum(1 for line in content.splitlines() if _CODE_ENTRY.search(line))
        if lines:
            self.report.skipped["code-block"] += lines

    # --- entries ---------------------------------------------------------------------------

    def items(
        self, items: list[_Item], category: _Category, noted: Candidate | None = None
    ) -> None:
        for item in items:
            self.item(item, category, noted)

    def item(self, item: _Item, category: _Category, noted: Candidate | None = None) -> None:
        """One bullet; `noted` is the linked bullet it is nested under, whose notes it may hold."""
        bare = not plain_text(item.pieces) and not any(p.kind == "link" for p in item.pieces)
        if bare and not item.children:
            self.skip("empty")
            return
        candidate = read(item.pieces)
        if candidate.anchors and not candidate.links:
            self.skip("toc")
            self.items(item.children, category)
            return
        if category.excluded:
            self.skip("excluded", 1 + _count(item.children))
            return
        if not item.children:
            self.entry(
                candidate, item.line, category, titled=noted is None and not candidate.bold_only
            )
            return
        children = [read(child.pieces) for child in item.children]
        if (
            not candidate.links
            and candidate.title
            and all(
                not c.title and c.links and not child.children
                for c, child in zip(children, item.children, strict=True)
            )
        ):
            # A title whose links are its sub-bullets: `- Title` / `  - [Paper](url)`.
            links = tuple(link for c in children for link in c.links)
            self.entry(read(item.pieces, links), item.line, category)
            return
        if candidate.bold_only or not candidate.links:
            name = clean(candidate.text) or candidate.title
            sub = self.new_category(name, category.name, category.excluded)
            self.items(item.children, sub)
            return
        self.entry(candidate, item.line, category)
        self.items(item.children, category, candidate)

    def rows(self, header: list[str], rows: list, category: _Category) -> None:
        title_column = _column(header)
        if title_column is None:
            self.skip("table-without-title", len(rows))
            return
        venue_column = next(
            (i for i, h in enumerate(header) if i != title_column and _VENUE_HEADER.search(h)),
            None,
        )
        for line, cells in rows:
            if category.excluded:
                self.skip("excluded")
                continue
            if title_column >= len(cells) or not plain_text(cells[title_column]):
                self.skip("empty")
                continue
            links = tuple(
                p.href for i, cell in enumerate(cells) if i != title_column for p in cell
                if p.kind == "link"
            )  # fmt: skip
            candidate = read(cells[title_column], links)
            if venue_column is not None and venue_column < len(cells):
                venue = clean(plain_text(cells[venue_column]))
                if venue and venue.lower() not in ("-", "n/a", "none"):
                    candidate = _with_label(candidate, venue)
            self.entry(candidate, line, category)

    def entry(
        self, candidate: Candidate, line: int, category: _Category, titled: bool = True
    ) -> None:
        """Add the candidate; `titled` is False for a link-less line that cannot be a title."""
        if not candidate.title:
            self.skip("no-link" if not candidate.links else "no-title")
            return
        link = paper_links.best(list(candidate.links))
        # A bullet with no link at all may still name a paper ("IANUS: Integrated Accelerator
        # ... | ASPLOS'24"); one that links only code, a project page or a blog is a tool or a
        # post: measured on real lists, admitting those would add ten non-papers per paper.
        paperless = candidate.links or not titled or not is_title_case(candidate.title)
        if link is None and not self.keep_non_papers and paperless:
            self.skip("non-paper" if candidate.links else "no-link")
            return
        link = link or candidate.main or next(iter(candidate.links), None)
        key = _title_key(candidate.title)
        if key in self.titles:
            self.skip("duplicate")
            return
        self.titles.add(key)
        paper = {
            "id": self.new_id(candidate.short, candidate.title, line),
            "title": candidate.title,
        }
        if link:
            paper["link"] = link
        if candidate.label:
            paper["label"] = candidate.label
        category.papers.append(paper)

    def new_id(self, short: str, title: str, line: int) -> str:
        base = _cap(slugify(short.split(":")[0])) or _cap(slugify(title)) or f"entry-{line}"
        entry_id, n = base, 2
        while entry_id in self.ids:
            entry_id, n = f"{base}-{n}", n + 1
        self.ids.add(entry_id)
        return entry_id

    def skip(self, reason: str, count: int = 1) -> None:
        if count:
            self.report.skipped[reason] += count

    # --- the catalog -----------------------------------------------------------------------

    def finish(self) -> Imported:
        kept = [c for c in self.categories if c.papers]
        if not kept:
            found = self.report.summary().split("; ", 1)[1]
            raise CatalogError(f"no paper entries found ({found})", path=self.path)
        slugs = _slugs(kept)
        title = self.title or _title_from_path(self.path)
        catalog: dict = {"title": title}
        if self.description:
            catalog["description"] = self.description
        catalog["categories"] = [
            {
                "name": c.name,
                **({"group": c.group} if c.group else {}),
                "slug": slug,
                "papers": c.papers,
            }
            for c, slug in zip(kept, slugs, strict=True)
        ]
        self.report.entries = sum(len(c.papers) for c in kept)
        self.report.categories = len(kept)
        return Imported(catalog, self.report)


def _heading_name(pieces: list[Piece]) -> str:
    """A heading's words: without anchors such as `([back](#top))`, emoji or markup."""
    text = " ".join(
        p.text
        for p in pieces
        if p.kind == "text" or (p.kind == "link" and p.href[:1] != "#" and not p.image)
    )
    return clean(_EMPTY_PARENS.sub(" ", clean(text)))


def _groups_by_date_or_status(name: str) -> bool:
    return bool(_DATE_OR_STATUS.match(name)) or is_venue(name)


def _section_key(name: str) -> str:
    return " ".join(strip_symbols(name).lower().replace("-", " ").split()).strip(" :.")


def _column(header: list[str]) -> int | None:
    for pattern in _TITLE_HEADER:
        for i, name in enumerate(header):
            if pattern.search(name):
                return i
    return None


def _with_label(candidate: Candidate, label: str) -> Candidate:
    return Candidate(
        candidate.title, candidate.short, candidate.links, candidate.main, label,
        candidate.anchors, candidate.bold_only, candidate.text,
    )  # fmt: skip


def _joined(cells: list[list[Piece]]) -> list[Piece]:
    """A table row nested in a bullet, read as one bullet: its cells one after another."""
    return [piece for cell in cells for piece in (*cell, Piece("break"))]


def _count(items: list[_Item]) -> int:
    return sum(1 + _count(item.children) for item in items)


def _cap(slug: str) -> str:
    """Whole words of a slug, at most _ID_LENGTH characters: ids are typed by people."""
    if len(slug) <= _ID_LENGTH:
        return slug
    return slug[: _ID_LENGTH + 1].rsplit("-", 1)[0]


def _title_key(title: str) -> str:
    return " ".join(re.findall(r"\w+", title.lower()))


def _slugs(categories: list[_Category]) -> list[str]:
    """Category slugs; a name used under two groups is qualified by its group in both."""
    bases = [slugify(c.name) or "section" for c in categories]
    counts = Counter(bases)
    slugs, used = [], set()
    for category, base in zip(categories, bases, strict=True):
        slug = base
        if counts[base] > 1 and category.group:
            slug = slugify(f"{category.group} {category.name}") or base
        candidate, n = slug, 2
        while candidate in used:
            candidate, n = f"{slug}-{n}", n + 1
        used.add(candidate)
        slugs.append(candidate)
    return slugs


def _title_from_path(path: str) -> str:
    stem = Path(path).stem if path not in ("-", "<stdin>") else ""
    return stem or "Imported list"


def parse_document(
    text: str,
    path: str = "list.md",
    *,
    exclude: Iterable[str] = (),
    keep_non_papers: bool = False,
) -> Imported:
    """The catalog of a list as plain data, and the report of what was skipped."""
    limit = sys.getrecursionlimit()
    # markdown-it makes ~20 tokens per line that all live until the end; the cyclic
    # collector would rescan them again and again (a fifth of a 5,000-paper import)
    # and find nothing: tokens hold no cycles, reference counting frees them.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _Importer(path, exclude, keep_non_papers).run(text)
    except RecursionError as exc:  # pathological nesting (thousands of levels)
        raise CatalogError(f"Markdown nested too deeply (over {limit} levels)", path=path) from exc
    finally:
        if enabled:
            gc.enable()


def parse(text: str, path: str = "list.md", **options) -> dict:
    """The catalog as plain data, ready to be dumped as `sources.yaml`."""
    return parse_document(text, path, **options).catalog


# libyaml's emitter writes the same bytes as PyYAML's (checked on every corpus list), ten
# times faster; catalog_edit renders single entries with the same settings.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def to_yaml(catalog: dict) -> str:
    return yaml.dump(catalog, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100)


def read_text(path: str | Path) -> tuple[str, str]:
    """(text, name for messages) of a list file, or of standard input for `-`."""
    if str(path) == "-":
        data = sys.stdin.buffer.read()
        name = "<stdin>"
    else:
        name = str(path)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise CatalogError(f"cannot read Markdown list: {exc.strerror}", path=name) from exc
    try:
        return data.decode("utf-8-sig"), name
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CatalogError("Markdown list is not valid UTF-8", path=name, line=line) from exc
