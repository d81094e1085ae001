"""The arXiv, Crossref and DBLP clients, end to end over HTTP against loopback upstreams,
plus conformance on every real recorded response in ../shared/corpora."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bib.http import HostPolicy, HttpClient, UpstreamError
from bib.sources import Endpoints, arxiv, crossref, dblp, polite_client
from tests.corpora import arxiv_responses, crossref_interactions, crossref_works
from tests.upstreams.arxiv import ArxivServer
from tests.upstreams.crossref import CrossrefServer
from tests.upstreams.dblp import DblpServer


def fast() -> dict[str, HostPolicy]:
    """A fresh policy per client: learned rate limits must not leak between tests."""
    return {"127.0.0.1": HostPolicy(interval=0.0, retries=2, timeout=5)}


# -- conformance: real recorded responses through our parsers -----------------------------


def test_every_recorded_arxiv_feed_parses_or_fails_cleanly():
    seen_ok = seen_error = 0
    for path, status, body in arxiv_responses():
        if status == 200:
            for paper in arxiv.parse_feed(body):
                assert paper.record.title and paper.record.authors, path.name
                assert paper.record.arxiv_id and paper.record.type == "preprint"
                assert paper.record.issued[0] >= 1991
            seen_ok += 1
        else:
            with pytest.raises(UpstreamError, match="arXiv: incorrect id format"):
                arxiv.parse_feed(body)
            seen_error += 1
    assert seen_ok == 19 and seen_error == 1


def test_malformed_arxiv_bodies_are_upstream_errors():
    with pytest.raises(UpstreamError, match="malformed Atom"):
        arxiv.parse_feed(b"<feed><entry>")
    with pytest.raises(UpstreamError, match="expected an Atom feed"):
        arxiv.parse_feed(b"<html/>")


def test_every_recorded_crossref_work_maps_to_a_record():
    works = crossref_works()
    assert len(works) > 500
    for work in works:
        record = crossref.work_to_record(work)
        assert record.doi == work["DOI"].lower()
        assert record.url == f"https://doi.org/{record.doi}"
        assert len(record.authors) == len(work.get("author", []))
        if work.get("title"):
            assert record.title


def test_recorded_crossref_error_bodies_are_what_the_loopback_server_sends(tmp_path):
    """The 404 text and 400 validation JSON in the cassettes, and ours, give clean errors."""
    recorded = {s: b for _, _, s, _, b in crossref_interactions() if s in (400, 404)}
    assert recorded[404].strip() == b"Resource not found."
    assert json.loads(recorded[400])["status"] == "failed"
    with (
        CrossrefServer(tmp_path) as server,
        HttpClient(fast()) as client,
        pytest.raises(UpstreamError, match="Crossref: title query: HTTP 400"),
    ):
        crossref.search_title(client, server.base_url, "x", rows=-3)


# -- arXiv client --------------------------------------------------------------------------


def fetch_all(client: HttpClient, url: str, ids: list[str]) -> dict[str, arxiv.ArxivPaper]:
    found: dict[str, arxiv.ArxivPaper] = {}
    for batch in arxiv.fetch_batches(client, url, ids):
        found.update(batch)
    return found


@pytest.fixture
def arxiv_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "arxiv"
    folder.mkdir()
    for path, status, body in arxiv_responses():
        match = re.match(r"id_(\d{4}\.\d{4,5}|[a-z-]+_\d{7})_s0_m100_", path.name)
        if status == 200 and match and arxiv.parse_feed(body):
            (folder / f"{match.group(1)}.xml").write_bytes(body)
    return folder


def test_arxiv_batches_ids_and_always_sends_max_results(arxiv_dir):
    with ArxivServer(arxiv_dir) as server, HttpClient(fast()) as client:
        papers = fetch_all(client, server.base_url + "/api/query", ["1605.08386", "1707.08567"])
    assert set(papers) == {"1605.08386", "1707.08567"}
    assert papers["1605.08386"].record.title == "Heat-bath random walks with Markov bases"
    (request,) = server.requests
    assert request.param("id_list") == "1605.08386,1707.08567"
    assert request.param("max_results") == "2"


def test_arxiv_unknown_id_is_absent_and_a_malformed_id_is_a_failure(arxiv_dir):
    with ArxivServer(arxiv_dir) as server, HttpClient(fast()) as client:
        url = server.base_url + "/api/query"
        found = fetch_all(client, url, ["1605.08386", "2401.99999"])
        assert set(found) == {"1605.08386"}  # the resolver reports 2401.99999 as failed
        with pytest.raises(UpstreamError, match="incorrect id format"):
            fetch_all(client, url, ["abc"])


def test_arxiv_spacing_is_three_seconds_by_default(arxiv_dir):
    with ArxivServer(arxiv_dir) as server:
        endpoints = Endpoints({"arxiv": server.base_url + "/api/query"})
        with polite_client(endpoints) as client:
            fetch_all(client, endpoints["arxiv"], ["1605.08386"])
            fetch_all(client, endpoints["arxiv"], ["1707.08567"])
    assert server.gaps()[0] >= 3.0


# -- Crossref client (habanero) ------------------------------------------------------------


@pytest.fixture
def crossref_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "crossref"
    folder.mkdir()
    for work in crossref_works()[:40]:
        if work.get("title") and work.get("author"):
            (folder / (work["DOI"].replace("/", "_") + ".json")).write_text(json.dumps(work))
    return folder


def test_crossref_fetches_many_dois_in_one_request(crossref_dir):
    works = [json.loads(p.read_text()) for p in sorted(crossref_dir.glob("*.json"))][:5]
    dois = [w["DOI"] for w in works] + ["10.9999/not-registered"]
    with (
        CrossrefServer(crossref_dir) as server,
        HttpClient(fast(), mailto="bib@example.org") as client,
    ):
        found = crossref.fetch_dois(client, server.base_url, dois)
    assert set(found) == {w["DOI"].lower() for w in works}
    (request,) = server.requests
    assert request.path == "/works"
    assert request.param("filter").count("doi:") == 6
    assert "mailto:bib@example.org" in request.headers["user-agent"]


def test_crossref_title_query_and_rate_limit_headers_set_the_pace(crossref_dir):
    work = json.loads(sorted(crossref_dir.glob("*.json"))[0].read_text())
    with CrossrefServer(crossref_dir) as server, HttpClient(fast()) as client:
        hits = crossref.search_title(client, server.base_url, work["title"][0])
        policy = client.policy("127.0.0.1")
    assert hits[0].doi == work["DOI"].lower()
    assert server.requests[0].param("query.bibliographic") == work["title"][0]
    assert policy.interval > 0  # learned from x-rate-limit-limit / x-rate-limit-interval


def test_crossref_429_is_retried_through_habanero(crossref_dir):
    work = json.loads(sorted(crossref_dir.glob("*.json"))[0].read_text())
    with CrossrefServer(crossref_dir) as server, HttpClient(fast()) as client:
        server.rate_limit(retry_after=1)
        found = crossref.fetch_dois(client, server.base_url, [work["DOI"]])
    assert work["DOI"].lower() in found
    assert len(server.requests) == 2 and server.gaps()[0] >= 1.0


# -- DBLP client ---------------------------------------------------------------------------


ORCA = {
    "authors": {"author": [{"text": "Gyeong-In Yu"}, {"text": "Joo Seong Jeong"}]},
    "title": "Orca: A Distributed Serving System for Transformer-Based Generative Models.",
    "venue": "OSDI",
    "pages": "521-538",
    "year": "2022",
    "type": "Conference and Workshop Papers",
    "key": "conf/osdi/YuJKKC22",
    "ee": "https://www.usenix.org/conference/osdi22/presentation/yu",
    "url": "https://dblp.org/rec/conf/osdi/YuJKKC22",
}


def test_dblp_search_maps_hits_to_records(tmp_path):
    (tmp_path / "conf_osdi_YuJKKC22.json").write_text(json.dumps(ORCA))
    with DblpServer(tmp_path) as server, HttpClient(fast()) as client:
        url = server.base_url + "/search/publ/api"
        (hit,) = dblp.search(client, url, "Orca distributed serving")
        assert dblp.search(client, url, "nothing matches this") == []
    assert hit.title == "Orca: A Distributed Serving System for Transformer-Based Generative Models"
    assert hit.type == "paper-conference"
    assert hit.dblp_key == "conf/osdi/YuJKKC22"
    assert [a.family for a in hit.authors] == ["Yu", "Jeong"]
    assert hit.container_title.startswith("USENIX Symposium on Operating Systems Design")
    assert hit.url == ORCA["ee"]
    assert server.requests[0].param("format") == "json"


def test_dblp_malformed_body_and_exhausted_retries_fail_cleanly(tmp_path):
    with DblpServer(tmp_path) as server, HttpClient(fast()) as client:
        url = server.base_url + "/search/publ/api"
        server.inject(body=b'{"result": ')
        with pytest.raises(UpstreamError, match="DBLP: malformed response, not JSON"):
            dblp.search(client, url, "x")
        for _ in range(3):
            server.inject(status=503)
        with pytest.raises(UpstreamError, match="HTTP 503 after 3 attempts"):
            dblp.search(client, url, "x")
