"""DBLP's publication search API (JSON): peer-reviewed versions that have no DOI."""

from __future__ import annotations

from bib.http import HttpClient, UpstreamError
from bib.ids import normalize_doi
from bib.record import Record
from bib.sources.names import split_name
from bib.sources.upstream import Upstream

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


def info_to_record(info: dict) -> Record:
    authors = info.get("authors", {}).get("author", [])
    if isinstance(authors, dict):  # DBLP gives a lone author as an object, not a list
        authors = [authors]
    venue = info.get("venue")
    if isinstance(venue, list):
        venue = venue[0]
    kind = TYPES.get(info.get("type", ""), "misc")
    doi = normalize_doi(info.get("doi", "")) if info.get("doi") else None
    ee = info.get("ee")
    if isinstance(ee, list):
        ee = ee[0]
    year = info.get("year")
    return Record(
        id="",
        key="",
        type=kind,
        title=" ".join(str(info.get("title", "")).split()).removesuffix("."),
        authors=tuple(split_name(a["text"] if isinstance(a, dict) else str(a)) for a in authors),
        issued=(int(year),) if year and str(year).isdigit() else (),
        container_title=VENUES.get(venue, venue) if kind != "preprint" else None,
        volume=info.get("volume"),
        number=info.get("number"),
        pages=info.get("pages"),
        doi=doi,
        dblp_key=info.get("key"),
        url=f"https://doi.org/{doi}" if doi else ee,
        source="dblp",
    )


def search(client: HttpClient, base_url: str, query: str, hits: int = 10) -> list[Record]:
    response = client.get(base_url, params={"q": query, "format": "json", "h": str(hits)})
    if response.status_code != 200:
        raise UpstreamError(f"DBLP: HTTP {response.status_code} for query {query!r}")
    try:
        document = response.json()
    except ValueError as exc:
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        raise UpstreamError(
            f"DBLP: malformed response, not JSON ({kind}), for query {query!r}"
        ) from exc
    try:
        hit_list = document["result"]["hits"].get("hit", [])  # no `hit` key when nothing matched
        if not isinstance(hit_list, list) or not all(
            isinstance(hit, dict) and isinstance(hit.get("info"), dict) for hit in hit_list
        ):
            raise TypeError("hits.hit is not a list of hits")
    except (KeyError, TypeError, AttributeError) as exc:
        raise UpstreamError(f"DBLP: malformed response for query {query!r}") from exc
    return [info_to_record(hit["info"]) for hit in hit_list]
