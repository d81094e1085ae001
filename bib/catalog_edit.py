"""Edit `sources.yaml` in place: append an entry, remove one, merge a re-imported list.

The catalog is the maintainer's file: comments, quoting, line breaks and notes wrapped
by hand must survive an edit. Dumping a whole document again, even with ruamel.yaml's
round-trip mode, re-wraps long scalars; so ruamel.yaml's round-trip parser is used to
*locate* every category, entry and field (their lines and columns), and an edit
replaces only the lines of what changed. New text is rendered by PyYAML at the
same depth, as `bib import-markdown` writes it, so an edited file looks imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from bib import catalog
from bib.atomic import write_text_atomic
from bib.errors import CatalogError
from bib.ids import from_link

LIST_FIELDS = ("title", "link", "label")  # what the list says; everything else is curation
_WIDTH = 100


@dataclass(frozen=True)
class _Span:
    """Lines [start, end) of a node, with the comment lines just above it included."""

    start: int
    end: int


@dataclass
class _Entry:
    data: CommentedMap
    span: _Span
    category: int

    @property
    def id(self) -> str:
        return str(self.data.get("id", ""))


@dataclass
class _Category:
    data: CommentedMap
    span: _Span
    dash: int  # column of the category's "- "
    entries: list[_Entry] = field(default_factory=list)
    entry_dash: int = 2
    papers_line: int = 0

    @property
    def key(self) -> tuple[str, str | None]:
        return str(self.data.get("name", "")), _text(self.data.get("group"))


@dataclass
class MergeReport:
    """What a merge did, by entry id."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)
    unchanged: int = 0

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} changed, "
            f"{len(self.moved)} moved, {self.unchanged} unchanged"
        )


class _Layout:
    """Where each category, entry and field of a catalog text starts and ends."""

    def __init__(self, text: str, path: str) -> None:
        catalog.parse(text, path)  # errors name the line, as for every catalog read
        self.path = path
        self.lines = text.splitlines(keepends=True)
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines[-1] += "\n"
        try:
            self.doc: CommentedMap = YAML(typ="rt").load(text)
        except YAMLError as exc:  # pragma: no cover - PyYAML accepted it above
            raise CatalogError(f"malformed YAML: {exc}", path=path) from exc
        self.categories: list[_Category] = []
        seq: CommentedSeq = self.doc["categories"]
        starts = self._starts(seq)
        outer = sorted(
            {line for line, _ in (self.doc.lc.key(k) for k in self.doc)}
            | {seq.lc.item(i)[0] for i in range(len(seq))}
        )
        for i, cat in enumerate(seq):
            line, col = seq.lc.item(i)
            category = _Category(cat, self._span(line, outer), dash=col - 2)
            papers: CommentedSeq = cat["papers"]
            category.papers_line = cat.lc.key("papers")[0]
            for j, paper in enumerate(papers):
                pline, pcol = papers.lc.item(j)
                category.entry_dash = pcol - 2
                category.entries.append(_Entry(paper, self._span(pline, starts), i))
            self.categories.append(category)

    def _starts(self, seq: CommentedSeq) -> list[int]:
        """Every line where a top-level key, a category, a category key or an entry begins."""
        starts = {line for line, _ in (self.doc.lc.key(k) for k in self.doc)}
        for i, cat in enumerate(seq):
            starts.add(seq.lc.item(i)[0])
            starts.update(cat.lc.key(k)[0] for k in cat)
            papers = cat.get("papers") or []
            starts.update(papers.lc.item(j)[0] for j in range(len(papers)))
        return sorted(starts)

    def _span(self, line: int, starts: list[int]) -> _Span:
        end = next((s for s in starts if s > line), len(self.lines))
        return _Span(self._above(line), self._trim(line, end))

    def _above(self, line: int) -> int:
        while line > 0 and self.lines[line - 1].lstrip().startswith("#"):
            line -= 1
        return line

    def _trim(self, start: int, end: int) -> int:
        """`end` moved up past blank and comment lines: those belong to what follows."""
        while end > start + 1 and self.lines[end - 1].strip()[:1] in ("", "#"):
            end -= 1
        return end

    def field_span(self, entry: _Entry, key: str) -> _Span | None:
        lines = sorted(entry.data.lc.key(k)[0] for k in entry.data)
        if key not in entry.data or len(set(lines)) != len(lines):
            return None  # absent, or a flow mapping: several fields on one line
        line = entry.data.lc.key(key)[0]
        end = next((s for s in lines if s > line), entry.span.end)
        return _Span(line, self._trim(line, end))

    def entry_text(self, entry: _Entry) -> list[str]:
        return self.lines[entry.span.start : entry.span.end]


