"""Semantic Scholar: the loopback Graph API against real recordings, and the batch client
end to end over HTTP against it, with hostile answers.

Conformance material is read from ../shared/corpora (semanticscholar-semanticscholar, both
cassette dialects, and semanticscholar-zotero-validate); fixture folders are built from it
in tmp_path, never copied into the repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest

from bib.cache import ResponseCache
from bib.errors import InputError
from bib.http import HostPolicy, HttpClient, UpstreamError
from bib.ids import Identifier, normalize_arxiv, normalize_doi
from bib.sources import Endpoints, semanticscholar
from bib.sources.semanticscholar import FIELDS, fetch_papers, parse_batch, parse_paper
from tests.corpora import S2Interaction, s2_interactions, s2_papers
from tests.upstreams.semanticscholar import SemanticScholarServer

TURING_DOI = "10.1093/mind/lix.236.433"  # test_get_paper asks for it by bare DOI


def recorded(cassette: str, status: int | None = None) -> S2Interaction:
    """The first recorded exchange of a cassette (with that status, if given)."""
    return next(
        i
        for i in s2_interactions()
        if i.cassette.stem.endswith(cassette) and status in (None, i.status)
    )


@pytest.fixture(scope="module")
def papers() -> list[dict]:
    return s2_papers()


@pytest.fixture
def fixtures_dir(tmp_path: Path, papers: list[dict]) -> Path:
    """Every recorded full paper object, one file each, plus the paper test_get_paper
    reached by DOI: its recorded answer (paperId, title) and the DOI its request named."""
    folder = tmp_path / "s2"
    folder.mkdir()
    for paper in papers:
        (folder / f"{paper['paperId']}.json").write_text(json.dumps(paper), encoding="utf-8")
    turing = json.loads(recorded("test_get_paper").body)
    turing["externalIds"] = {"DOI": TURING_DOI}
    (folder / f"{turing['paperId']}.json").write_text(json.dumps(turing), encoding="utf-8")
    return folder


@pytest.fixture
def server(fixtures_dir: Path):
    with SemanticScholarServer(fixtures_dir, api_keys=frozenset({"good-key"})) as running:
        yield running


def fast(**policy) -> HttpClient:
    """No spacing and no real sleeping: retries still happen, waits are only recorded."""
    waits: list[float] = []
    policies = {"127.0.0.1": HostPolicy(**{"retries": 2, "timeout": 5, **policy})}
    client = HttpClient(policies, sleep=waits.append)
    client.waits = waits  # type: ignore[attr-defined]
    return client


def base(server: SemanticScholarServer) -> str:
    return server.base_url + "/graph/v1"


def with_arxiv_and_venue(papers: list[dict]) -> list[dict]:
    """Recorded papers that have an arXiv id and a DBLP key of a published version."""
    return [
        p
        for p in papers
        if p["externalIds"].get("ArXiv")
        and not p["externalIds"].get("DBLP", "journals/corr/").startswith("journals/corr/")
    ]


# -- the loopback server replays the recordings ---------------------------------------------

REPLAYED = ("test_get_papers", "test_get_papers_not_found_warning", "test_debug",
            "test_get_paper", "test_bad_query_parameters", "test_not_found")  # fmt: skip


def test_server_replays_every_recorded_paper_exchange_byte_for_byte(server):
    """Batch (authors only; all 21 fields with a null for an unknown id), 403 for a bad key,
    a bare-DOI GET, 400 for an unknown field, 404 for an unknown paper: same status, same
    bytes. Author routes and searches are not served and are left out."""
    replayed = 0
    for item in s2_interactions():
        url = urlsplit(item.uri)
        if item.cassette.stem not in REPLAYED or not url.path.startswith("/graph/v1/paper/"):
            continue
        headers = {"content-type": "application/json"} if item.request_body else {}
        if item.cassette.stem == "test_debug":
            headers["x-api-key"] = "F@k3K3y"  # the recording's fake key, refused
        answer = httpx2.request(item.method, f"{server.base_url}{url.path}?{url.query}",
                                content=item.request_body, headers=headers)  # fmt: skip
        assert (answer.status_code, answer.content) == (item.status, item.body), item.uri
        assert answer.headers["content-type"] == item.headers["content-type"]
        replayed += 1
    assert replayed == 6
    assert not server.errors


def test_batch_keeps_request_order_and_answers_null_for_unknown_ids(server, papers):
    first, second = (p["externalIds"] for p in with_arxiv_and_venue(papers)[:2])
    ids = [f"ARXIV:{second['ArXiv']}", "CorpusId:1", f"DBLP:{first['DBLP']}",
           f"doi:{first['DOI'].upper()}"]  # fmt: skip
    chosen = with_arxiv_and_venue(papers)[:2]
    answer = httpx2.post(base(server) + "/paper/batch", params={"fields": "externalIds"},
                         json={"ids": ids}).json()  # fmt: skip
    assert [p and p["paperId"] for p in answer] == [
        chosen[1]["paperId"], None, chosen[0]["paperId"], chosen[0]["paperId"]]  # fmt: skip
    assert list(answer[0]) == ["paperId", "externalIds"]


def test_batch_refuses_more_than_500_ids_and_bad_fields(server):
    too_many = httpx2.post(base(server) + "/paper/batch", json={"ids": ["CorpusId:1"] * 501})
    assert too_many.status_code == 400 and set(too_many.json()) == {"error"}
    bad = httpx2.post(base(server) + "/paper/batch", params={"fields": "title,garbage,x.y"},
                      json={"ids": []})  # fmt: skip
    assert bad.status_code == 400
    assert bad.content == b'{"error":"Unrecognized or unsupported fields: [garbage, x.y]"}\n'
    assert httpx2.post(base(server) + "/paper/batch", content=b"ids=1").status_code == 400


def test_server_throttles_with_the_recorded_429_body(server):
    body = recorded("test_search_paper", status=429).body
    assert SemanticScholarServer.throttle_body == body
    server.rate_limit(retry_after=1)
    answer = httpx2.post(base(server) + "/paper/batch", json={"ids": []})
    assert answer.status_code == 429 and answer.json()["code"] == "429"


# -- conformance: every real paper object through the parser --------------------------------


def test_every_recorded_paper_parses_and_keeps_every_real_identifier(papers):
    assert len(papers) > 100
    for raw in papers:
        paper = parse_paper(raw)
        assert paper is not None and paper.paper_id == raw["paperId"]
        external = raw["externalIds"]
        assert paper.title == " ".join(raw["title"].split())
        assert paper.year == raw.get("year")
        assert paper.venue == (raw.get("venue") or None)
        if "DOI" in external:
            assert paper.doi == normalize_doi(external["DOI"]) is not None
        if "ArXiv" in external:
            assert paper.arxiv_id == normalize_arxiv(external["ArXiv"])[0]
        if "DBLP" in external:
            assert paper.dblp_key == external["DBLP"]
        assert paper.corpus_id == external.get("CorpusId")
        assert [a.name for a in paper.authors] == [a["name"] for a in raw["authors"]]


def test_recorded_batch_with_a_null_parses_to_the_known_papers():
    item = recorded("test_get_papers_not_found_warning")
    asked = json.loads(item.request_body)["ids"]
    found = parse_batch(item.body, asked)
    assert sorted(found) == sorted(asked[1:])  # the first id is unknown: null
    assert found["CorpusId:470667"].corpus_id == 470667
    assert found["10.2139/ssrn.2250500"].doi == "10.2139/ssrn.2250500"
    assert found["10.2139/ssrn.2250500"].venue is None  # recorded as ""
    assert found["CorpusId:470667"].journal.name == "Experimental & Empirical Studies eJournal"


def test_published_version_is_told_apart_from_the_arxiv_record(papers):
    preprint = next(p for p in papers if p["externalIds"].get("DBLP", "").startswith(
        "journals/corr/") and p["externalIds"].get("DOI", "").startswith("10.48550/"))  # fmt: skip
    only_arxiv = parse_paper(preprint)
    assert only_arxiv.doi and only_arxiv.published_doi is None
    assert only_arxiv.dblp_key and only_arxiv.published_dblp_key is None
    published = parse_paper(with_arxiv_and_venue(papers)[0])
    assert published.published_dblp_key == published.dblp_key is not None


# -- the client against the loopback server -------------------------------------------------


def test_fetch_papers_by_arxiv_doi_and_dblp_in_one_request(server, papers):
    chosen = with_arxiv_and_venue(papers)
    ids = [f"ARXIV:{p['externalIds']['ArXiv']}" for p in chosen] + [
        f"DBLP:{chosen[0]['externalIds']['DBLP']}", f"DOI:{chosen[0]['externalIds']['DOI']}",
        "ARXIV:2401.99999", f"ARXIV:{chosen[0]['externalIds']['ArXiv']}"]  # fmt: skip
    with fast() as client:
        found = fetch_papers(client, base(server), ids)
    assert len(server.requests) == 1
    sent = server.requests[0]
    assert sent.method == "POST" and sent.param("fields") == FIELDS
    assert json.loads(sent.body) == {"ids": ids[:-1]}  # asked once
    assert "ARXIV:2401.99999" not in found
    for raw in chosen:
        paper = found[f"ARXIV:{raw['externalIds']['ArXiv']}"]
        assert paper.paper_id == raw["paperId"]
        assert paper.published_dblp_key == raw["externalIds"]["DBLP"]
        assert paper.venue == raw["venue"] and paper.year == raw["year"]
        assert paper.publication_types == tuple(raw["publicationTypes"] or ())
    assert found[ids[-3]] == found[ids[-4]] == found[ids[0]]


def test_ids_come_from_catalog_identifiers():
    assert semanticscholar.paper_id(Identifier("arxiv", "2309.06180")) == "ARXIV:2309.06180"
    assert semanticscholar.paper_id(Identifier("doi", "10.1145/1")) == "DOI:10.1145/1"
    assert semanticscholar.paper_id(Identifier("dblp", "conf/a/B")) == "DBLP:conf/a/B"
    assert semanticscholar.paper_id(Identifier("url", "https://x")) is None


def test_a_huge_list_is_split_into_requests_of_at_most_500(server):
    ids = [f"CorpusId:{n}" for n in range(1, 1202)] + ["CorpusId:7"]
    with fast() as client:
        assert fetch_papers(client, base(server), []) == {} and not server.requests
        assert fetch_papers(client, base(server), ids) == {}
    assert [len(json.loads(r.body)["ids"]) for r in server.requests] == [500, 500, 201]
    assert not server.errors


def test_api_key_is_a_header_only_and_never_echoed(server, tmp_path, papers):
    raw = with_arxiv_and_venue(papers)[0]
    asked = [f"ARXIV:{raw['externalIds']['ArXiv']}"]
    cache = ResponseCache(tmp_path / "cache")
    with HttpClient({"127.0.0.1": HostPolicy(retries=0)}, cache=cache) as client:
        assert fetch_papers(client, base(server), asked, key="good-key")
        with pytest.raises(UpstreamError) as refused:
            fetch_papers(client, base(server), ["CorpusId:1"], key="secret-key-123")
    assert server.requests[0].headers["x-api-key"] == "good-key"
    assert all("key" not in r.path + json.dumps(r.query) for r in server.requests)
    assert str(refused.value) == "Semantic Scholar: HTTP 403: Forbidden"
    stored = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*.json"))
    assert stored and "good-key" not in stored and "secret-key" not in stored


def test_api_key_comes_from_the_environment_and_the_endpoint_too():
    assert semanticscholar.api_key({"SEMANTIC_SCHOLAR_API_KEY": "k"}) == "k"
    assert semanticscholar.api_key({"SEMANTIC_SCHOLAR_API_KEY": ""}) is None
    for bad in ("sec\nret-key", "sé-key", "two words"):
        with pytest.raises(InputError) as refused:
            semanticscholar.api_key({"SEMANTIC_SCHOLAR_API_KEY": bad})
        assert bad not in str(refused.value) and "SEMANTIC_SCHOLAR_API_KEY" in str(refused.value)
    env = {"BIB_SEMANTICSCHOLAR_URL": "http://127.0.0.1:9/graph/v1/"}
    assert Endpoints.from_env(env)["semanticscholar"] == "http://127.0.0.1:9/graph/v1"
    assert Endpoints()["semanticscholar"] == "https://api.semanticscholar.org/graph/v1"


def test_a_key_no_header_can_carry_is_never_sent_nor_echoed(server):
    with fast() as client:
        with pytest.raises(ValueError) as refused:
            fetch_papers(client, base(server), ["CorpusId:1"], key="sec\nret")
        assert "sec" not in str(refused.value)
        with pytest.raises(UpstreamError) as failed:  # the HTTP layer on its own
            client.post_json(
                base(server) + "/paper/batch", {"ids": []}, headers={"x-api-key": "sec\nret"}
            )
        assert "sec" not in str(failed.value) and "LocalProtocolError" in str(failed.value)
    assert not server.requests


def test_a_repeated_batch_is_read_from_the_cache(server, tmp_path):
    cache = ResponseCache(tmp_path / "cache")
    with HttpClient({"127.0.0.1": HostPolicy()}, cache=cache) as client:
        fetch_papers(client, base(server), ["CorpusId:470667"])
        fetch_papers(client, base(server), ["CorpusId:470667"])
        fetch_papers(client, base(server), ["CorpusId:3142471"])
    assert len(server.requests) == 2 and cache.hits == 1


def test_429_is_retried_then_answered(server):
    server.inject(status=429, headers={"content-type": "application/json"},
                  body=SemanticScholarServer.throttle_body)  # fmt: skip
    with fast() as client:
        found = fetch_papers(client, base(server), ["CorpusId:470667"])
        assert client.waits == [pytest.approx(1.0, abs=0.05)]  # S2 sends no Retry-After
    assert found["CorpusId:470667"].corpus_id == 470667 and len(server.requests) == 2
    assert server.requests[0].body == server.requests[1].body  # the same question again


def test_429_after_retries_names_semantic_scholar_and_its_reason(server):
    for _ in range(3):
        server.inject(status=429, headers={"content-type": "application/json"},
                      body=SemanticScholarServer.throttle_body)  # fmt: skip
    with fast() as client, pytest.raises(UpstreamError) as failed:
        fetch_papers(client, base(server), ["CorpusId:470667"])
    assert str(failed.value).startswith(
        "Semantic Scholar: HTTP 429 after 3 attempts: Too Many Requests. Please wait"
    )


@pytest.mark.parametrize(
    ("cassette", "status", "reason"),
    [
        ("test_bad_query_parameters", 400, "Unrecognized or unsupported fields: [unknown]"),
        ("test_debug", 403, "Forbidden"),
        ("test_not_found", 404, "Paper with id 0 not found"),
    ],
)
def test_recorded_error_bodies_become_one_clean_error(server, cassette, status, reason):
    item = recorded(cassette, status)
    server.inject(status=status, headers={"content-type": "application/json"}, body=item.body)
    with fast() as client, pytest.raises(UpstreamError) as failed:
        fetch_papers(client, base(server), ["CorpusId:470667"])
    assert str(failed.value) == f"Semantic Scholar: HTTP {status}: {reason}"


def test_5xx_and_a_dead_server_fail_cleanly(server):
    for _ in range(3):
        server.inject(status=503, body=b"<html>Service Unavailable</html>")
    with fast() as client, pytest.raises(UpstreamError, match="HTTP 503 after 3 attempts: Serv"):
        fetch_papers(client, base(server), ["CorpusId:470667"])
    dead = base(server)
    server.close()
    with fast(retries=0) as client, pytest.raises(UpstreamError, match=r"^Semantic Scholar: "):
        fetch_papers(client, dead, ["CorpusId:470667"])


# -- hostile answers -------------------------------------------------------------------------

ASKED = ["ARXIV:2309.06180", "CorpusId:470667"]
PID = "a" * 40


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<!DOCTYPE html><html><body>Maintenance</body></html>", "not JSON"),
        (b'[{"paperId": "' + PID.encode() + b'"', "not JSON"),
        (b'{"data": []}', "is a dict, not a list"),
        (b"[null]", "1 papers returned for 2 ids asked"),
        (b'[{"paperId": "' + PID.encode() + b'", "externalIds": {"ArXiv": "2310.00001"}}, null]',
         "returned for ARXIV:2309.06180 is another paper"),
        (b'[null, {"paperId": "' + PID.encode() + b'", "externalIds": {"CorpusId": 5}}]',
         "returned for CorpusId:470667 is another paper"),
    ],
)  # fmt: skip
def test_answers_that_cannot_be_lined_up_raise_one_error(server, body, message):
    server.inject(body=body)
    with fast() as client, pytest.raises(UpstreamError, match=f"^Semantic Scholar: .*{message}"):
        fetch_papers(client, base(server), ASKED)


def test_bad_entries_and_bad_values_are_dropped_not_raised():
    bad_values = {
        "paperId": PID,
        "title": ["not", "a", "string"],
        "externalIds": {"DOI": 10.1, "ArXiv": ["2309.06180"], "DBLP": "not a key",
                        "CorpusId": "470667", "MAG": None},
        "year": "2023",
        "venue": 7,
        "publicationVenue": "conference",
        "publicationTypes": "Conference",
        "publicationDate": "yesterday",
        "journal": ["name"],
        "authors": [{"name": "Woosuk Kwon", "authorId": 123}, "Zhuohan Li", {"authorId": "9"}],
    }  # fmt: skip
    entries = [42, {"paperId": "not-a-sha", "title": "T"}, bad_values, True, None,
               {"paperId": PID, "externalIds": {"DOI": "doi:10.1145/X", "DBLP": " conf/a/B"},
                "year": True}]  # fmt: skip
    found = parse_batch(json.dumps(entries), [f"CorpusId:{n}" for n in range(1, 7)])
    assert sorted(found) == ["CorpusId:3", "CorpusId:6"]
    paper = found["CorpusId:3"]
    assert (paper.title, paper.doi, paper.arxiv_id, paper.dblp_key, paper.corpus_id) == (
        "", None, None, None, None)  # fmt: skip
    assert (paper.year, paper.venue, paper.venue_type, paper.journal) == (None, None, None, None)
    assert paper.publication_types == () and paper.publication_date is None
    assert [(a.name, a.author_id) for a in paper.authors] == [("Woosuk Kwon", None)]
    other = found["CorpusId:6"]
    assert (other.doi, other.dblp_key, other.year) == ("10.1145/x", None, None)


def test_reasons_are_squeezed_onto_one_short_line(server):
    body = json.dumps({"error": "line one\n\x1b[31mline two " + "x" * 500}).encode()
    server.inject(status=400, body=body)
    with fast() as client, pytest.raises(UpstreamError) as failed:
        fetch_papers(client, base(server), ["CorpusId:1"])
    message = str(failed.value)
    assert "\n" not in message and "\x1b" not in message and len(message) < 250
    assert message.startswith("Semantic Scholar: HTTP 400: line one [31mline two xxx")
