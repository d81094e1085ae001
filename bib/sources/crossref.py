"""Crossref through habanero: DOIs in batches (`filter=doi:...`), titles by bibliographic query.

habanero builds the requests; `routed_habanero` sends them through our HTTP
layer so Crossref's `x-rate-limit-*` headers set our pace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import habanero.request
import habanero.request_class
import httpx2
from habanero import Crossref, RequestError

from bib.fields import date_parts
from bib.http import HttpClient, UpstreamError, summary
from bib.ids import normalize_doi
from bib.record import Person, Record
from bib.sources.upstream import Upstream
from bib.sources.values import first_text, mapping, objects, text

# No fixed spacing: the pace is learned from Crossref's `x-rate-limit-*` headers as they arrive.
UPSTREAM = Upstream("crossref", "BIB_CROSSREF_URL", "https://api.crossref.org")

BATCH = 50  # DOIs per filter request
TYPES = {
    "proceedings-article": "paper-conference",
    "journal-article": "article-journal",
    "posted-content": "preprint",
}


def _first(values: object) -> str | None:
    found = first_text(values)
    return " ".join(found.split()) if found else None


def _person(author: dict) -> Person:
    family, given = text(author.get("family")), text(author.get("given"))
    return (
        Person(family=family, given=given)
        if family
        else Person(literal=text(author.get("name")) or given)
    )


def work_to_record(work: dict) -> Record:
    """A Crossref `work` message as a record; unknown work types become `misc`.

    Values of the wrong type are read as absent; `bib.fields.clean_record`
    then checks what each one holds.
    """
    dates = mapping(work.get("issued")) or mapping(work.get("published"))
    parts = dates.get("date-parts")
    first = parts[0] if isinstance(parts, list) and parts and isinstance(parts[0], list) else []
    doi = normalize_doi(text(work.get("DOI")) or "")
    return Record(
        id="",
        key="",
        type=TYPES.get(text(work.get("type")) or "", "misc"),
        title=_first(work.get("title")) or "",
        authors=tuple(_person(a) for a in objects(work.get("author"))),
        issued=date_parts(first),
        container_title=_first(work.get("container-title")),
        volume=text(work.get("volume")),
        number=text(work.get("issue")),
        pages=text(work.get("page")),
        publisher=text(work.get("publisher")),
        doi=doi,
        url=f"https://doi.org/{doi}" if doi else None,
        source="crossref",
    )


class _RoutedHttpx:
    """Stands in for the `httpx2` module inside habanero, sending its GETs through us."""

    def __init__(self, client: HttpClient) -> None:
        self._client = client

    def get(self, url: str, params=None, headers=None, timeout=None, **_: object):
        return self._client.get(url, params=params, headers=headers)

    def __getattr__(self, name: str):
        return getattr(httpx2, name)


@contextmanager
def routed_habanero(client: HttpClient) -> Iterator[None]:
    """Route habanero's requests through `client` for the duration of the block.

    habanero calls `httpx2.get` at module level and takes no client, so this is
    the only way its requests get our spacing, retries and rate-limit reading.
    """
    modules = (habanero.request, habanero.request_class)
    saved = [module.httpx2 for module in modules]
    for module in modules:
        module.httpx2 = _RoutedHttpx(client)  # type: ignore[assignment]
    try:
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            module.httpx2 = original


def _crossref(client: HttpClient, base_url: str) -> Crossref:
    return Crossref(base_url=base_url, mailto=client.mailto, ua_string=client.user_agent)


def _call(client: HttpClient, what: str, call):
    try:
        with routed_habanero(client):
            return call()
    except UpstreamError as exc:  # from our HTTP layer, which habanero's requests go through
        raise UpstreamError(f"Crossref: {what}: {exc}") from exc
    except RequestError as exc:  # its text may be a whole page: one line of it is enough
        status, text = exc.args[0], summary(str(exc.args[1]))
        raise UpstreamError(f"Crossref: {what}: HTTP {status}: {text}") from exc
    except httpx2.HTTPStatusError as exc:
        raise UpstreamError(f"Crossref: {what}: HTTP {exc.response.status_code}") from exc
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        # habanero reads the body as it expects it; another shape raises from inside it
        name = type(exc).__name__
        raise UpstreamError(f"Crossref: {what}: malformed response ({name})") from exc


def fetch_dois(client: HttpClient, base_url: str, dois: list[str]) -> dict[str, Record]:
    """doi -> record for the DOIs Crossref knows; several DOIs per request."""
    cr = _crossref(client, base_url)
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


def search_title(client: HttpClient, base_url: str, title: str, rows: int = 5) -> list[Record]:
    """Best bibliographic matches for a title; the caller decides which, if any, fits."""
    cr = _crossref(client, base_url)
    result = _call(client, "title query", lambda: cr.works(query_bibliographic=title, limit=rows))
    return [work_to_record(work) for work in _items(result)]


def _items(result: object) -> list[dict]:
    """The works of a work-list; any other shape is a failure, never "no works"."""
    items = mapping(mapping(result).get("message")).get("items")
    if not isinstance(items, list):
        raise UpstreamError("Crossref: response has no message.items list")
    if len(objects(items)) != len(items):
        raise UpstreamError("Crossref: message.items is not a list of works")
    return items
