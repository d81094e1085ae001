"""The loopback upstreams answer as arXiv, Crossref and DBLP really do.

Fixture directories are built in tmp_path from real recorded responses in
../shared/corpora (never copied into the repository), and the servers' answers are
compared with the recordings: same envelopes, headers, content types and error bodies.
"""

from __future__ import annotations

import gzip
import json
import re
import time
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
import yaml
from habanero import Crossref
from habanero.exceptions import RequestError

from tests.conftest import CORPORA, shared_path
from tests.upstreams import ArxivServer, CrossrefServer, DblpServer
from tests.upstreams.arxiv import NS

ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
MAILTO = "test@example.org"


# -- corpora ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def arxiv_recordings() -> list[tuple[str, int, bytes]]:
    """(url, status, UTF-8 body) of every recorded export.arxiv.org answer."""
    folder = shared_path(CORPORA / "arxiv-arxivpy" / "fixtures")
    recordings = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        recordings.append((data["url"], data["status_code"], data["body"].encode("latin-1")))
    return recordings


@pytest.fixture(scope="module")
def cassettes() -> list[tuple[str, int, dict[str, str], bytes]]:
    """(uri, status, headers, decoded body) of every recorded Crossref interaction."""
    folder = shared_path(CORPORA / "crossref-habanero" / "cassettes")
    interactions = []
    for path in sorted(folder.rglob("*.yaml")):
        for interaction in yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]:
            response = interaction["response"]
            headers = {k.lower(): v[0] for k, v in response["headers"].items()}
            body = response["body"]["string"]
            if isinstance(body, str):
                body = body.encode("utf-8")
            if headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            uri = interaction["request"]["uri"]
            interactions.append((uri, response["status"]["code"], headers, body))
    return interactions


def _recorded_works(cassettes: list[Any]) -> dict[str, bytes]:
    """DOI -> recorded body of each 200 `GET api.crossref.org/works/{doi}`."""
    works = {}
    for uri, status, _, body in cassettes:
        url = urlsplit(uri)
        if url.netloc == "api.crossref.org" and url.path.startswith("/works/") and not url.query:
            document = json.loads(body) if status == 200 else {}
            if document.get("message-type") == "work":
                works[document["message"]["DOI"]] = body
    return works


def _recorded(cassettes: list[Any], uri: str) -> tuple[int, dict[str, str], bytes]:
    return next((s, h, b) for u, s, h, b in cassettes if u == uri)


# -- arXiv ------------------------------------------------------------------------------------


def _single_entry_recordings(recordings: list[Any]) -> Iterator[tuple[str, bytes]]:
    """(id_list, body) of the recorded one-id answers that hold exactly one entry."""
    for url, status, body in recordings:
        query = dict(part.split("=", 1) for part in urlsplit(url).query.split("&"))
        id_list = query["id_list"].replace("%2F", "/")
        if status == 200 and id_list and "%2C" not in id_list and body.count(b"<entry>") == 1:
            yield id_list, body


@pytest.fixture
def arxiv(tmp_path: Path, arxiv_recordings: list[Any]) -> Iterator[ArxivServer]:
    """Fixtures are the recorded `id_list=<id>` answers, named after the requested id."""
    for id_list, body in _single_entry_recordings(arxiv_recordings):
        (tmp_path / (id_list.replace("/", "_") + ".xml")).write_bytes(body)
    with ArxivServer(tmp_path) as server:
        yield server


def _search_recording(recordings: list[Any]) -> bytes:
    """The recorded `search_query=testing&max_results=100` feed: 100 real entries."""
    return next(
        b for u, _, b in recordings if "search_query=testing" in u and "max_results=100" in u
    )


@pytest.fixture
def arxiv_many(tmp_path: Path, arxiv_recordings: list[Any]) -> Iterator[ArxivServer]:
    """100 fixtures: each entry of the recorded search in the single-entry feed an
    `id_list` answer is, named after its id."""
    text = _search_recording(arxiv_recordings).decode("utf-8")
    head = text.partition("  <entry>")[0]
    parsed = ET.fromstring(text.encode()).findall("atom:entry", NS)
    for entry, raw in zip(parsed, re.findall(r"<entry>.*?</entry>", text, re.S), strict=True):
        arxiv_id = entry.findtext("atom:id", "", NS).partition("/abs/")[2].rpartition("v")[0]
        feed = f"{head}  {raw}\n</feed>\n"
        (tmp_path / (arxiv_id.replace("/", "_") + ".xml")).write_text(feed, encoding="utf-8")
    with ArxivServer(tmp_path) as server:
        yield server


