"""Every way an upstream fails ends in one clean error, a known number of requests, in bounded time.

The real clients (arXiv's Atom client, Crossref through habanero, DBLP's search, and
pyzotero for the Zotero sink) run through `HttpClient` against the loopback upstreams,
which fail on purpose (`tests/upstreams/base.py`, `FAULT_KINDS`). Each test measures the
time its run took and checks it against the bound the policy promises (attempts times
the per-attempt limit, plus the waits asked for, plus a margin for a loaded machine):
a check that the bound holds, not a benchmark.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pyzotero import zotero

from bib.commands.resolve import run as resolve_run
from bib.http import HostPolicy, HttpClient, UpstreamError
from bib.project import Project
from bib.sources import Endpoints, arxiv, crossref, dblp
from tests.upstreams import (
    ArxivServer,
    CrossrefServer,
    DblpServer,
    LoopbackServer,
    PypiServer,
    SemanticScholarServer,
)
from tests.upstreams.base import FAULT_KINDS
from tests.upstreams.zotero import ZoteroServer

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
TIMEOUT = 0.5  # seconds per attempt
RETRIES = 2
BACKOFF = 0.05
MAX_BYTES = 256 * 1024
MARGIN = 5.0  # seconds of slack for a loaded machine (tests run 6 at a time); bounds stay far under a minute

ARXIV_ID = "2205.14135"
DOI = json.loads(next(iter(sorted((FIXTURES / "crossref").glob("*.json")))).read_text())["DOI"]
TITLE = "Helix: Serving Large Language Models over Heterogeneous GPUs"


def policy(**overrides: float) -> dict[str, HostPolicy]:
    settings = dict(interval=0.0, retries=RETRIES, backoff=BACKOFF, timeout=TIMEOUT,
                    max_wait=5.0, max_failures=3, max_bytes=MAX_BYTES)  # fmt: skip
    return {"127.0.0.1": HostPolicy(**{**settings, **overrides})}


@dataclass
class Upstream:
    name: str
    server: LoopbackServer
    call: Callable[[HttpClient], object]  # one request's worth of the real client's work

    @property
    def host(self) -> str:
        return urlsplit(self.server.base_url).netloc


def _start(name: str) -> Upstream:
    if name == "arxiv":
        server: LoopbackServer = ArxivServer(FIXTURES / "arxiv")
        url = server.base_url + "/api/query"
        return Upstream(name, server, lambda c: list(arxiv.fetch_batches(c, url, [ARXIV_ID])))
    if name == "crossref":
        server = CrossrefServer(FIXTURES / "crossref")
        return Upstream(name, server, lambda c: crossref.fetch_dois(c, server.base_url, [DOI]))
    server = DblpServer(FIXTURES / "dblp")
    url = server.base_url + "/search/publ/api"
    return Upstream(name, server, lambda c: dblp.search(c, url, TITLE))


@pytest.fixture(params=["arxiv", "crossref", "dblp"])
def upstream(request: pytest.FixtureRequest) -> Iterator[Upstream]:
    up = _start(request.param)
    with up.server:
        yield up
        assert not up.server.errors, "the fake itself raised"


def timed(up: Upstream, client: HttpClient) -> tuple[UpstreamError, float]:
    started = time.monotonic()
    with pytest.raises(UpstreamError) as caught:
        up.call(client)
    return caught.value, time.monotonic() - started


# kind -> (options for `fail`, requests the server sees, the error, seconds waited between tries)
TIMED_OUT = r"{host}: timed out \(0.5 s\) after 3 attempts; no more requests to it this run"
BACKOFFS = BACKOFF * (1 + 2)
CASES: dict[str, tuple[dict, int, str | dict[str, str], float]] = {
    **{
        code: ({}, 3, rf"{{host}}: HTTP {code} after 3 attempts", BACKOFFS)
        for code in ("429", "500", "502", "503", "504")
    },
    "503 with Retry-After": (
        {"kind": "503", "retry_after": 1}, 3, r"{host}: HTTP 503 after 3 attempts", 2.0,
    ),
    "429 with Retry-After beyond the cap": (
        {"kind": "429", "retry_after": 60}, 1,
        r"{host}: HTTP 429 after 1 attempt; down for this run "
        r"\(Retry-After asking for a wait of 60 s, beyond the 5 s cap\)", 0.0,
    ),
    "refused": (
        {}, 0, r"{host}: connection refused after 1 attempt; no more requests to it this run", 0.0,
    ),
    "hang": ({}, 3, TIMED_OUT, BACKOFFS),
    "drip": ({"seconds": 0.1}, 3, TIMED_OUT, BACKOFFS),
    "slow": ({"seconds": 3.0}, 3, TIMED_OUT, BACKOFFS),
    "drop": (
        {}, 3, r"{host}: connection closed before a complete answer after 3 attempts; "
        r"no more requests to it this run", BACKOFFS,
    ),
    "huge": ({}, 1, r"{host}: answer of 1073741824 bytes, over the 262144 bytes cap \(1 attempt\)", 0.0),
    "endless": ({}, 1, r"{host}: answer larger than the 262144 bytes cap \(1 attempt\)", 0.0),
    "html": ({}, 1, {
        "arxiv": r"arXiv: expected an Atom feed, got <html>",
        "crossref": r"Crossref: works for 1 DOIs: HTTP 200: an HTML page titled 'Down for maintenance'",
        "dblp": r"DBLP: malformed response, not JSON \(text/html\), for query '.+'",
    }, 0.0),
    "malformed": ({}, 1, {
        "arxiv": r"arXiv: malformed Atom feed \(.+\)",
        "crossref": r"Crossref: works for 1 DOIs: malformed response \(.+\)",
        "dblp": r"DBLP: malformed response, not JSON \(application/json\), for query '.+'",
    }, 0.0),
    "wrong-shape": ({}, 1, {
        "arxiv": r"arXiv: expected an Atom feed, got <rss>",
        "crossref": r"Crossref: response has no message.items list",
        "dblp": r"DBLP: malformed response for query '.+'",
    }, 0.0),
}  # fmt: skip


# The clients name their upstream before what the HTTP layer says.
PREFIX = {"arxiv": "arXiv: ", "crossref": r"Crossref: works for 1 DOIs: ", "dblp": "DBLP: "}


def test_every_fault_kind_has_a_case():
    assert {options.get("kind", case) for case, (options, *_) in CASES.items()} == set(FAULT_KINDS)


def test_each_upstream_answers_without_a_fault(upstream: Upstream):
    """The calls below are real work that succeeds, so each failure is the fault's doing."""
    with HttpClient(policy()) as client:
        assert upstream.call(client)
    assert len(upstream.server.requests) == 1