class _Edits:
    """Line replacements on the original text, applied together from the bottom up."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.edits: list[tuple[int, int, int, list[str]]] = []

    def replace(self, span: _Span, new: list[str]) -> None:
        self.edits.append((span.start, span.end, len(self.edits), new))

    def insert(self, line: int, new: list[str]) -> None:
        self.edits.append((line, line, len(self.edits), new))

    def text(self) -> str:
        lines = list(self.lines)
        for start, end, _, new in sorted(self.edits, reverse=True):
            lines[start:end] = new
        return "".join(lines)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _render(data: Any, indent: int) -> list[str]:
    """YAML lines for `data` at column `indent`, wrapped as PyYAML wraps it at that depth."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=max(_WIDTH - indent, 20))
    return [" " * indent + line for line in text.splitlines(keepends=True)]


def _plain(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if v is not None}


# --- single edits -------------------------------------------------------------------------


def append_entry(
    text: str,
    entry: dict,
    category: str,
    *,
    group: str | None = None,
    slug: str | None = None,
    path: str = "sources.yaml",
) -> str:
    """`text` with `entry` added at the end of `category` (created at the end if missing)."""
    layout = _Layout(text, path)
    if any(e.id == entry.get("id") for c in layout.categories for e in c.entries):
        raise CatalogError(f"id '{entry.get('id')}' is already in the catalog", path=path)
    edits = _Edits(layout.lines)
    target = next((c for c in layout.categories if c.key == (category, group)), None)
    if target is None:
        new = {"name": category, **({"group": group} if group else {})}
        new["slug"] = slug or catalog.slugify(category)
        new["papers"] = [_plain(entry)]
        _insert_category(layout, edits, new)
    else:
        _insert_entries(layout, edits, target, [_render([_plain(entry)], target.entry_dash)])
    return _checked(edits.text(), path)


def remove_entry(text: str, entry_id: str, *, path: str = "sources.yaml") -> str:
    """`text` without the entry `entry_id`; a category left empty goes too.

    The only category stays, as `papers: []`: a catalog needs one, and a list that
    has just lost its last paper is still that list.
    """
    layout = _Layout(text, path)
    for category in layout.categories:
        for entry in category.entries:
            if entry.id == entry_id:
                edits = _Edits(layout.lines)
                if len(category.entries) == 1 and len(layout.categories) == 1:
                    indent = " " * (category.dash + 2)
                    papers = _Span(category.papers_line, entry.span.end)
                    edits.replace(papers, [f"{indent}papers: []\n"])
                elif len(category.entries) == 1:
                    edits.replace(category.span, [])
                else:
                    edits.replace(entry.span, [])
                return _checked(edits.text(), path)
    raise CatalogError(f"no entry with id '{entry_id}'", path=path)


def _insert_entries(
    layout: _Layout, edits: _Edits, category: _Category, blocks: list[list[str]]
) -> None:
    lines = [line for block in blocks for line in block]
    if category.entries:
        edits.insert(category.entries[-1].span.end, lines)
    else:  # `papers: []`
        papers = _Span(category.papers_line, category.papers_line + 1)
        indent = " " * (category.dash + 2)
        edits.replace(papers, [f"{indent}papers:\n", *lines])