def _feed(body: bytes) -> dict[str, Any]:
    """What a client reads from a feed, without the per-request id and timestamps."""
    root = ET.fromstring(body)
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        if entry.findtext(f"{ATOM}title") == "Error":  # stamped with the time of the request
            entry.remove(entry.find(f"{ATOM}updated"))
    link = root.find(f"{ATOM}link")
    return {
        "title": root.findtext(f"{ATOM}title"),
        "link": None if link is None else link.get("href"),
        "opensearch": [
            root.findtext(f"{OPENSEARCH}{n}")
            for n in ("itemsPerPage", "totalResults", "startIndex")
        ],
        "entries": [ET.tostring(entry) for entry in entries],
    }


def _ids(body: bytes) -> list[str]:
    root = ET.fromstring(body)
    return [
        e.findtext("atom:id", "", NS).partition("/abs/")[2] for e in root.findall("atom:entry", NS)
    ]


def test_arxiv_replays_every_recorded_id_query(
    arxiv: ArxivServer, arxiv_recordings: list[Any]
) -> None:
    """Unknown-but-valid ids give an empty feed, malformed ids a 400 error feed, two ids one
    request, old-style and versioned ids their entry: exactly as recorded."""
    replayed = 0
    for url, status, body in arxiv_recordings:
        if "id_list=&" in url:
            continue  # searches: the recording's 214,881 hits are not fixtures
        parts = urlsplit(url)
        answer = httpx2.get(f"{arxiv.base_url}{parts.path}?{parts.query}", timeout=5)
        assert answer.status_code == status, url
        assert answer.headers["content-type"] == "application/atom+xml; charset=utf-8"
        assert _feed(answer.content) == _feed(body), url
        replayed += 1
    assert replayed == 9
    assert not arxiv.errors


def test_arxiv_id_list_is_truncated_to_ten_without_max_results(arxiv_many: ArxivServer) -> None:
    wanted = sorted(arxiv_many.latest)[:12][::-1]  # not in fixture order: answer keeps ours
    url = f"{arxiv_many.base_url}/api/query"
    answer = httpx2.get(url, params={"id_list": ",".join(wanted)}, timeout=5)
    feed = _feed(answer.content)
    assert feed["opensearch"] == ["10", "12", "0"]
    assert [i.rpartition("v")[0] for i in _ids(answer.content)] == wanted[:10]
    assert "max_results=10" in feed["title"]

    answer = httpx2.get(url, params={"id_list": ",".join(wanted), "max_results": 12}, timeout=5)
    assert [i.rpartition("v")[0] for i in _ids(answer.content)] == wanted
    answer = httpx2.get(url, params={"id_list": ",".join(wanted), "start": 10}, timeout=5)
    assert _feed(answer.content)["opensearch"] == ["10", "12", "10"]
    assert len(_ids(answer.content)) == 2


def test_arxiv_versions(arxiv: ArxivServer) -> None:
    """A bare id gets the fixture's version; another version of it is unknown, hence empty;
    a fixture stored under a versioned name answers only that version."""

    def ids(id_list: str) -> list[str]:
        answer = httpx2.get(f"{arxiv.base_url}/api/query", params={"id_list": id_list}, timeout=5)
        assert answer.status_code == 200
        return _ids(answer.content)

    assert ids("1605.08386") == ids("1605.08386v1") == ["1605.08386v1"]
    assert ids("1605.08386v2") == []
    assert ids("quant-ph/0201082v1") == ["quant-ph/0201082v1"]
    assert ids("quant-ph/0201082") == []
    assert ids("1707.08567,1605.08386v1,9999.99999") == ["1707.08567v1", "1605.08386v1"]


