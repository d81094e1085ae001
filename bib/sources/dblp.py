"""DBLP: the publication search API (JSON), and one record by key (`/rec/<key>.xml`).

Both hang off one base URL, `BIB_DBLP_URL` (default https://dblp.org). A value
naming the search endpoint itself (`https://dblp.org/search/publ/api`, the form
this setting used to take) still works: the base is what precedes that path.

Record pages are XML in DBLP's own format (dblp.dtd): `<dblp>` around one
`<inproceedings>`, `<article>`, ... with `<author>`, `<title>` (ending with a full
stop), `<pages>`, `<year>`, `<booktitle>` or `<journal>`/`<volume>`/`<number>`,
`<ee>`, `<crossref>`, `<url>`. Names may end with a four-digit homonym number.
"""

from __future__ import annotations

import html.entities
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html import unescape
from urllib.parse import urlsplit

from bib.fields import date_parts
from bib.http import HttpClient, UpstreamError
from bib.ids import is_dblp_key, normalize_doi
from bib.record import Record, RecordType
from bib.sources.names import split_name
from bib.sources.upstream import Upstream
from bib.sources.values import first_text, mapping, text

UPSTREAM = Upstream("dblp", "BIB_DBLP_URL", "https://dblp.org", interval=1.0)
SEARCH_PATH = "/search/publ/api"

TYPES: dict[str, RecordType] = {
    "Conference and Workshop Papers": "paper-conference",
    "Journal Articles": "article-journal",
    "Informal and Other Publications": "preprint",
    "Informal Publications": "preprint",
}
# The record elements of dblp.dtd a record page can hold; papers keep their type, the
# others (proceedings, books, theses) become `misc`, and an informal article a preprint.
XML_TYPES: dict[str, RecordType] = {
    "inproceedings": "paper-conference",
    "article": "article-journal",
}
RECORD_TAGS = frozenset(
    {"article", "inproceedings", "proceedings", "book", "incollection", "phdthesis",
     "mastersthesis"}
)  # fmt: skip
# DBLP's venue field is an abbreviation; these are the series' own names.
VENUES = {
    "OSDI": "USENIX Symposium on Operating Systems Design and Implementation (OSDI)",
    "NSDI": "USENIX Symposium on Networked Systems Design and Implementation (NSDI)",
    "USENIX ATC": "USENIX Annual Technical Conference (USENIX ATC)",
    "FAST": "USENIX Conference on File and Storage Technologies (FAST)",
    "ICML": "International Conference on Machine Learning (ICML)",
    "NeurIPS": "Advances in Neural Information Processing Systems (NeurIPS)",
    "MLSys": "Conference on Machine Learning and Systems (MLSys)",
    "COLM": "Conference on Language Modeling (COLM)",
}
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_NAMED_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]*);")


@dataclass(frozen=True)
class DblpEntry:
    """A DBLP record as a `Record`, plus what the record has no room for.

    `pids` holds each author's DBLP person id, in author order (None where DBLP
    gave none): the search API gives them (`@pid`); record pages do not.
    """

    record: Record
    pids: tuple[str | None, ...] = ()
    mdate: str | None = None  # the record's last change (record pages only)
    crossref: str | None = None  # the key of the proceedings volume (record pages only)


def site(base_url: str) -> str:
    """The DBLP base URL, also when given the search endpoint's URL (the older setting)."""
    return base_url.rstrip("/").removesuffix(SEARCH_PATH)


def search_url(base_url: str) -> str:
    return site(base_url) + SEARCH_PATH


def record_url(base_url: str, key: str) -> str:
    return f"{site(base_url)}/rec/{key}.xml"


# -- the search API (JSON) -----------------------------------------------------------------


def info_to_entry(info: dict) -> DblpEntry:
    """A search hit's `info`; its text is HTML-escaped (`&apos;`), so it is unescaped.

    Values of the wrong type (a number for a title, a string for the authors)
    are read as absent: `bib.fields.clean_record` then judges what is left.
    """
    listed = mapping(info.get("authors")).get("author")
    authors = listed if isinstance(listed, list) else [listed]  # a lone author is an object
    names = [text(mapping(a).get("text")) if isinstance(a, dict) else text(a) for a in authors]
    venue = first_text(info.get("venue"))
    kind = TYPES.get(text(info.get("type")) or "", "misc")
    doi = normalize_doi(text(info.get("doi")) or "")
    ee = first_text(info.get("ee"))
    record = Record(
        id="",
        key="",
        type=kind,
        title=_title(unescape(text(info.get("title")) or "")),
        authors=tuple(split_name(unescape(name)) for name in names if name),
        issued=date_parts([info.get("year")]),
        container_title=VENUES.get(venue, venue) if venue and kind != "preprint" else None,
        volume=text(info.get("volume")),
        number=text(info.get("number")),
        pages=text(info.get("pages")),
        doi=doi,
        dblp_key=text(info.get("key")),
        url=f"https://doi.org/{doi}" if doi else ee,
        source="dblp",
    )
    pids = tuple(
        _pid(a.get("@pid")) if isinstance(a, dict) else None
        for a, name in zip(authors, names, strict=True)
        if name
    )
    return DblpEntry(record, pids)


def info_to_record(info: dict) -> Record:
    return info_to_entry(info).record


def search(client: HttpClient, base_url: str, query: str, hits: int = 10) -> list[Record]:
    return [entry.record for entry in search_entries(client, base_url, query, hits)]


