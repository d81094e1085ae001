"""Load and validate `sources.yaml`, the hand-curated catalog.

The YAML is walked as a node tree rather than loaded into dicts so that every
error can name the line it comes from, and duplicate mapping keys (which PyYAML
silently collapses) are caught.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from bib.errors import CatalogError
from bib.fields import SLUG as SLUG_PATTERN
from bib.fields import is_web_url
from bib.ids import (
    Identifier,
    from_link,
    is_dblp_key,
    normalize_arxiv,
    normalize_doi,
    normalize_pypi,
)
from bib.memo import recall, remember
from bib.text import ascii_fold, clean_text, has_invisible

# libyaml's loader is ten times faster; its nodes carry the same line marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SLUG = re.compile(SLUG_PATTERN)
ENTRY_TYPES = ("software",)
_TOP_FIELDS = {"title", "description", "categories"}
_CATEGORY_FIELDS = {"name", "group", "slug", "papers"}
_PIN_FIELDS = ("doi", "arxiv", "dblp", "url", "pypi")
_ENTRY_FIELDS = {"id", "title", "link", "label", "type", "aliases", "note", *_PIN_FIELDS}


@dataclass(frozen=True)
class Entry:
    """One bullet of the list, plus the maintainer's pins.

    `link` and `label` are the list's own text; `pins` are identifiers the
    maintainer vouches for and win over anything read from the link.
    """

    id: str
    title: str
    category: str
    link: str | None = None
    label: str | None = None
    pins: tuple[Identifier, ...] = ()
    type: str | None = None
    aliases: tuple[str, ...] = ()
    note: str | None = None
    line: int = 0
    # Derived once, when the entry is made (every command asks, some many times):
    # pins win over the link; a link that identifies nothing gives no identifier.
    identifiers: tuple[Identifier, ...] = field(init=False, repr=False, compare=False)
    # The identifiers as the lock records them: a change means resolving again.
    identifier_texts: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        found = from_link(self.link) if self.link and not self.pins else None
        identifiers = self.pins or ((found,) if found else ())
        object.__setattr__(self, "identifiers", identifiers)
        object.__setattr__(self, "identifier_texts", tuple(str(i) for i in identifiers))


@dataclass(frozen=True)
class Category:
    name: str
    slug: str
    group: str | None = None
    entries: tuple[Entry, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.group} / {self.name}" if self.group else self.name


@dataclass(frozen=True)
class Catalog:
    title: str
    categories: tuple[Category, ...]
    description: str | None = None
    path: str = "sources.yaml"
    entries: tuple[Entry, ...] = field(init=False)

    def __post_init__(self) -> None:
        flat = tuple(e for c in self.categories for e in c.entries)
        object.__setattr__(self, "entries", flat)


def load(path: str | Path) -> Catalog:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CatalogError(
            "no catalog here; start one with `bib init`, or import a list with "
            "`bib import-markdown LIST.md -o sources.yaml`",
            path=str(path),
        ) from exc
    except OSError as exc:
        raise CatalogError(f"cannot read catalog: {exc.strerror}", path=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise CatalogError("catalog is not valid UTF-8", path=str(path)) from exc
    return parse(text, str(path))


def parse(text: str, path: str = "sources.yaml") -> Catalog:
    """The catalog in `text`; the same bytes checked before (`bib.memo`) are not walked again."""
    known = recall("catalog", text)
    if known is not None:
        return _from_data(known, path)
    catalog = _parse(text, path)
    remember("catalog", text, _to_data(catalog))
    return catalog


# An entry's own fields, in order: what `bib.memo` stores (identifiers are derived again).
_STORED_FIELDS = tuple(f.name for f in fields(Entry) if f.init)


def _to_data(catalog: Catalog) -> dict:
    """Plain data for `bib.memo`: each entry as the list of its fields' values."""

    def value(entry: Entry, name: str) -> object:
        found = getattr(entry, name)
        return [[p.kind, p.value] for p in found] if name == "pins" else found

    return {
        "title": catalog.title,
        "description": catalog.description,
        "categories": [
            {"name": c.name, "slug": c.slug, "group": c.group,
             "entries": [[value(e, n) for n in _STORED_FIELDS] for e in c.entries]}
            for c in catalog.categories
        ],
    }  # fmt: skip


