"""The one HTTP layer: timeouts, retries, Retry-After/Backoff, spacing, bounds, configuration.

Every way an upstream fails, through the real clients, is in test_faults.py."""

from __future__ import annotations

import gzip
import socket
import time
from pathlib import Path

import httpx2
import pytest

from bib.cache import ResponseCache
from bib.dirs import cache_dir
from bib.http import HostPolicy, HttpClient, UpstreamError, failure_kind, retry_after, summary
from bib.sources import Endpoints
from tests.upstreams.dblp import DblpServer


def client(**policy) -> HttpClient:
    return HttpClient({"127.0.0.1": HostPolicy(**{"retries": 2, "timeout": 5, **policy})})


@pytest.fixture
def server(tmp_path):
    with DblpServer(tmp_path) as running:
        yield running


def url(server) -> str:
    return server.base_url + "/search/publ/api?q=x&format=json"


def test_timeout_is_retried_then_succeeds(server):
    server.inject(delay=1.5)
    with client(timeout=0.5) as http:
        response = http.get(url(server))
    assert response.status_code == 200
    assert http.stats.retries == 1


def test_retry_after_is_honoured_and_give_up_is_clean(server):
    server.inject(status=429, headers={"Retry-After": "1"})
    with client() as http:
        assert http.get(url(server)).status_code == 200
    assert server.gaps()[0] >= 1.0
    server.reset()
    for _ in range(3):
        server.inject(status=500)
    with client() as http, pytest.raises(UpstreamError, match="HTTP 500 after 3 attempts"):
        http.get(url(server))


def test_a_retry_after_beyond_the_limit_gives_up_at_once(server):
    server.inject(status=429, headers={"Retry-After": "3600"})
    with (
        client() as http,
        pytest.raises(UpstreamError, match=r"HTTP 429 after 1 attempt; down .*wait of 3600 s"),
    ):
        http.get(url(server))
    assert len(server.requests) == 1


def test_backoff_on_a_success_delays_the_next_request(server):
    server.inject(headers={"Backoff": "1"})
    with client() as http:
        http.get(url(server))
        http.get(url(server))
    assert server.gaps()[0] >= 1.0


def test_spacing_holds_between_calls(server):
    with client(interval=0.4) as http:
        for _ in range(3):
            http.get(url(server))
    assert all(gap >= 0.4 for gap in server.gaps())


def test_user_agent_names_the_tool_and_contact(server):
    with HttpClient(mailto="me@example.org") as http:
        http.get(url(server))
    agent = server.requests[0].headers["user-agent"]
    assert agent.startswith("llm-serving-bib/") and "mailto:me@example.org" in agent


def test_retry_after_parses_seconds_and_http_dates():
    assert retry_after(httpx2.Response(429, headers={"Retry-After": "7"})) == 7.0
    date = httpx2.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert retry_after(date, now=1445412470.0) == 10.0
    assert retry_after(httpx2.Response(200)) is None


def test_endpoints_come_from_the_environment():
    env = {"BIB_ARXIV_URL": "http://127.0.0.1:1/api/query", "BIB_CROSSREF_URL": "http://h/",
           "BIB_DBLP_URL": "http://d/search", "BIB_MAILTO": "x@y.z"}  # fmt: skip
    endpoints = Endpoints.from_env(env)
    assert endpoints == Endpoints(
        {
            "arxiv": "http://127.0.0.1:1/api/query",
            "crossref": "http://h",
            "dblp": "http://d/search",
        },
        "x@y.z",
    )
    assert Endpoints.from_env({})["crossref"] == "https://api.crossref.org"


def test_response_cache_answers_repeats_and_expires(server, tmp_path):
    cache = ResponseCache(tmp_path / "cache")
    with HttpClient({"127.0.0.1": HostPolicy()}, cache=cache) as http:
        first = http.get(url(server))
        second = http.get(url(server))
    assert len(server.requests) == 1 and cache.hits == 1
    assert second.json() == first.json()
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 1
    stale = ResponseCache(tmp_path / "cache", max_age=-1)
    with HttpClient({"127.0.0.1": HostPolicy()}, cache=stale) as http:
        http.get(url(server))
    assert len(server.requests) == 2


