"""Awesome-list Markdown to a catalog skeleton.

Lists of this shape are written by hand, so the parser accepts the quirks seen
in the wild: a colon inside or after the link text, a full-width bar before
the label, a bullet with no link, trailing spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bib.catalog import slugify
from bib.errors import CatalogError

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*?)\s*$")
_LINKED = re.compile(r"^\[(?P<text>[^\]]+)\]\((?P<url>[^)\s]+)\)(?P<rest>.*)$")
# The label follows the last bar; some lists use the full-width bar U+FF5C.
_LABEL = re.compile(r"^(?P<body>.*?)\s*[|\uff5c]\s*(?P<label>[^|\uff5c]*?)\s*$")
DEFAULT_EXCLUDE = re.compile(r"^(other|related)\b.*\blists?$|^see also$", re.IGNORECASE)


@dataclass
class _Category:
    name: str
    group: str | None
    papers: list[dict[str, str]] = field(default_factory=list)


def parse_bullet(text: str) -> dict[str, str]:
    """One bullet's title, link and label, as the list writes them."""
    label = None
    linked = _LINKED.match(text)
    if linked:
        name, link, rest = linked["text"].strip(), linked["url"], linked["rest"]
    else:
        name, link, rest = "", None, text
    labelled = _LABEL.match(rest)
    if labelled:
        rest, label = labelled["body"], labelled["label"] or None
    rest = rest.strip()
    if not name:
        title = rest
    elif not rest:
        title = name
    elif rest.startswith(":"):
        title = f"{name.rstrip(':')}: {rest[1:].strip()}"
    else:
        title = f"{name} {rest}"
    title = re.sub(r"\s+", " ", title).strip().removesuffix(".")
    short = name.rstrip(":").strip() if name else title
    paper = {"id": slugify(short.split(":")[0]), "title": title}
    if link:
        paper["link"] = link
    if label:
        paper["label"] = label
    return paper


def parse(text: str, path: str = "list.md", exclude: re.Pattern[str] = DEFAULT_EXCLUDE) -> dict:
    """The catalog as plain data, ready to be dumped as `sources.yaml`."""
    title = None
    description: list[str] = []
    categories: list[_Category] = []
    group: str | None = None
    current: _Category | None = None
    skipping = False
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        heading = _HEADING.match(line)
        if heading:
            level, name = len(heading[1]), heading[2].strip()
            if level == 1:
                title = title or name
                continue
            if level == 2:
                group, current = name, _Category(name, None)
            else:
                # Under a sub-heading, the parent heading is a group, not a category;
                # it is dropped below because it holds no bullets of its own.
                current = _Category(name, group)
            skipping = bool(exclude.search(name))
            if not skipping:
                categories.append(current)
            continue
        bullet = _BULLET.match(line)
        if bullet and current is not None and not skipping:
            paper = parse_bullet(bullet[1])
            if not paper["title"] or not paper["id"]:
                raise CatalogError("bullet has no title", path=path, line=number)
            base, n = paper["id"], 2
            while paper["id"] in seen:
                paper["id"], n = f"{base}-{n}", n + 1
            seen[paper["id"]] = number
            current.papers.append(paper)
        elif title and not categories and current is None and line.strip():
            description.append(line.strip())
    kept = [c for c in categories if c.papers]
    if title is None:
        raise CatalogError("no '# Title' heading", path=path)
    if not kept:
        raise CatalogError("no '- [title](link)' bullets under any heading", path=path)
    catalog: dict = {"title": title}
    if description:
        catalog["description"] = " ".join(description)
    catalog["categories"] = [
        {
            "name": c.name,
            **({"group": c.group} if c.group else {}),
            "slug": slugify(c.name),
            "papers": c.papers,
        }
        for c in kept
    ]
    return catalog


def to_yaml(catalog: dict) -> str:
    return yaml.safe_dump(catalog, sort_keys=False, allow_unicode=True, width=100)


def import_markdown(path: str | Path) -> str:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"cannot read Markdown list: {exc}", path=str(path)) from exc
    return to_yaml(parse(text, str(path)))
