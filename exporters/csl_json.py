"""CSL-JSON (CSL 1.0.2 input data): what Pandoc, citeproc and Zotero read.

One item per record, in catalog order. The record already speaks CSL's
vocabulary, so this is a thin mapping; the choices that are not are:

- Types: only those of CSL 1.0.1, which 1.0.2 keeps: Zotero's CSL JSON
  importer refuses a whole file for one type it does not know ("software",
  "document", both new in 1.0.2). Preprints are `article` (the type Zotero maps
  its Preprint item type to), as are catalog-only records; software is a
  `book` of genre "Computer software", as Zotero exported programs before 1.0.2
  (with its `version`).
- arXiv, as Zotero exports a preprint from its arXiv translator: the archive
  ID `arXiv:2311.15566` as `number` and the repository `arXiv` as
  `publisher`. A published paper keeps its arXiv id (and class) in `note`,
  in the `arXiv:ID [class]` form Zotero keeps in Extra (which it exports as
  `note`).
- The bibliography's category goes in `keyword`; the citation key is both `id`
  and `citation-key`.
- Page ranges use a plain hyphen (`611-626`), the separator CSL processors
  parse and re-format with the style's own range delimiter.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from bib.fields import has_web_scheme
from bib.record import Bibliography, Person, Record

CSL_TYPES = {
    "paper-conference": "paper-conference",
    "article-journal": "article-journal",
    "preprint": "article",
    "software": "book",
    "misc": "article",
}
_DASHES = re.compile(r"\s*[-\u2010-\u2015]+\s*")


def name(person: Person) -> dict[str, str]:
    if person.literal:
        return {"literal": person.literal}
    return {k: v for k, v in (("family", person.family), ("given", person.given)) if v}


def page_range(pages: str) -> str:
    return _DASHES.sub("-", pages.strip())


def item(record: Record) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": record.key,
        "citation-key": record.key,
        "type": CSL_TYPES[record.type],
        "title": record.title,
    }
    if record.authors:
        data["author"] = [name(person) for person in record.authors]
    if record.issued:
        data["issued"] = {"date-parts": [list(record.issued[:3])]}
    optional = {
        "container-title": record.container_title,
        "collection-title": record.collection_title,
        "volume": record.volume,
        "issue": record.number,
        "page": page_range(record.pages) if record.pages else None,
        "publisher": record.publisher,
        "publisher-place": record.publisher_place,
        "DOI": record.doi,
        "URL": record.url if record.url and has_web_scheme(record.url) else None,
        "version": record.version,
    }
    data.update({key: value for key, value in optional.items() if value})
    if record.arxiv_id:
        arxiv = f"arXiv:{record.arxiv_id}"
        if record.type == "preprint":
            data["number"] = arxiv
            data.setdefault("publisher", "arXiv")
            data.pop("issue", None)  # a preprint's number is its archive ID
        data["note"] = f"{arxiv} [{record.arxiv_class}]" if record.arxiv_class else arxiv
    if record.type == "software":
        data["genre"] = "Computer software"
    if record.categories:
        data["keyword"] = ", ".join(record.categories)
    return data


def render(bibliography: Bibliography) -> str:
    """Sorted keys, two-space indent, UTF-8 as it is: the bytes of Python's
    `json.dumps(indent=2, sort_keys=True, ensure_ascii=False)`, written by orjson's
    C encoder (the standard library encodes an indented document in pure Python)."""
    return "".join(render_all(bibliography)[0])


def render_all(bibliography: Bibliography) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The whole file and one per section, as chunks that share each section's items.

    Items are encoded one at a time and only their text is kept, so a large
    bibliography never holds every item's dictionary at once.
    """
    sections = {
        s.slug: ",\n".join(_item_text(record) for record in s.records)
        for s in bibliography.sections
    }
    filled = [text for text in sections.values() if text]
    whole = ("[\n", *_separated(filled), "\n]\n") if filled else ("[]\n",)
    parts = {slug: ("[\n", text, "\n]\n") if text else ("[]\n",) for slug, text in sections.items()}
    return whole, parts


def _item_text(record: Record) -> str:
    """One item as it reads inside the array: every line indented by two spaces."""
    text = orjson.dumps(item(record), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    return "  " + text.replace("\n", "\n  ")


def _separated(texts: list[str]) -> list[str]:
    """`texts` with ",\n" between them: the array's separator where two sections meet."""
    out = []
    for text in texts:
        out += [",\n", text] if out else [text]
    return out