@pytest.mark.parametrize("case", list(CASES))
def test_a_fault_ends_in_one_clean_error_in_bounded_time(upstream: Upstream, case: str):
    options, requests, expected, waits = CASES[case]
    options = dict(options)
    upstream.server.fail(options.pop("kind", case), always=True, **options)
    with HttpClient(policy()) as client:
        error, elapsed = timed(upstream, client)
    pattern = (
        expected[upstream.name]
        if isinstance(expected, dict)
        else (PREFIX[upstream.name] + expected)
    )
    assert re.fullmatch(pattern.format(host=re.escape(upstream.host)), str(error)), str(error)
    assert "\n" not in str(error)
    assert len(upstream.server.requests) == requests
    assert elapsed < (RETRIES + 1) * TIMEOUT + waits + MARGIN


# -- the circuit breaker ------------------------------------------------------------------------


def test_a_refused_host_is_not_asked_again_this_run(upstream: Upstream):
    upstream.server.fail("refused")
    with HttpClient(policy()) as client:
        with pytest.raises(UpstreamError, match="connection refused after 1 attempt"):
            upstream.call(client)
        upstream.server.resume()  # it is back, but this run has written it off
        error, elapsed = timed(upstream, client)
        assert str(error).endswith(
            f"{upstream.host}: down for this run (connection refused); not asked"
        )
        assert upstream.server.requests == [] and elapsed < MARGIN
    with HttpClient(policy()) as fresh:  # a new run asks again, and is answered
        upstream.call(fresh)
    assert len(upstream.server.requests) == 1


def test_failures_in_a_row_mark_a_host_down_and_an_answer_ends_a_streak(tmp_path):
    with DblpServer(tmp_path) as server, HttpClient(policy(retries=0)) as client:
        url = server.base_url + "/search/publ/api"
        for _ in range(2):
            server.fail("503")
            with pytest.raises(UpstreamError, match=r"HTTP 503 after 1 attempt$"):
                dblp.search(client, url, "x")
        assert dblp.search(client, url, "x") == []  # an answer: the two failures are forgiven
        server.fail("500", always=True)
        for _ in range(3):
            with pytest.raises(UpstreamError, match="HTTP 500 after 1 attempt"):
                dblp.search(client, url, "x")
        with pytest.raises(UpstreamError) as down:
            dblp.search(client, url, "x")
    host = urlsplit(server.base_url).netloc
    assert str(down.value) == (
        f"DBLP: {host}: down for this run (3 failures in a row, the first: HTTP 500); not asked"
    )
    assert len(server.requests) == 6
    assert client.stats.down == {host: "3 failures in a row, the first: HTTP 500"}


def test_a_down_host_leaves_the_other_hosts_alone(tmp_path):
    with (
        DblpServer(tmp_path) as down,
        DblpServer(tmp_path) as up,
        HttpClient(policy()) as client,
    ):
        down.fail("refused")
        with pytest.raises(UpstreamError, match="connection refused"):
            dblp.search(client, down.base_url + "/search/publ/api", "x")
        assert dblp.search(client, up.base_url + "/search/publ/api", "x") == []
    assert len(up.requests) == 1


# -- caps on what a server may ask ------------------------------------------------------------