def test_arxiv_search_query(arxiv: ArxivServer) -> None:
    def ids(**params: str) -> list[str]:
        answer = httpx2.get(f"{arxiv.base_url}/api/query", params=params, timeout=5)
        assert answer.status_code == 200, answer.text
        return _ids(answer.content)

    assert ids(search_query='ti:"heat-bath random walks" AND au:windisch') == ["1605.08386v1"]
    assert ids(search_query='ti:"random heat-bath walks"') == []
    assert ids(search_query="au:gould ANDNOT ti:jupiters") == []
    assert sorted(ids(search_query="(au:gould OR au:stanley) AND all:the")) == [
        "1605.08386v1",
        "astro-ph/0601001v1",
    ]
    assert ids(search_query="ti:hot", sortBy="submittedDate", sortOrder="ascending") == [
        "astro-ph/0601001v1"
    ]
    assert ids(search_query="au:immink", id_list="1605.08386,1707.08567") == ["1707.08567v1"]
    bad = httpx2.get(f"{arxiv.base_url}/api/query", params={"max_results": "ten"}, timeout=5)
    assert bad.status_code == 400
    assert _feed(bad.content)["opensearch"] == ["1", "1", "0"]


def test_arxiv_records_requests_for_politeness_checks(arxiv: ArxivServer) -> None:
    for _ in range(2):
        httpx2.get(
            f"{arxiv.base_url}/api/query?id_list=1605.08386",
            headers={"User-Agent": "bib/0.1"},
            timeout=5,
        )
        time.sleep(0.2)
    first = arxiv.requests[0]
    assert (first.method, first.path, first.query) == (
        "GET",
        "/api/query",
        {"id_list": ["1605.08386"]},
    )
    assert first.headers["user-agent"] == "bib/0.1"
    (gap,) = arxiv.gaps()
    assert 0.2 <= gap < 3  # a test of a real client asserts `min(gaps) >= 3`
    arxiv.reset()
    assert arxiv.requests == [] and arxiv.gaps() == []


# -- Crossref ---------------------------------------------------------------------------------


@pytest.fixture
def crossref(tmp_path: Path, cassettes: list[Any]) -> Iterator[CrossrefServer]:
    """Fixtures are the `message` of every recorded `/works/{doi}` answer."""
    for body in _recorded_works(cassettes).values():
        message = json.loads(body)["message"]
        path = tmp_path / (message["DOI"].replace("/", "_") + ".json")
        path.write_text(json.dumps(message, ensure_ascii=False), encoding="utf-8")
    with CrossrefServer(tmp_path) as server:
        yield server


def test_crossref_single_work_is_byte_identical_to_the_recording(
    crossref: CrossrefServer, cassettes: list[Any]
) -> None:
    recorded = _recorded_works(cassettes)
    assert len(recorded) >= 8
    for doi, body in recorded.items():
        answer = httpx2.get(f"{crossref.base_url}/works/{doi}", timeout=5)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert answer.headers["content-encoding"] == "gzip"  # httpx2 asks for it, as recorded
        assert answer.content == body, doi


def test_crossref_habanero_by_doi(crossref: CrossrefServer) -> None:
    cr = Crossref(base_url=crossref.base_url, mailto=MAILTO)
    one = cr.works(ids="10.1371/journal.pone.0033693")
    assert (one["status"], one["message-type"]) == ("ok", "work")
    assert one["message"] == crossref.works["10.1371/journal.pone.0033693"]
    two = cr.works(ids=["10.1038/srep16696", "10.1038/SREP16696"])  # DOIs ignore case
    assert [w["message"]["DOI"] for w in two] == ["10.1038/srep16696"] * 2
    assert [r.path for r in crossref.requests][1:] == [
        "/works/10.1038/srep16696",
        "/works/10.1038/SREP16696",
    ]
    assert f"(mailto:{MAILTO})" in crossref.requests[0].headers["user-agent"]


def test_crossref_unknown_doi(crossref: CrossrefServer, cassettes: list[Any]) -> None:
    uri = "https://api.crossref.org/works/10.1371/notarealdoi"
    status, headers, body = _recorded(cassettes, uri)
    answer = httpx2.get(f"{crossref.base_url}/works/10.1371/notarealdoi", timeout=5)
    assert (answer.status_code, answer.content) == (status, body) == (404, b"Resource not found.")
    assert answer.headers["content-type"] == headers["content-type"] == "text/plain"

    cr = Crossref(base_url=crossref.base_url, mailto=MAILTO)
    with pytest.raises(httpx2.HTTPStatusError):
        cr.works(ids="10.1371/notarealdoi")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cr.works(ids="10.1371/notarealdoi", warn=True) is None
    assert "404" in str(caught[0].message)