def _insert_category(layout: _Layout, edits: _Edits, category: dict) -> None:
    last = layout.categories[-1] if layout.categories else None
    dash = last.dash if last else 0
    lines = _render([category], dash)
    edits.insert(last.span.end if last else len(layout.lines), lines)


def _checked(text: str, path: str) -> str:
    catalog.parse(text, path)
    return text


# --- merging a re-imported list -----------------------------------------------------------


def _title_key(title: Any) -> str:
    return " ".join(re.findall(r"\w+", str(title or "").casefold()))


def _link_key(link: Any) -> str | None:
    if not link:
        return None
    found = from_link(str(link))
    return str(found) if found else str(link).strip().rstrip("/").lower()


def _match(old: list[_Entry], new: list[dict]) -> dict[int, _Entry]:
    """New entry index -> old entry: by link identifier, then normalized title, then id."""
    matched: dict[int, _Entry] = {}
    free = list(old)

    def claim(i: int, candidates: list[_Entry], entry: dict) -> None:
        if len(candidates) > 1:  # two old entries share the link: the title decides
            candidates = [c for c in candidates if _title_key(c.data.get("title")) == _title_key(
                entry.get("title")
            )] or [c for c in candidates if c.id == entry.get("id")]  # fmt: skip
        if len(candidates) == 1:
            matched[i] = candidates[0]
            free.remove(candidates[0])

    passes = (
        lambda o, n: _link_key(o.data.get("link")) == _link_key(n.get("link")) is not None,
        lambda o, n: (
            _title_key(n.get("title"))
            in {_title_key(t) for t in (o.data.get("title"), *(o.data.get("aliases") or ()))}
        ),
        lambda o, n: o.id == n.get("id"),
    )
    for same in passes:
        for i, entry in enumerate(new):
            if i not in matched:
                claim(i, [o for o in free if same(o, entry)], entry)
    return matched


def merge(text: str, imported: dict, *, path: str = "sources.yaml") -> tuple[str, MergeReport]:
    """`text` updated to the re-imported list `imported` (as `parse` returns it).

    Entries matched to an imported one keep their id, pins, aliases, note and type,
    and take the list's title, link and label; unmatched old entries are removed,
    unmatched new ones appended to their category. Unchanged entries keep their bytes.
    """
    layout = _Layout(text, path)
    report = MergeReport()
    edits = _Edits(layout.lines)
    new_entries = [
        (cat, paper) for cat in imported["categories"] for paper in cat["papers"]
    ]  # fmt: skip
    old_entries = [e for c in layout.categories for e in c.entries]
    matched = _match(old_entries, [p for _, p in new_entries])
    keys = {c.key: i for i, c in enumerate(layout.categories)}
    used_ids = {e.id for e in old_entries}
    used_slugs = {str(c.data.get("slug") or catalog.slugify(c.key[0])) for c in layout.categories}
    staying: dict[int, int] = {i: 0 for i in range(len(layout.categories))}
    appended: dict[int, list[list[str]]] = {}
    created: dict[tuple[str, str | None], dict] = {}
    moved_blocks: dict[tuple[str, str | None], list[list[str]]] = {}
    kept = set()

    for index, (cat, paper) in enumerate(new_entries):
        key = (cat["name"], cat.get("group"))
        old = matched.get(index)
        if old is None:
            paper = dict(paper)
            paper["id"] = _fresh(paper["id"], used_ids)
            report.added.append(paper["id"])
        else:
            kept.add(id(old))
        target = keys.get(key)
        if old is not None and target == old.category:
            staying[target] += 1
            changed = _update_fields(layout, edits, old, paper)
            if changed:
                report.changed.append((old.id, changed))
            else:
                report.unchanged += 1
            continue
        if old is not None:
            report.moved.append((old.id, key[0]))
            block = layout.entry_text(old)
            if _differs(old, paper):
                block = _render([_updated(old, paper)], layout.categories[old.category].entry_dash)
                report.changed.append((old.id, _changed_fields(old, paper)))
        else:
            block = None
        if target is not None:
            dash = layout.categories[target].entry_dash
            appended.setdefault(target, []).append(block or _render([_plain(paper)], dash))
            staying[target] += 1
        else:
            if key not in created:
                slug = _fresh(cat.get("slug") or catalog.slugify(cat["name"]), used_slugs)
                created[key] = {
                    "name": cat["name"], **({"group": cat["group"]} if cat.get("group") else {}),
                    "slug": slug, "papers": [],
                }  # fmt: skip
            if block is None:
                created[key]["papers"].append(_plain(paper))
            else:
                moved_blocks.setdefault(key, []).append(block)

    moved_ids = {moved_id for moved_id, _ in report.moved}
    for i, category in enumerate(layout.categories):
        gone = [e for e in category.entries if id(e) not in kept]
        report.removed.extend(e.id for e in gone)
        leaving = [e for e in category.entries if id(e) in kept and e.id in moved_ids]
        if staying[i] == 0:
            edits.replace(category.span, [])
            continue
        for entry in (*gone, *leaving):
            edits.replace(entry.span, [])
        if i in appended:
            _insert_entries(layout, edits, category, appended[i])
    for key, category in created.items():
        lines = _render([category], layout.categories[-1].dash if layout.categories else 0)
        if not category["papers"]:
            lines = [line.replace("papers: []", "papers:") for line in lines]
        blocks = moved_blocks.get(key, [])
        end = layout.categories[-1].span.end if layout.categories else len(layout.lines)
        edits.insert(end, lines + [line for block in blocks for line in block])
    return _checked(edits.text(), path), report


