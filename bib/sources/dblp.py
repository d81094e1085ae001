"""DBLP's publication search API (JSON): peer-reviewed versions that have no DOI."""

from __future__ import annotations

from bib.fields import date_parts
from bib.http import HttpClient, UpstreamError
from bib.ids import normalize_doi
from bib.record import Record
from bib.sources.names import split_name
from bib.sources.upstream import Upstream
from bib.sources.values import first_text, mapping, objects, text

UPSTREAM = Upstream("dblp", "BIB_DBLP_URL", "https://dblp.org/search/publ/api", interval=1.0)

TYPES = {
    "Conference and Workshop Papers": "paper-conference",
    "Journal Articles": "article-journal",
    "Informal and Other Publications": "preprint",
    "Informal Publications": "preprint",
}
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


def _names(authors: object) -> list[str]:
    """DBLP gives a lone author as an object, not a list, and each as `{"text": name}`."""
    items = authors if isinstance(authors, list) else [authors]
    names = (text(mapping(a).get("text")) if isinstance(a, dict) else text(a) for a in items)
    return [name for name in names if name]


def info_to_record(info: dict) -> Record:
    """One hit's `info` as a record; values of the wrong type are read as absent."""
    venue = first_text(info.get("venue"))
    kind = TYPES.get(text(info.get("type")) or "", "misc")
    doi = normalize_doi(text(info.get("doi")) or "")
    ee = first_text(info.get("ee"))
    return Record(
        id="",
        key="",
        type=kind,
        title=" ".join((text(info.get("title")) or "").split()).removesuffix("."),
        authors=tuple(
            split_name(name) for name in _names(mapping(info.get("authors")).get("author"))
        ),
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


def search(client: HttpClient, base_url: str, query: str, hits: int = 10) -> list[Record]:
    """Publication search hits as records; hits that are not objects are skipped."""
    try:
        response = client.get(base_url, params={"q": query, "format": "json", "h": str(hits)})
    except UpstreamError as exc:
        raise UpstreamError(f"DBLP: {exc}") from exc
    if response.status_code != 200:
        raise UpstreamError(f"DBLP: HTTP {response.status_code} for a title search")
    try:
        result = response.json()
    except ValueError as exc:
        raise UpstreamError("DBLP: the answer is not JSON") from exc
    if not isinstance(mapping(result).get("result"), dict):
        raise UpstreamError("DBLP: the answer has no 'result' object")
    hit_list = objects(mapping(result["result"].get("hits")).get("hit"))
    return [info_to_record(hit["info"]) for hit in hit_list if isinstance(hit.get("info"), dict)]