def test_a_rate_limit_beyond_the_cap_fails_the_host_instead_of_waiting_an_hour():
    with CrossrefServer(FIXTURES / "crossref") as server, HttpClient(policy()) as client:
        server.inject(headers={"x-rate-limit-limit": "1", "x-rate-limit-interval": "3600s"})
        assert DOI.lower() in crossref.fetch_dois(client, server.base_url, [DOI])
        started = time.monotonic()
        with pytest.raises(UpstreamError, match=r"gap of 3600 s, beyond the 5 s cap\); not asked"):
            crossref.fetch_dois(client, server.base_url, [DOI])
        assert time.monotonic() - started < MARGIN
    assert len(server.requests) == 1


def test_a_backoff_beyond_the_cap_on_a_success_fails_the_host(tmp_path):
    with DblpServer(tmp_path) as server, HttpClient(policy()) as client:
        url = server.base_url + "/search/publ/api"
        server.inject(headers={"Backoff": "86400"})
        assert dblp.search(client, url, "x") == []
        with pytest.raises(UpstreamError, match=r"Backoff asking for a wait of 86400 s"):
            dblp.search(client, url, "x")
    assert len(server.requests) == 1


# -- the run's deadline -----------------------------------------------------------------------


def test_the_deadline_cuts_a_request_short_and_fails_every_later_one(upstream: Upstream):
    upstream.server.fail("hang", always=True)
    deadline = 1.0
    with HttpClient(policy(timeout=30.0), deadline=deadline) as client:
        error, elapsed = timed(upstream, client)
        assert str(error).endswith(
            f"{upstream.host}: timed out (cut short by the run's deadline of 1 s) after 1 attempt"
        )
        assert elapsed < deadline + MARGIN
        error, elapsed = timed(upstream, client)
    assert str(error).endswith(f"deadline of 1 s passed; {upstream.host} not asked")
    assert len(upstream.server.requests) == 1 and elapsed < MARGIN


def test_a_wait_that_would_pass_the_deadline_fails_at_once(tmp_path):
    with DblpServer(tmp_path) as server, HttpClient(policy(interval=30.0), deadline=5.0) as client:
        url = server.base_url + "/search/publ/api"
        dblp.search(client, url, "x")
        started = time.monotonic()
        with pytest.raises(UpstreamError, match=r"deadline of 5 s would pass while waiting 30 s"):
            dblp.search(client, url, "x")
        assert time.monotonic() - started < MARGIN
    assert len(server.requests) == 1


@pytest.mark.parametrize("name", ["arxiv", "crossref", "dblp"])
def test_resolve_with_a_hanging_upstream_ends_by_its_deadline(tmp_path, name):
    """The whole `bib resolve` of the 47 papers, one upstream hanging, ends by the deadline."""
    for file in ("sources.yaml", "sources.lock.json"):
        shutil.copy(ROOT / file, tmp_path / file)
    (tmp_path / "s2").mkdir()
    servers = [_start(n).server for n in ("arxiv", "crossref", "dblp")]
    servers.append(SemanticScholarServer(tmp_path / "s2"))  # knows no paper: title searches
    servers.append(PypiServer(FIXTURES / "pypi"))
    deadline = 4.0
    with servers[0], servers[1], servers[2], servers[3], servers[4]:
        arxiv_server, crossref_server, dblp_server, s2_server, pypi_server = servers
        {"arxiv": arxiv_server, "crossref": crossref_server, "dblp": dblp_server}[name].fail(
            "hang", always=True
        )
        endpoints = Endpoints({
            "arxiv": arxiv_server.base_url + "/api/query",
            "crossref": crossref_server.base_url,
            "dblp": dblp_server.base_url + "/search/publ/api",
            "semanticscholar": s2_server.base_url + "/graph/v1",
            "pypi": pypi_server.base_url,
        })  # fmt: skip
        project = Project.load(tmp_path / "sources.yaml", tmp_path / "sources.lock.json")
        started = time.monotonic()
        with HttpClient(policy(timeout=1.0), deadline=deadline) as client:
            report = resolve_run(
                project, refresh=True, endpoints=endpoints, client=client, today=dt.date(2026, 1, 1)
            )
        elapsed = time.monotonic() - started
    assert elapsed < deadline + MARGIN
    assert not report.ok and report.counts()["failed"] > 0
    assert sum(len(s.requests) for s in servers) == report.requests


# -- both paths: our clients and pyzotero -----------------------------------------------------


@pytest.mark.parametrize("kind", ["hang", "endless", "drip"])
def test_pyzotero_through_our_client_is_bounded_too(kind):
    with ZoteroServer() as server, HttpClient(policy()) as client:
        zot = zotero.Zotero("123", "group", "LoopbackZoteroKey0000001", client=client.httpx)
        zot.endpoint = server.base_url
        server.fail(kind, seconds=1.0, always=True)  # "[]" dripped: its 2nd byte comes too late
        started = time.monotonic()
        with pytest.raises(UpstreamError, match=urlsplit(server.base_url).netloc):
            zot.items()
        elapsed = time.monotonic() - started
    assert elapsed < (RETRIES + 1) * TIMEOUT + BACKOFFS + MARGIN
