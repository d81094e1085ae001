"""A loopback DBLP publication search (`GET /search/publ/api`), answering from fixture hits.

The JSON envelope (`result` → `query`, `status`, `time`, `completions`, `hits`, every
number a string, no `hit` key when nothing is sent) follows real answers quoted in
public code; see tests/fixtures/README.md. Matching imitates DBLP's CompleteSearch:
case-insensitive, every query word a prefix of some word of the title, authors or
venue, and a word ending in `$` must match exactly.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
import zlib
from pathlib import Path
from typing import Any, ClassVar

from tests.upstreams.base import LoopbackServer, RecordedRequest, Response

Info = dict[str, Any]

DEFAULT_HITS = 30
MAX_HITS = 1000  # DBLP caps h (and c) at 1000 "for bandwidth reasons"
MIN_COMPUTED = 100  # real answers report at least 100 computed hits when more exist


class DblpServer(LoopbackServer):
    """dblp.org's publication search over `fixtures_dir/<key with / as _>.json` (hit `info`s)."""

    throttle_content_type: ClassVar[str] = "text/html; charset=iso-8859-1"
    # The head of DBLP's Apache-style 429 page; the sentence in <p> is ours.
    throttle_body: ClassVar[bytes] = (
        b'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html>\n<head>\n'
        b"<title>429 Too Many Requests</title>\n</head>\n<body>\n<h1>Too Many Requests</h1>\n"
        b"<p>Too many requests; wait for the time given in Retry-After.</p>\n</body>\n</html>\n"
    )
    # The search envelope with `hits.hit` a string, not the list of hit objects.
    wrong_shape_body: ClassVar[bytes] = (
        b'{"result":{"query":"x*","status":{"@code":"200","text":"OK"},'
        b'"hits":{"@total":"1","@computed":"1","@sent":"1","@first":"0","hit":"conf/osdi/YuJKKC22"}}}'
    )

    def __init__(self, fixtures_dir: Path) -> None:
        self.records: dict[str, Info] = {}
        for path in sorted(Path(fixtures_dir).glob("*.json")):
            info = json.loads(path.read_text(encoding="utf-8"))
            key = info.get("key", "")
            if path.stem != key.replace("/", "_"):
                raise ValueError(f"{path}: file name does not match the record key {key!r}")
            self.records[key] = info
        super().__init__()

    def handle(self, request: RecordedRequest) -> Response:
        started = time.perf_counter()
        if request.path != "/search/publ/api":
            return _text(404, "Not Found")
        if request.param("format", "xml") != "json":
            return _text(400, "only format=json is served by this loopback server")
        try:
            hits = min(_count(request.param("h"), DEFAULT_HITS), MAX_HITS)
            first = _count(request.param("f"), 0)
            _count(request.param("c"), 10)  # completions: accepted, none are returned
        except ValueError as error:
            return _text(400, str(error))

        query = (request.param("q") or "").split()
        ranked = sorted(
            ((score, info) for info in self.records.values() if (score := _score(info, query))),
            key=lambda si: (-si[0], -int(si[1].get("year") or 0), si[1].get("key", "")),
        )
        sent = ranked[first : first + hits]
        found: dict[str, Any] = {
            "@total": str(len(ranked)),
            "@computed": str(min(len(ranked), max(MIN_COMPUTED, first + hits))),
            "@sent": str(len(sent)),
            "@first": str(first),
        }
        if sent:
            found["hit"] = [_hit(score, info) for score, info in sent]
        result = {
            "result": {
                "query": " ".join(w if w.endswith("$") else w + "*" for w in query),
                "status": {"@code": "200", "text": "OK"},
                "time": {"@unit": "msecs", "text": f"{(time.perf_counter() - started) * 1000:.2f}"},
                "completions": {"@total": "0", "@computed": "0", "@sent": "0"},
                "hits": found,
            }
        }
        body = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return Response(200, body, {"content-type": "application/json; charset=utf-8"})


def words(text: str) -> list[str]:
    """Lower-case ASCII words: DBLP's search ignores case and diacritics."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z0-9]+", ascii_text.lower())


def _searchable(info: Info) -> list[str]:
    authors = (info.get("authors") or {}).get("author") or []
    if isinstance(authors, dict):  # DBLP sends a lone author as an object, not a list
        authors = [authors]
    venue = info.get("venue") or ""
    venues = venue if isinstance(venue, list) else [venue]
    texts = [info.get("title") or "", *(a.get("text", "") for a in authors), *venues]
    return words(" ".join(texts))


def _score(info: Info, query: list[str]) -> int:
    """0 unless every query word matches; else 1 + the number matching a whole word."""
    haystack = _searchable(info)
    score = 1
    for term in query:
        exact = term.endswith("$")
        for part in words(term):
            if part in haystack:
                score += 1
            elif exact or not any(word.startswith(part) for word in haystack):
                return 0
    return score if query else 0


def _hit(score: int, info: Info) -> dict[str, Any]:
    hit_id = str(zlib.crc32(info.get("key", "").encode()))  # stable stand-in for DBLP's id
    return {"@score": str(score), "@id": hit_id, "info": info, "url": f"URL#{hit_id}"}


def _count(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit():
        raise ValueError(f"not a non-negative integer: {value!r}")
    return int(value)


def _text(status: int, message: str) -> Response:
    return Response(status, message.encode(), {"content-type": "text/plain; charset=utf-8"})