def search_entries(
    client: HttpClient, base_url: str, query: str, hits: int = 10
) -> list[DblpEntry]:
    """Search hits as entries, keeping each author's person id; another shape is a failure."""
    try:
        response = client.get(
            search_url(base_url), params={"q": query, "format": "json", "h": str(hits)}
        )
    except UpstreamError as exc:
        raise UpstreamError(f"DBLP: {exc}") from exc
    if response.status_code != 200:
        raise UpstreamError(f"DBLP: HTTP {response.status_code} for query {query!r}")
    try:
        document = response.json()
    except ValueError as exc:
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        raise UpstreamError(
            f"DBLP: malformed response, not JSON ({kind}), for query {query!r}"
        ) from exc
    envelope = mapping(mapping(document).get("result")).get("hits")
    if not isinstance(envelope, dict):
        raise UpstreamError(f"DBLP: malformed response for query {query!r}")
    found = envelope.get("hit", [])  # no `hit` key when nothing matched; a lone hit is an object
    listed = found if isinstance(found, list) else [found]
    if not all(isinstance(h, dict) and isinstance(h.get("info"), dict) for h in listed):
        raise UpstreamError(f"DBLP: malformed response for query {query!r}")
    return [info_to_entry(hit["info"]) for hit in listed]


# -- records by key (XML) ------------------------------------------------------------------


def fetch_record(client: HttpClient, base_url: str, key: str) -> DblpEntry | None:
    """The record DBLP keeps under `key`, or None if DBLP has no such record (404).

    Raises ValueError for a string that is not a DBLP key (callers validate keys
    where they read them), UpstreamError when DBLP fails or answers something
    that is not that record.
    """
    if not is_dblp_key(key) or key != key.strip():
        raise ValueError(f"not a DBLP key: {key!r}")
    try:
        response = client.get(record_url(base_url, key))
    except UpstreamError as exc:
        raise UpstreamError(f"DBLP: record {key}: {exc}") from exc
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise UpstreamError(f"DBLP: HTTP {response.status_code} for record {key}")
    entry = parse_record_xml(response.content)
    if entry.record.dblp_key != key:
        raise UpstreamError(f"DBLP: asked for record {key}, got {entry.record.dblp_key}")
    return entry


def parse_record_xml(body: bytes | str) -> DblpEntry:
    """A record page (`<dblp>` around one record element) as an entry; anything else raises.

    Bytes are handed to the XML parser as they are, so the page's declared
    encoding (DBLP's is US-ASCII, with numeric character references) decides.
    """
    if isinstance(body, str):
        body = body.encode("utf-8")
    if b"<!ENTITY" in body:
        raise UpstreamError("DBLP: record XML declares entities; refused")
    # The dump's DTD names entities (`&eacute;`); a page that used them would not parse.
    body = _NAMED_ENTITY.sub(_numeric_entity, body)
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise UpstreamError(f"DBLP: malformed record XML ({exc})") from exc
    if root.tag != "dblp":
        raise UpstreamError(f"DBLP: expected a <dblp> record page, got <{root.tag}>")
    items = [child for child in root if child.tag in RECORD_TAGS]
    if len(items) != 1 or len(root) != 1:
        raise UpstreamError(f"DBLP: a record page holds one record, this one {len(root)}")
    return element_to_entry(items[0])


def element_to_entry(item: ET.Element) -> DblpEntry:
    """One record element of dblp.dtd (`<inproceedings key=...>`) as an entry."""
    key = item.get("key", "")
    if not is_dblp_key(key):
        raise UpstreamError(f"DBLP: record key {key!r} is not a DBLP key")
    authors = item.findall("author")
    informal = "informal" in (item.get("publtype") or "").split()
    kind: RecordType = "preprint" if informal else XML_TYPES.get(item.tag, "misc")
    venue = _field(item, "booktitle") or _field(item, "journal")
    ees = [e for e in (_text(ee) for ee in item.findall("ee")) if e]
    doi = next((d for e in ees if (d := _doi_of(e))), None)
    record = Record(
        id="",
        key="",
        type=kind,
        title=_title(_text(item.find("title"))),
        authors=tuple(split_name(_text(a)) for a in authors if _text(a)),
        issued=date_parts([_field(item, "year")]),
        container_title=VENUES.get(venue, venue) if venue and kind != "preprint" else None,
        volume=_field(item, "volume"),
        number=_field(item, "number"),
        pages=_field(item, "pages"),
        doi=doi,
        dblp_key=key,
        url=f"https://doi.org/{doi}" if doi else (ees[0] if ees else None),
        source="dblp",
    )
    pids = tuple(_pid(a.get("pid")) for a in authors if _text(a))
    return DblpEntry(record, pids, item.get("mdate"), _field(item, "crossref"))


def _title(text: str) -> str:
    """DBLP ends every title with a full stop of its own; one is dropped."""
    return " ".join(text.split()).removesuffix(".")


def _text(node: ET.Element | None) -> str:
    """All text of an element, markup (`<i>`, `<sub>`) included, on one line."""
    return " ".join("".join(node.itertext()).split()) if node is not None else ""


def _field(item: ET.Element, tag: str) -> str | None:
    return _text(item.find(tag)) or None


def _pid(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _doi_of(ee: str) -> str | None:
    parts = urlsplit(ee)
    if parts.netloc.lower() not in ("doi.org", "dx.doi.org"):
        return None
    return normalize_doi(parts.path.lstrip("/"))


def _numeric_entity(match: re.Match[bytes]) -> bytes:
    name = match.group(1).decode("ascii")
    if name in _XML_ENTITIES or name not in html.entities.name2codepoint:
        return match.group(0)
    return b"&#%d;" % html.entities.name2codepoint[name]