def test_error_responses_are_not_cached(server, tmp_path):
    cache = ResponseCache(tmp_path / "cache")
    server.inject(status=404, body=b"nope")
    with HttpClient({"127.0.0.1": HostPolicy()}, cache=cache) as http:
        assert http.get(url(server)).status_code == 404
    assert not list((tmp_path / "cache").rglob("*.json"))


def test_cache_directory_follows_the_environment(tmp_path, monkeypatch):
    assert cache_dir({"BIB_CACHE_DIR": str(tmp_path)}) == tmp_path
    monkeypatch.setenv("XDG_CACHE_HOME", "/x")
    assert cache_dir({}) == Path("/x/llm-serving-bib")


# -- bounds on each answer --------------------------------------------------------------------


def test_dripped_headers_cannot_hold_an_attempt_beyond_its_timeout(server):
    """Each read returns within 0.1 s, so only a limit on the whole attempt stops this one."""
    server.inject(drip=0.1, drip_headers=True)
    started = time.monotonic()
    with client(timeout=0.5, retries=0) as http, pytest.raises(UpstreamError, match="timed out"):
        http.get(url(server))
    assert time.monotonic() - started < 0.5 + 2.0  # dripping it all would take over 20 s


def test_a_dripped_body_is_cut_off_with_any_inner_transport(server):
    server.inject(drip=0.1)
    started = time.monotonic()
    transport = httpx2.HTTPTransport()  # not ours: its sockets are not clipped
    policies = {"127.0.0.1": HostPolicy(timeout=0.5, retries=0)}
    with (
        HttpClient(policies, transport=transport) as http,
        pytest.raises(UpstreamError, match=r"timed out \(0.5 s\) after 1 attempt"),
    ):
        http.get(url(server))
    assert time.monotonic() - started < 0.5 + 2.0


def test_size_is_capped_as_sent_and_as_decoded(server):
    bomb = gzip.compress(b" " * 300_000)  # 300 kB of spaces in a few hundred bytes
    server.inject(headers={"content-encoding": "gzip"}, body=bomb)
    with client(max_bytes=100_000) as http:
        with pytest.raises(UpstreamError, match="larger than the 100000 bytes cap once decoded"):
            http.get(url(server))
        server.inject(body=b"[" + b"0," * 60_000 + b"0]")
        with pytest.raises(UpstreamError, match=r"answer of 120003 bytes, over the 100000 bytes"):
            http.get(url(server))
        assert http.get(url(server)).json()["result"]  # a normal answer still passes
    assert len(server.requests) == 3


def test_a_gzip_body_is_decoded_once(server):
    server.inject(headers={"content-encoding": "gzip"}, body=gzip.compress(b'{"ok": 1}'))
    with client() as http:
        response = http.get(url(server))
    assert response.json() == {"ok": 1} and "content-encoding" not in response.headers


def test_failure_kinds_are_short_and_name_the_cause():
    def connect_error(cause: OSError) -> httpx2.ConnectError:
        try:
            raise httpx2.ConnectError(str(cause)) from cause
        except httpx2.ConnectError as exc:
            return exc

    dns = socket.gaierror(-2, "Name or service not known")
    assert failure_kind(connect_error(dns), "15 s") == "DNS lookup failed"
    assert failure_kind(connect_error(ConnectionRefusedError(111, "x")), "") == "connection refused"
    unreachable = OSError(101, "Network is unreachable")
    assert failure_kind(connect_error(unreachable), "") == "network is unreachable"
    assert failure_kind(httpx2.ReadTimeout("x\ny"), "15 s") == "timed out (15 s)"


def test_a_quoted_body_is_one_short_line():
    page = "<html>\n<head><title>503 Service\n Unavailable</title></head><body>...</body></html>"
    assert summary(page) == "an HTML page titled '503 Service Unavailable'"
    assert summary("Resource not found.") == "Resource not found."
    assert summary("x " * 200) == "x " * 48 + "x..."