def _from_data(data: dict, path: str) -> Catalog:
    def entry(values: list) -> Entry:
        item = dict(zip(_STORED_FIELDS, values, strict=True))
        item["pins"] = tuple(Identifier(kind, value) for kind, value in item["pins"])
        item["aliases"] = tuple(item["aliases"])
        return Entry(**item)

    categories = tuple(
        Category(c["name"], c["slug"], c["group"], tuple(map(entry, c["entries"])))
        for c in data["categories"]
    )
    return Catalog(data["title"], categories, data["description"], path)


def _parse(text: str, path: str) -> Catalog:
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.reader.ReaderError as exc:  # a character YAML refuses, such as NUL
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = f"malformed YAML: {exc.reason} (character #x{code:04x})"
        raise CatalogError(message, path=path, line=line) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and start is not None:
            problem += f" ({context} started on line {start.line + 1})"
        raise CatalogError(
            f"malformed YAML: {problem}", path=path, line=mark.line + 1 if mark else None
        ) from exc
    return _Walker(path).catalog(root)


class _Fields:
    """The fields of one YAML mapping, with the node of each for error lines."""

    def __init__(self, walker: _Walker, node: yaml.Node, what: str, entry: str | None) -> None:
        self.walker = walker
        self.node = node
        self.what = what
        self.entry = entry
        self.nodes: dict[str, yaml.Node] = {}

    def __contains__(self, key: str) -> bool:
        return key in self.nodes

    def get(self, key: str) -> yaml.Node | None:
        return self.nodes.get(key)

    def text(self, key: str, required: bool = False) -> str | None:
        node = self.nodes.get(key)
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
            if required:
                raise self.walker.fail(node or self.node, f"{self.what} has no '{key}'", self.entry)
            return None
        if not isinstance(node, yaml.ScalarNode):
            raise self.walker.fail(node, f"'{key}' in {self.what} must be text", self.entry)
        value = self.walker.visible(node, key, self.what, self.entry)
        if required and not value:
            raise self.walker.fail(node, f"'{key}' in {self.what} is empty", self.entry)
        return value or None


