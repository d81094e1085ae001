"""The one HTTP layer: timeouts, retries, Retry-After/Backoff, spacing, configuration."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from bib.cache import ResponseCache, default_dir
from bib.http import HostPolicy, HttpClient, UpstreamError, retry_after
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
    with client() as http, pytest.raises(UpstreamError, match=r"HTTP 429 after 1 attempt; down .*wait of 3600 s"):
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
    assert default_dir({"BIB_CACHE_DIR": str(tmp_path)}) == tmp_path
    monkeypatch.setenv("XDG_CACHE_HOME", "/x")
    assert default_dir({}) == Path("/x/llm-serving-bib")