def _fresh(base: str, used: set[str]) -> str:
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}-{n}", n + 1
    used.add(candidate)
    return candidate


def _changed_fields(old: _Entry, paper: dict) -> tuple[str, ...]:
    return tuple(k for k in LIST_FIELDS if _text(old.data.get(k)) != _text(paper.get(k)))


def _differs(old: _Entry, paper: dict) -> bool:
    return bool(_changed_fields(old, paper))


def _updated(old: _Entry, paper: dict) -> dict:
    """The old entry with the list's fields taken from `paper`, in the catalog's field order."""
    data = {k: v for k, v in old.data.items()}
    out: dict = {}
    for key in ("id", *LIST_FIELDS, *(k for k in data if k not in ("id", *LIST_FIELDS))):
        value = paper.get(key) if key in LIST_FIELDS else data.get(key)
        if value is not None:
            out[key] = _plain_value(value)
    return out


def _plain_value(value: Any) -> Any:
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


def _update_fields(layout: _Layout, edits: _Edits, old: _Entry, paper: dict) -> tuple[str, ...]:
    """Replace only the lines of the list's fields that changed; the rest keeps its bytes."""
    changed = _changed_fields(old, paper)
    if not changed:
        return ()
    spans = {k: layout.field_span(old, k) for k in ("id", *LIST_FIELDS)}
    if (
        any(old.data.get(k) is not None and spans[k] is None for k in LIST_FIELDS)
        or spans["id"] is None
    ):
        # A flow-style entry: render it whole.
        dash = layout.categories[old.category].entry_dash
        edits.replace(old.span, _render([_updated(old, paper)], dash))
        return changed
    indent = old.data.lc.key("id")[1]
    previous = spans["id"]
    for key in LIST_FIELDS:
        span, value = spans[key], paper.get(key)
        if key in changed:
            lines = _render({key: value}, indent) if value is not None else []
            if span is not None:
                edits.replace(span, lines)
            else:
                edits.insert(previous.end, lines)
        if span is not None:
            previous = span
    return changed


def merge_file(path: Path, imported: dict) -> MergeReport:
    """Merge `imported` into the catalog file at `path`, written atomically."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read catalog: {exc.strerror}", path=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise CatalogError("catalog is not valid UTF-8", path=str(path)) from exc
    merged, report = merge(text, imported, path=str(path))
    write_text_atomic(path, merged)
    return report