def test_crossref_multi_doi_filter(crossref: CrossrefServer) -> None:
    dois = ["10.1371/journal.pone.0033693", "10.1038/srep16696"]
    cr = Crossref(base_url=crossref.base_url, mailto=MAILTO)
    answer = cr.works(filter={"doi": dois})
    assert crossref.requests[-1].query["filter"] == [f"doi:{dois[0]},doi:{dois[1]}"]
    message = answer["message"]
    assert list(message) == ["facets", "total-results", "items", "items-per-page", "query"]
    assert message["total-results"] == 2 and message["items-per-page"] == 20
    assert message["query"] == {"start-index": 0, "search-terms": None}
    assert sorted(item["DOI"] for item in message["items"]) == sorted(dois)
    assert {item["score"] for item in message["items"]} == {1.0}


def test_crossref_rows_offset_and_cursor_paging(crossref: CrossrefServer) -> None:
    cr = Crossref(base_url=crossref.base_url, mailto=MAILTO)
    everything = [w["DOI"] for w in cr.works(limit=100)["message"]["items"]]
    assert sorted(everything) == sorted(w["DOI"] for w in crossref.works.values())
    page = cr.works(limit=3, offset=3)["message"]
    assert [w["DOI"] for w in page["items"]] == everything[3:6]
    assert (page["items-per-page"], page["query"]["start-index"]) == (3, 3)

    pages = cr.works(cursor="*", limit=4, cursor_max=100)
    assert all("next-cursor" in p["message"] for p in pages)
    assert [w["DOI"] for p in pages for w in p["message"]["items"]] == everything
    issued = [p["message"]["next-cursor"] for p in pages[:-1]]
    assert [r.query["cursor"][0] for r in crossref.requests[-len(pages) :]] == ["*", *issued]


def test_crossref_invalid_cursor(crossref: CrossrefServer, cassettes: list[Any]) -> None:
    status, _, body = _recorded(
        cassettes, "https://api.crossref.org/works?query=widget&cursor=thing"
    )
    answer = httpx2.get(
        f"{crossref.base_url}/works", params={"query": "widget", "cursor": "thing"}, timeout=5
    )
    assert (answer.status_code, answer.content) == (status, body)


def test_crossref_query_ranking(crossref: CrossrefServer) -> None:
    target = crossref.works["10.1016/j.neurobiolaging.2010.03.024"]
    wanted = f"{target['title'][0]} {target['author'][0]['family']}"
    cr = Crossref(base_url=crossref.base_url, mailto=MAILTO)
    message = cr.works(query_bibliographic=wanted, limit=3)["message"]
    assert message["items"][0]["DOI"] == target["DOI"]
    assert 1 <= len(message["items"]) <= 3 and message["items-per-page"] == 3
    scores = [item["score"] for item in message["items"]]
    assert scores == sorted(scores, reverse=True) and all(isinstance(s, float) for s in scores)
    assert message["query"]["search-terms"] is None
    plain = cr.works(query=wanted)["message"]
    assert plain["query"]["search-terms"] == wanted and plain["items"][0]["DOI"] == target["DOI"]
    assert cr.works(query_author="zzzznobody")["message"]["total-results"] == 0


def test_crossref_validation_failures(crossref: CrossrefServer, cassettes: list[Any]) -> None:
    uri = "https://api.crossref.org/works/10.1371/journal.pone.0033693?query.author=carl+boettiger"
    status, headers, body = _recorded(cassettes, uri)
    answer = httpx2.get(f"{crossref.base_url}{urlsplit(uri).path}?{urlsplit(uri).query}", timeout=5)
    assert (answer.status_code, answer.content) == (status, body)
    assert (
        answer.headers["content-type"]
        == headers["content-type"]
        == "application/json;charset=utf-8"
    )

    _, _, body = _recorded(cassettes, "https://api.crossref.org/funders?rows=things")
    answer = httpx2.get(f"{crossref.base_url}/works", params={"rows": "things"}, timeout=5)
    assert (answer.status_code, answer.content) == (400, body)

    cr = Crossref(base_url=crossref.base_url, mailto=MAILTO)
    with pytest.raises(RequestError, match="less than or equal to 1000"):
        cr.works(limit=5000)
    with pytest.raises(RequestError, match="no such filter"):
        cr.works(filter={"has_full_text": True})