class _Walker:
    def __init__(self, path: str) -> None:
        self.path = path
        self.seen_ids: dict[str, int] = {}
        self.seen_slugs: dict[str, int] = {}

    def visible(self, node: yaml.ScalarNode, key: str, what: str, entry: str | None) -> str:
        """The scalar's text, one line: control and bidi characters are refused, not kept.

        They are never part of a title or a name, and could reorder or hide what a
        reader of the outputs (or of this error) sees.
        """
        value = str(node.value)
        if has_invisible(value.replace("\t", " ").replace("\n", " ").replace("\r", " ")):
            message = f"'{key}' in {what} holds control or bidirectional formatting characters"
            raise self.fail(node, message, entry)
        return clean_text(value)

    def fail(self, node: yaml.Node | None, message: str, entry: str | None = None) -> CatalogError:
        line = node.start_mark.line + 1 if node is not None else None
        return CatalogError(message, path=self.path, line=line, entry=entry)

    def mapping(self, node: yaml.Node, allowed: set[str], what: str, entry: str | None = None):
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping", entry)
        if entry is None and "id" in allowed:
            # Papers are named by their id in every message, even about an earlier field.
            entry = next(
                (
                    v.value
                    for k, v in node.value
                    if k.value == "id" and isinstance(v, yaml.ScalarNode)
                ),
                None,
            )
        fields = _Fields(self, node, what, entry)
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, f"field names in {what} must be plain text", entry)
            key = key_node.value
            if key in fields.nodes:
                raise self.fail(key_node, f"duplicate field '{key}' in {what}", entry)
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                message = f"unknown field '{key}' in {what} (known: {known})"
                raise self.fail(key_node, message, entry)
            fields.nodes[key] = value_node
        return fields

    def catalog(self, root: yaml.Node | None) -> Catalog:
        if root is None:
            raise CatalogError("catalog is empty", path=self.path)
        top = self.mapping(root, _TOP_FIELDS, "catalog")
        title = top.text("title", required=True)
        categories_node = top.get("categories")
        if not isinstance(categories_node, yaml.SequenceNode) or not categories_node.value:
            raise self.fail(categories_node or root, "catalog needs a non-empty 'categories' list")
        categories = tuple(self.category(node) for node in categories_node.value)
        return Catalog(
            title=title, description=top.text("description"), categories=categories, path=self.path
        )

    def category(self, node: yaml.Node) -> Category:
        fields = self.mapping(node, _CATEGORY_FIELDS, "category")
        name = fields.text("name", required=True)
        fields.what = f"category '{name}'"
        slug = fields.text("slug") or slugify(name)
        if not SLUG.match(slug):
            message = f"category slug '{slug}' is not a lower-case slug"
            raise self.fail(fields.get("slug") or node, message)
        if slug in self.seen_slugs:
            message = f"category slug '{slug}' already used on line {self.seen_slugs[slug]}"
            raise self.fail(node, message)
        self.seen_slugs[slug] = node.start_mark.line + 1
        papers = fields.get("papers")
        if not isinstance(papers, yaml.SequenceNode):
            raise self.fail(papers or node, f"category '{name}' needs a 'papers' list")
        entries = tuple(self.entry(paper, name) for paper in papers.value)
        return Category(name=name, slug=slug, group=fields.text("group"), entries=entries)

    def entry(self, node: yaml.Node, category: str) -> Entry:
        fields = self.mapping(node, _ENTRY_FIELDS, "paper")
        entry_id = fields.text("id", required=True)
        fields.entry = entry_id
        fields.what = f"paper '{entry_id}'"
        if not SLUG.match(entry_id):
            raise self.fail(fields.get("id"), f"id '{entry_id}' is not a lower-case slug", entry_id)
        if entry_id in self.seen_ids:
            message = f"duplicate id (first used on line {self.seen_ids[entry_id]})"
            raise self.fail(fields.get("id"), message, entry_id)
        self.seen_ids[entry_id] = node.start_mark.line + 1
        title = fields.text("title", required=True)
        pins = tuple(self.pin(fields, key) for key in _PIN_FIELDS if key in fields)
        note = fields.text("note")
        if pins and not note:
            raise self.fail(node, "a pin needs a 'note' saying why", entry_id)
        link = fields.text("link")
        if link is not None and not is_web_url(link):
            # A javascript: or data: link would reach output/README.md as a live link.
            raise self.fail(fields.get("link"), f"link {link!r} is not an http(s) URL", entry_id)
        entry_type = fields.text("type")
        if entry_type is not None and entry_type not in ENTRY_TYPES:
            message = f"unknown type '{entry_type}' (known: {', '.join(ENTRY_TYPES)})"
            raise self.fail(fields.get("type"), message, entry_id)
        return Entry(
            id=entry_id,
            title=title,
            category=category,
            link=link,
            label=fields.text("label"),
            pins=pins,
            type=entry_type,
            aliases=self.aliases(fields),
            note=note,
            line=node.start_mark.line + 1,
        )

    def pin(self, fields: _Fields, key: str) -> Identifier:
        value = fields.text(key, required=True)
        node, entry_id = fields.get(key), fields.entry
        if key == "doi":
            normalized, expected = normalize_doi(value), "a DOI (expected 10.NNNN/...)"
        elif key == "arxiv":
            parsed = normalize_arxiv(value)
            normalized, expected = parsed and parsed[0], "an arXiv id (expected e.g. 2309.06180)"
        elif key == "dblp":
            normalized = value if is_dblp_key(value) else None
            expected = "a DBLP record key (expected e.g. conf/osdi/YuJKKC22)"
        elif key == "pypi":
            normalized = normalize_pypi(value)
            expected = "a PyPI project name (expected e.g. deepspeed-mii)"
        else:
            normalized = value if is_web_url(value) else None
            expected = "an http(s) URL"
        if normalized is None:
            raise self.fail(node, f"'{value}' is not {expected}", entry_id)
        return Identifier(key, normalized)

    def aliases(self, fields: _Fields) -> tuple[str, ...]:
        node, entry_id = fields.get("aliases"), fields.entry
        if node is None:
            return ()
        if not isinstance(node, yaml.SequenceNode) or not all(
            isinstance(item, yaml.ScalarNode)
            and not item.tag.endswith(":null")
            and self.visible(item, "aliases", fields.what, entry_id)
            for item in node.value
        ):
            raise self.fail(node, "'aliases' must be a list of titles", entry_id)
        return tuple(clean_text(item.value) for item in node.value)


def slugify(text: str) -> str:
    """A stable lower-case ASCII slug; used for ids and category file names."""
    words = re.findall(r"[a-z0-9]+", ascii_fold(text).lower())
    return "-".join(words)
