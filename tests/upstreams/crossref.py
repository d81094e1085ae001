"""A loopback Crossref REST API: the `/works` routes habanero calls, over fixture records.

Envelopes, headers and error bodies follow the habanero cassettes in
../shared/corpora/crossref-habanero: JSON with `\\/`-escaped slashes and ASCII escapes,
gzip when asked, `Resource not found.` as text/plain for an unknown DOI, and the
`validation-failure` JSON for bad parameters. Every answer carries the pool's
`x-rate-limit-*` headers: the public pool without contact details, the polite pool
when a `mailto` is given in the User-Agent or as a parameter.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import secrets
import threading
import unicodedata
from pathlib import Path
from typing import Any, ClassVar

from tests.upstreams.base import LoopbackServer, RecordedRequest, Response

Work = dict[str, Any]

MAX_ROWS = 1000
MAX_OFFSET = 10000
MAX_SAMPLE = 100
DEFAULT_ROWS = 20
# What the cassettes show for each pool (x-rate-limit-limit, x-concurrency-limit).
POOLS = {"public": ("5", "1"), "polite": ("10", "3")}
COMMON_HEADERS = {
    "access-control-allow-headers": "X-Requested-With, Accept, Accept-Encoding, Accept-Charset, "
    "Accept-Language, Accept-Ranges, Cache-Control",
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "Link",
    "permissions-policy": "interest-cohort=()",
    "x-rate-limit-interval": "1s",
}
# Parameters of GET /works. `sort`/`order` sort, `facet` is accepted and answered with {}.
LIST_PARAMS = frozenset(
    {"query", "filter", "rows", "offset", "cursor", "sample", "sort", "order", "select", "facet"}
)
# Field queries this fake can answer, and the record fields each one searches.
FIELD_QUERIES = {
    "bibliographic": ("title", "author"),
    "author": ("author",),
    "title": ("title",),
    "container-title": ("container-title",),
    "editor": ("editor",),
    "publisher-name": ("publisher",),
}
FILTERS = ("doi", "prefix", "member", "type", "from-pub-date", "until-pub-date")


class CrossrefServer(LoopbackServer):
    """api.crossref.org over `fixtures_dir/<DOI with / as _>.json`, each a work's `message`."""

    server_header: ClassVar[str | None] = "Jetty(9.4.40.v20210413)"
    throttle_content_type: ClassVar[str] = "text/html"
    throttle_body: ClassVar[bytes] = (
        b"<html><body><h1>429 Too Many Requests</h1>\n"
        b"You have sent too many requests in a given amount of time.\n</body></html>\n"
    )
    # A work-list envelope whose `items` is an object, not the list of works.
    wrong_shape_body: ClassVar[bytes] = (
        b'{"status":"ok","message-type":"work-list","message-version":"1.0.0",'
        b'"message":{"total-results":1,"items":{"DOI":"10.1145\\/3600006.3613165"}}}'
    )

    def __init__(self, fixtures_dir: Path) -> None:
        self.works: dict[str, Work] = {}
        for path in sorted(Path(fixtures_dir).glob("*.json")):
            work = json.loads(path.read_text(encoding="utf-8"))
            doi = work.get("DOI", "")
            if path.stem.lower() != doi.replace("/", "_").lower():
                raise ValueError(f"{path}: file name does not match the record's DOI {doi!r}")
            self.works[doi.lower()] = work  # DOIs are case-insensitive
        self._cursors: dict[str, int] = {}
        self._cursor_lock = threading.Lock()
        super().__init__()

    def common_headers(self, request: RecordedRequest) -> dict[str, str]:
        polite = "mailto:" in request.headers.get("user-agent", "") or "mailto" in request.query
        pool = "polite" if polite else "public"
        limit, concurrency = POOLS[pool]
        return {
            **COMMON_HEADERS,
            "x-api-pool": pool,
            "x-concurrency-limit": concurrency,
            "x-rate-limit-limit": limit,
        }

    def handle(self, request: RecordedRequest) -> Response:
        path = request.path.removeprefix("/v1")
        if path.rstrip("/") == "/works":
            return self._work_list(request)
        if path.startswith("/works/"):
            return self._work(request, path.removeprefix("/works/"))
        return _not_found()

    # -- /works/{doi} ------------------------------------------------------------------------

    def _work(self, request: RecordedRequest, doi: str) -> Response:
        if any(name.startswith("query.") for name in request.query):
            return _failure(
                "parameter-not-allowed",
                "query.*",
                "This route does not support field query parameters",
            )
        work = self.works.get(doi.lower())
        if work is None:
            return _not_found()
        envelope = {
            "status": "ok",
            "message-type": "work",
            "message-version": "1.0.0",
            "message": work,
        }
        return _ok(request, envelope)

    # -- /works ------------------------------------------------------------------------------

    def _work_list(self, request: RecordedRequest) -> Response:
        params = {name: values[-1] for name, values in request.query.items() if name != "mailto"}
        failure = _check_list_params(params)
        if failure is not None:
            return failure
        rows, offset = int(params.get("rows", DEFAULT_ROWS)), int(params.get("offset", 0))

        items = self._filtered(params.get("filter", ""))
        if isinstance(items, Response):
            return items
        queries = {name: value for name, value in params.items() if name.startswith("query")}
        scored = _rank(items, queries) if queries else [(1.0, work) for work in items]
        scored = _sort(scored, params.get("sort"), params.get("order"), bool(queries))

        message: dict[str, Any] = {"facets": {}}
        if "sample" in params:  # the first N, not random, so tests are reproducible
            scored, rows, offset = scored[: int(params["sample"])], DEFAULT_ROWS, 0
        total = len(scored)
        if "cursor" in params:
            start = self._cursor_start(params["cursor"])
            if start is None:
                return _cursor_invalid(params["cursor"])
            offset_shown, offset = 0, start
            message["next-cursor"] = self._issue_cursor(start + rows)
        else:
            offset_shown = offset
        page = scored[offset : offset + rows]
        select = [field for field in params.get("select", "").split(",") if field]
        message["total-results"] = total
        message["items"] = [_item(work, score, select) for score, work in page]
        message["items-per-page"] = rows
        message["query"] = {"start-index": offset_shown, "search-terms": params.get("query")}
        envelope = {
            "status": "ok",
            "message-type": "work-list",
            "message-version": "1.0.0",
            "message": message,
        }
        return _ok(request, envelope)

    def _filtered(self, filter_param: str) -> list[Work] | Response:
        """Apply `filter=name:value,...`: repeated names are ORed, different names ANDed."""
        wanted: dict[str, list[str]] = {}
        for part in filter(None, filter_param.split(",")):
            name, _, value = part.partition(":")
            if name not in FILTERS:
                return _failure(
                    "filter-not-available",
                    name,
                    f"Filter '{name}' specified but there is no such filter for this route. "
                    f"Valid filters for this route are: {', '.join(FILTERS)}",
                )
            wanted.setdefault(name, []).append(value)
        return [
            work
            for work in self.works.values()
            if all(any(_filter_matches(work, n, v) for v in vs) for n, vs in wanted.items())
        ]

    def _issue_cursor(self, offset: int) -> str:
        # Shaped like Crossref's (base64 with +, / and =), so clients must URL-encode it.
        token = base64.b64encode(b"\x0eqqueryThenFetch" + secrets.token_bytes(33)).decode()
        with self._cursor_lock:
            self._cursors[token] = offset
        return token

    def _cursor_start(self, cursor: str) -> int | None:
        if cursor == "*":
            return 0
        with self._cursor_lock:
            return self._cursors.get(cursor)