def test_crossref_rate_limit_headers_follow_the_pool(
    crossref: CrossrefServer, cassettes: list[Any]
) -> None:
    limits = ("x-rate-limit-limit", "x-rate-limit-interval", "x-concurrency-limit", "x-api-pool")
    recorded = {
        h["x-api-pool"]: tuple(h[k] for k in limits)
        for _, _, h, _ in cassettes
        if "x-api-pool" in h
    }
    assert recorded == {"public": ("5", "1s", "1", "public"), "polite": ("10", "1s", "3", "polite")}
    for path in ("/works/10.1038/srep16696", "/works/10.1/none", "/works?rows=x"):
        answer = httpx2.get(crossref.base_url + path, timeout=5)
        assert tuple(answer.headers[k] for k in limits) == recorded["public"], path
        answer = httpx2.get(
            crossref.base_url + path, headers={"User-Agent": f"bib (mailto:{MAILTO})"}, timeout=5
        )
        assert tuple(answer.headers[k] for k in limits) == recorded["polite"], path
    answer = httpx2.get(
        f"{crossref.base_url}/works", params={"mailto": MAILTO, "rows": 0}, timeout=5
    )
    assert answer.headers["x-api-pool"] == "polite" and answer.json()["message"]["items"] == []


def test_crossref_injected_429_with_retry_after(crossref: CrossrefServer) -> None:
    crossref.rate_limit(retry_after=1)
    throttled = httpx2.get(f"{crossref.base_url}/works/10.1038/srep16696", timeout=5)
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "1"
    assert throttled.headers["x-rate-limit-limit"] == "5"
    assert httpx2.get(f"{crossref.base_url}/works/10.1038/srep16696", timeout=5).status_code == 200
    crossref.rate_limit(retry_after=1)
    with pytest.raises(httpx2.HTTPStatusError, match="429"):
        Crossref(base_url=crossref.base_url, mailto=MAILTO).works(ids="10.1038/srep16696")


# -- DBLP -------------------------------------------------------------------------------------


@pytest.fixture
def dblp(tmp_path: Path, arxiv_recordings: list[Any]) -> Iterator[DblpServer]:
    """No DBLP answers are recorded in the corpora, so the hits are the 100 arXiv papers of
    the recorded `testing` search, in the shape DBLP gives its CoRR records."""
    for entry in ET.fromstring(_search_recording(arxiv_recordings)).findall("atom:entry", NS):
        arxiv_id = entry.findtext("atom:id", "", NS).partition("/abs/")[2].rpartition("v")[0]
        key = "journals/corr/abs-" + arxiv_id.replace(".", "-")
        authors = [
            {"text": a.findtext("atom:name", "", NS)} for a in entry.findall("atom:author", NS)
        ]
        info = {
            "authors": {"author": authors if len(authors) > 1 else authors[0]},
            "title": " ".join(entry.findtext("atom:title", "", NS).split()) + ".",
            "venue": "CoRR",
            "volume": f"abs/{arxiv_id}",
            "year": entry.findtext("atom:published", "", NS)[:4],
            "type": "Informal and Other Publications",
            "access": "open",
            "key": key,
            "ee": f"https://arxiv.org/abs/{arxiv_id}",
            "url": f"https://dblp.org/rec/{key}",
        }
        (tmp_path / (key.replace("/", "_") + ".json")).write_text(
            json.dumps(info), encoding="utf-8"
        )
    with DblpServer(tmp_path) as server:
        yield server


