"""A loopback DBLP: publication search (`GET /search/publ/api`) and record pages
(`GET /rec/<key>.xml`), both answering from the same fixture hits.

The JSON envelope (`result` → `query`, `status`, `time`, `completions`, `hits`, every
number a string, no `hit` key when nothing is sent) follows real answers quoted in
public code; see tests/fixtures/README.md. Matching imitates DBLP's CompleteSearch:
case-insensitive, every query word a prefix of some word of the title, authors or
venue, and a word ending in `$` must match exactly.

A record page renders the same facts in DBLP's XML (dblp.dtd), laid out as live
record pages quoted in public code are (tests/fixtures/README.md names them): an
US-ASCII declaration, `<dblp>`, the record element with its `key` (and
`publtype="informal"` for CoRR), one field per line in DBLP's order, non-ASCII as
numeric character references, `</inproceedings></dblp>` on the last line. Author
elements carry no `pid`: record pages have none (person pages do). What `info`
does not hold (`mdate`, `crossref`, the `db/...` `url`, `ee type="oa"`) is left out.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
import zlib
from html import unescape
from pathlib import Path
from typing import Any, ClassVar
from xml.sax.saxutils import escape, quoteattr

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
        if request.path.startswith("/rec/") and request.path.endswith(".xml"):
            info = self.records.get(request.path.removeprefix("/rec/").removesuffix(".xml"))
            if info is None:
                return Response(404, NOT_FOUND_PAGE, {"content-type": "text/html; charset=utf-8"})
            body = record_page(info).encode("ascii", "xmlcharrefreplace")
            return Response(200, body, {"content-type": "application/xml; charset=utf-8"})
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


# The wording of this page is ours: DBLP's own 404 page for an unknown key is not quoted
# in any public source we found, only that the status is 404.
NOT_FOUND_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>dblp: Error 404</title></head>\n"
    b"<body><h1>Error 404: Not Found</h1></body></html>\n"
)
# Search hit types and the record element (and publtype) each is written as.
RECORD_ELEMENTS = {
    "Conference and Workshop Papers": ("inproceedings", None),
    "Journal Articles": ("article", None),
    "Informal and Other Publications": ("article", "informal"),
    "Informal Publications": ("article", "informal"),
}


def record_page(info: Info) -> str:
    """The `/rec/<key>.xml` page of a hit: DBLP's JSON text is HTML-escaped, XML is not."""
    tag, publtype = RECORD_ELEMENTS[info["type"]]
    authors = (info.get("authors") or {}).get("author") or []
    if isinstance(authors, dict):
        authors = [authors]
    ees = info.get("ee") or []
    venue = info.get("venue")
    venue = venue[0] if isinstance(venue, list) else venue
    fields = [("author", a["text"]) for a in authors] + [("title", info["title"])]
    fields += [(f, info[f]) for f in ("pages", "year") if info.get(f)]
    if tag == "inproceedings":
        fields += [("booktitle", venue)]
    else:
        fields += [
            ("volume", info.get("volume")),
            ("journal", venue),
            ("number", info.get("number")),
        ]
    fields += [("ee", ee) for ee in (ees if isinstance(ees, list) else [ees])]
    attributes = f"key={quoteattr(info['key'])}" + (f' publtype="{publtype}"' if publtype else "")
    lines = [f"<{name}>{escape(unescape(str(value)))}</{name}>" for name, value in fields if value]
    return (
        '<?xml version="1.0" encoding="US-ASCII"?>\n<dblp>\n'
        + f"<{tag} {attributes}>\n"
        + "".join(line + "\n" for line in lines)
        + f"</{tag}></dblp>"
    )


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
