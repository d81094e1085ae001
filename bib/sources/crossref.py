"""Crossref through habanero: DOIs in batches (`filter=doi:...`), titles by bibliographic query.

habanero builds the requests; `routed_habanero` sends them through our HTTP
layer so Crossref's `x-rate-limit-*` headers set our pace.
"""

from __future__ import annotations

import httpx2
from habanero import Crossref, RequestError

from bib.http import Endpoints, HttpClient, UpstreamError, routed_habanero
from bib.ids import normalize_doi
from bib.record import Person, Record

BATCH = 50  # DOIs per filter request
TYPES = {
    "proceedings-article": "paper-conference",
    "journal-article": "article-journal",
    "posted-content": "preprint",
}


def _first(values: list[str] | None) -> str | None:
    return " ".join(values[0].split()) if values else None


def work_to_record(work: dict) -> Record:
    """A Crossref `work` message as a record; unknown work types become `misc`."""
    authors = tuple(
        Person(family=a.get("family"), given=a.get("given"))
        if a.get("family")
        else Person(literal=a.get("name") or a.get("given"))
        for a in work.get("author", [])
    )
    parts = (work.get("issued") or work.get("published") or {}).get("date-parts") or [[]]
    issued = tuple(int(p) for p in parts[0] if p is not None)
    doi = normalize_doi(work.get("DOI", ""))
    return Record(
        id="",
        key="",
        type=TYPES.get(work.get("type", ""), "misc"),
        title=_first(work.get("title")) or "",
        authors=authors,
        issued=issued,
        container_title=_first(work.get("container-title")),
        volume=work.get("volume"),
        number=work.get("issue"),
        pages=work.get("page"),
        publisher=work.get("publisher"),
        doi=doi,
        url=f"https://doi.org/{doi}" if doi else None,
        source="crossref",
    )


def _crossref(endpoints: Endpoints, client: HttpClient) -> Crossref:
    return Crossref(
        base_url=endpoints.crossref, mailto=endpoints.mailto, ua_string=client.user_agent
    )


def _call(client: HttpClient, what: str, call):
    try:
        with routed_habanero(client):
            return call()
    except RequestError as exc:
        raise UpstreamError(f"Crossref: {what}: HTTP {exc.args[0]}: {exc.args[1]}") from exc
    except httpx2.HTTPStatusError as exc:
        raise UpstreamError(f"Crossref: {what}: HTTP {exc.response.status_code}") from exc
    except ValueError as exc:  # a body that is not the JSON it should be
        raise UpstreamError(f"Crossref: {what}: malformed response ({exc})") from exc


def fetch_dois(client: HttpClient, endpoints: Endpoints, dois: list[str]) -> dict[str, Record]:
    """doi -> record for the DOIs Crossref knows; several DOIs per request."""
    cr = _crossref(endpoints, client)
    wanted = list(dict.fromkeys(dois))
    found: dict[str, Record] = {}
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        result = _call(
            client,
            f"works for {len(batch)} DOIs",
            lambda batch=batch: cr.works(filter={"doi": batch}, limit=len(batch)),
        )
        for work in _items(result):
            record = work_to_record(work)
            if record.doi:
                found[record.doi] = record
    return found


def search_title(
    client: HttpClient, endpoints: Endpoints, title: str, rows: int = 5
) -> list[Record]:
    """Best bibliographic matches for a title; the caller decides which, if any, fits."""
    cr = _crossref(endpoints, client)
    result = _call(client, "title query", lambda: cr.works(query_bibliographic=title, limit=rows))
    return [work_to_record(work) for work in _items(result)]


def _items(result: object) -> list[dict]:
    try:
        items = result["message"]["items"]  # type: ignore[index]
    except (TypeError, KeyError) as exc:
        raise UpstreamError("Crossref: response has no message.items") from exc
    return [item for item in items if isinstance(item, dict)]