def _search(server: DblpServer, **params: Any) -> dict[str, Any]:
    answer = httpx2.get(
        f"{server.base_url}/search/publ/api", params={"format": "json", **params}, timeout=5
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def test_dblp_envelope(dblp: DblpServer) -> None:
    result = _search(dblp, q="Study Paper Test Case GUI")
    assert list(result) == ["query", "status", "time", "completions", "hits"]
    assert result["query"] == "Study* Paper* Test* Case* GUI*"
    assert result["status"] == {"@code": "200", "text": "OK"}
    assert result["time"]["@unit"] == "msecs"
    hits = result["hits"]
    assert {k: hits[k] for k in ("@total", "@sent", "@first")} == {
        "@total": "1",
        "@sent": "1",
        "@first": "0",
    }
    (hit,) = hits["hit"]
    assert list(hit) == ["@score", "@id", "info", "url"] and hit["url"] == "URL#" + hit["@id"]
    assert hit["info"] == dblp.records["journals/corr/abs-1202-4527"]
    assert int(hit["@score"]) > 0


def test_dblp_matches_word_prefixes_case_insensitively(dblp: DblpServer) -> None:
    def keys(q: str) -> list[str]:
        return [h["info"]["key"] for h in _search(dblp, q=q)["hits"].get("hit", [])]

    assert keys("gui isabel retn") == ["journals/corr/abs-1202-4527"]  # author prefixes
    assert keys("GUI Isabella$") == ["journals/corr/abs-1202-4527"]
    assert keys("GUI Isabel$") == []  # `$` wants the whole word
    assert keys("corr gui") == keys("gui")  # the venue is searched too
    empty = _search(dblp, q="zzzzqqq")["hits"]
    assert empty == {"@total": "0", "@computed": "0", "@sent": "0", "@first": "0"}


def test_dblp_paging_with_h_and_f(dblp: DblpServer) -> None:
    everything = _search(dblp, q="corr", h=1000)["hits"]
    assert everything["@total"] == everything["@sent"] == "100"
    default = _search(dblp, q="corr")["hits"]
    assert default["@sent"] == "30" and default["@computed"] == "100"
    assert _search(dblp, q="corr", h=5000)["hits"]["@sent"] == "100"  # h is capped at 1000
    pages = [_search(dblp, q="corr", h=40, f=first)["hits"] for first in (0, 40, 80)]
    assert [p["@first"] for p in pages] == ["0", "40", "80"]
    assert [p["@sent"] for p in pages] == ["40", "40", "20"]
    assert [h["@id"] for p in pages for h in p["hit"]] == [h["@id"] for h in everything["hit"]]
    assert _search(dblp, q="corr", c=0)["completions"]["@sent"] == "0"


def test_dblp_rejects_other_formats(dblp: DblpServer) -> None:
    for params in ({"q": "gui"}, {"q": "gui", "format": "xml"}):
        assert (
            httpx2.get(f"{dblp.base_url}/search/publ/api", params=params, timeout=5).status_code
            == 400
        )


def test_dblp_injected_429_with_retry_after(dblp: DblpServer) -> None:
    dblp.rate_limit(retry_after=2)
    url = f"{dblp.base_url}/search/publ/api"
    throttled = httpx2.get(url, params={"q": "gui", "format": "json"}, timeout=5)
    assert (throttled.status_code, throttled.headers["retry-after"]) == (429, "2")
    assert b"<title>429 Too Many Requests</title>" in throttled.content
    assert httpx2.get(url, params={"q": "gui", "format": "json"}, timeout=5).status_code == 200


# -- shared fault injection -------------------------------------------------------------------


def test_faults_are_consumed_in_order(dblp: DblpServer) -> None:
    url = f"{dblp.base_url}/search/publ/api?q=gui&format=json"
    dblp.inject(status=503, body="down for maintenance")
    dblp.inject(body='{"result": ')  # a 200 whose JSON is cut short
    dblp.inject(headers={"X-Extra": "yes"})
    first, second, third, fourth = (httpx2.get(url, timeout=5) for _ in range(4))
    assert (first.status_code, first.text) == (503, "down for maintenance")
    assert second.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        second.json()
    assert third.headers["x-extra"] == "yes"
    assert third.json()["result"]["hits"] == fourth.json()["result"]["hits"]
    assert "x-extra" not in fourth.headers
    dblp.inject(status=500)
    dblp.reset()
    assert httpx2.get(url, timeout=5).status_code == 200 and len(dblp.requests) == 1


def test_latency_and_slow_answers(crossref: CrossrefServer) -> None:
    url = f"{crossref.base_url}/works/10.1038/srep16696"
    crossref.latency = 0.3
    started = time.monotonic()
    assert httpx2.get(url, timeout=5).status_code == 200
    assert time.monotonic() - started >= 0.3
    crossref.latency = 0
    crossref.inject(delay=2)
    with pytest.raises(httpx2.ReadTimeout):
        httpx2.get(url, timeout=0.5)
    assert httpx2.get(url, timeout=5).status_code == 200  # the server is not stuck
    assert not crossref.errors