def words(text: str) -> list[str]:
    """Lower-case ASCII words, for accent- and case-blind overlap."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z0-9]+", ascii_text.lower())


def _field_text(work: Work, field: str) -> str:
    value = work.get(field)
    if field in ("author", "editor"):
        people = value or []
        return " ".join(
            " ".join(str(p.get(k, "")) for k in ("given", "family", "name")) for p in people
        )
    if isinstance(value, list):
        return " ".join(map(str, value))
    return str(value or "")


def _rank(works: list[Work], queries: dict[str, str]) -> list[tuple[float, Work]]:
    """Score = query words found in the searched fields; every query must hit at least once."""
    ranked = []
    for work in works:
        total = 0.0
        for name, value in queries.items():
            fields = FIELD_QUERIES.get(name.removeprefix("query."), ("title", "author"))
            haystack = set(words(" ".join(_field_text(work, f) for f in fields)))
            hits = len(set(words(value)) & haystack)
            if not hits:
                break
            total += hits
        else:
            ranked.append((total, work))
    return ranked


def _sort(
    scored: list[tuple[float, Work]], sort: str | None, order: str | None, has_query: bool
) -> list[tuple[float, Work]]:
    """Relevance when there is a query, else most recently deposited first (Crossref's
    default); `sort` names a date or count field of the record."""
    descending = order != "asc"
    if sort in (None, "score", "relevance"):
        if has_query:
            return sorted(scored, key=lambda sw: (-sw[0] if descending else sw[0], sw[1]["DOI"]))
        sort = "deposited"

    def key(scored_work: tuple[float, Work]) -> tuple[int, ...]:
        value = scored_work[1].get(sort or "")
        if isinstance(value, int | float):
            return (int(value),)
        if isinstance(value, dict):
            parts = (value.get("date-parts") or [[]])[0]
            return (value.get("timestamp") or 0, *(p or 0 for p in parts))
        return (0,)

    return sorted(scored, key=key, reverse=descending)


def _filter_matches(work: Work, name: str, value: str) -> bool:
    if name == "doi":
        return work.get("DOI", "").lower() == value.lower()
    if name == "prefix":
        return work.get("prefix", "") == value or work.get("DOI", "").startswith(value + "/")
    if name == "member":
        return str(work.get("member", "")) == value
    if name == "type":
        return work.get("type") == value
    issued = tuple(p or 0 for p in ((work.get("issued") or {}).get("date-parts") or [[]])[0])
    bound = tuple(int(p) for p in value.split("-") if p.isdigit())
    if name == "from-pub-date":
        return bool(issued) and issued >= bound
    return bool(issued) and issued[: len(bound)] <= bound  # until-pub-date


def _item(work: Work, score: float, select: list[str]) -> Work:
    item = {**work, "score": score}
    return {k: item[k] for k in select if k in item} if select else item


def _check_list_params(params: dict[str, str]) -> Response | None:
    """The validation-failure Crossref gives for these parameters, or None if they are fine."""
    for name in params:
        field = name.removeprefix("query.")
        if name.startswith("query.") and field not in FIELD_QUERIES:
            return _failure(
                "field-query-not-available",
                field,
                f"Field query '{field}' specified but there is no such field query for this "
                f"route. Valid field queries for this route are: {', '.join(FIELD_QUERIES)}",
            )
        if not name.startswith("query.") and name not in LIST_PARAMS:
            return _failure(
                "unknown-parameter",
                name,
                f"Parameter {name} specified but there is no such parameter available on any route",
            )
    for name, maximum in (("rows", MAX_ROWS), ("sample", MAX_SAMPLE), ("offset", None)):
        value = params.get(name, "0")
        if not value.isdigit() or (maximum is not None and int(value) > maximum):
            # The cassettes' message for rows=things, reused (unverified) for offset and sample.
            return _failure(
                "integer-not-valid",
                value,
                f"Integer specified as {value} but must be a positive integer less than or "
                f"equal to {maximum or MAX_OFFSET}. ",
            )
    offset = int(params.get("offset", "0"))
    if offset > MAX_OFFSET:  # wording from a live answer quoted in public test code
        return _failure("integer-not-valid", offset, f"Offset specified as {offset} is too large")
    if "cursor" in params and "offset" in params:
        # Crossref documents that a cursor excludes offset; this wording is ours.
        return _failure(
            "parameter-not-allowed", "offset", "Deep paging with cursor does not support offset"
        )
    return None


def _dumps(document: object) -> bytes:
    """Crossref's serialisation: compact, ASCII-only, with every `/` escaped as `\\/`."""
    return json.dumps(document, separators=(",", ":")).replace("/", "\\/").encode()


def _ok(request: RecordedRequest, document: object) -> Response:
    body = _dumps(document)
    headers = {"content-type": "application/json", "vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body)
        headers["content-encoding"] = "gzip"
    return Response(200, body, headers)


def _failure(kind: str, value: object, message: str) -> Response:
    document = {
        "status": "failed",
        "message-type": "validation-failure",
        "message": [{"type": kind, "value": value, "message": message}],
    }
    headers = {"content-type": "application/json;charset=utf-8", "vary": "Accept"}
    return Response(400, _dumps(document), headers)


def _cursor_invalid(cursor: str) -> Response:
    document = {
        "status": "failed",
        "message-type": "resource-failure",
        "message": [
            {
                "type": "cursor-invalid",
                "value": cursor,
                "message": "Cursor specified but it is invalid",
            }
        ],
    }
    return Response(404, _dumps(document), {"content-type": "application/json"})


def _not_found() -> Response:
    return Response(404, b"Resource not found.", {"content-type": "text/plain"})
