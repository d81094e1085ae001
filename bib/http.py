"""The one HTTP layer every upstream goes through, and the Zotero sink too.

Politeness lives here and nowhere else, as in arxiv.py's shared client: one
connection at a time, a minimum spacing per host, timeouts, and retries with
backoff that honour `Retry-After` and `Backoff`. It names no upstream: each
module under `bib.sources` declares its own base URL, environment variable
and spacing, and hands them to `HttpClient` as host policies.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx2

from bib import __version__
from bib.cache import ResponseCache
from bib.errors import BibError

RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})


class UpstreamError(BibError):
    """An upstream could not answer (after retries) or answered nonsense.

    `response` is the last answer when retries ran out on a 429 or 5xx, so an
    upstream module can name the reason the service gave (its error body).
    """

    exit_code = 3

    def __init__(self, message: str, response: httpx2.Response | None = None) -> None:
        super().__init__(message)
        self.response = response


@dataclass
class HostPolicy:
    """How politely to treat one host; `interval` may grow from its rate-limit headers."""

    interval: float = 0.0
    retries: int = 4
    timeout: float = 30.0
    max_wait: float = 120.0


@dataclass
class HttpStats:
    requests: int = 0
    retries: int = 0
    waited: float = 0.0
    by_host: dict[str, int] = field(default_factory=dict)


def retry_after(response: httpx2.Response, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, from `Retry-After` or `Backoff` (delta or date)."""
    for name in ("retry-after", "backoff"):
        value = response.headers.get(name)
        if not value:
            continue
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            continue
        return max(0.0, when - (time.time() if now is None else now))
    return None


class PoliteTransport(httpx2.BaseTransport):
    """Spacing, timeouts and retries for every request that passes through, of any method.

    Being a transport, it serves our own clients and pyzotero's alike (pyzotero
    takes an httpx2 client): a 429 or 5xx is retried here, with the same
    headers (so the same `Zotero-Write-Token`), and never reaches code that
    would mishandle it. When retries run out, the last response is returned.
    Every request leaves with our User-Agent, whatever the library above set.
    """

    def __init__(
        self,
        policies: dict[str, HostPolicy] | None = None,
        *,
        user_agent: str | None = None,
        inner: httpx2.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policies = policies or {}
        self.user_agent = user_agent
        self.stats = HttpStats()
        self.inner = inner or httpx2.HTTPTransport(limits=httpx2.Limits(max_connections=1))
        self._sleep, self._clock = sleep, clock
        self._next_ok: dict[str, float] = {}

    def policy(self, host: str) -> HostPolicy:
        """The policy for `host:port`, else for the bare host name, else a new default one."""
        if host not in self.policies and host.rsplit(":", 1)[0] in self.policies:
            return self.policies[host.rsplit(":", 1)[0]]
        return self.policies.setdefault(host, HostPolicy())

    def _wait_turn(self, host: str) -> None:
        delay = self._next_ok.get(host, 0.0) - self._clock()
        if delay > 0:
            self.stats.waited += delay
            self._sleep(delay)

    def _hold(self, host: str, seconds: float) -> None:
        self._next_ok[host] = max(self._next_ok.get(host, 0.0), self._clock() + seconds)

    def _learn_rate_limit(self, host: str, response: httpx2.Response) -> None:
        """Crossref says its budget in `x-rate-limit-limit` per `x-rate-limit-interval`."""
        limit = response.headers.get("x-rate-limit-limit")
        interval = response.headers.get("x-rate-limit-interval", "")
        if limit and limit.isdigit() and int(limit) > 0 and interval.rstrip("s").isdigit():
            policy = self.policy(host)
            policy.interval = max(policy.interval, int(interval.rstrip("s")) / int(limit))

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        host = request.url.netloc.decode("ascii")
        policy = self.policy(host)
        if self.user_agent:
            request.headers["User-Agent"] = self.user_agent
        request.extensions["timeout"] = httpx2.Timeout(policy.timeout).as_dict()
        for attempt in range(policy.retries + 1):
            self._wait_turn(host)
            self.stats.requests += 1
            self.stats.by_host[host] = self.stats.by_host.get(host, 0) + 1
            self.stats.retries += bool(attempt)
            try:
                response = self.inner.handle_request(request)
            except httpx2.TransportError:
                if attempt == policy.retries:
                    raise
                self._hold(host, 2.0**attempt)
                continue
            self._hold(host, policy.interval)
            self._learn_rate_limit(host, response)
            asked = retry_after(response)
            if response.status_code not in RETRYABLE:
                if asked:  # `Backoff` on a success: honour it before the next request
                    self._hold(host, min(asked, policy.max_wait))
                return response
            wait = asked if asked is not None else 2.0**attempt
            if attempt == policy.retries or wait > policy.max_wait:
                return response
            response.read()
            response.close()
            self._hold(host, wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def close(self) -> None:
        self.inner.close()


class HttpClient:
    """A synchronous client shared by a whole run, so spacing holds across all calls.

    The one factory of HTTP clients: our upstream clients use `get` (and
    `post_json` for a query sent as POST), habanero is routed through it
    (`bib.sources.crossref`), and pyzotero is handed `httpx`.
    """

    def __init__(
        self,
        policies: dict[str, HostPolicy] | None = None,
        *,
        mailto: str | None = None,
        transport: httpx2.BaseTransport | None = None,
        cache: ResponseCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.mailto = mailto
        contact = f"; mailto:{mailto}" if mailto else ""
        self.user_agent = (
            f"llm-serving-bib/{__version__} (+https://github.com/llm-serving-bib{contact})"
        )
        self.cache = cache
        self.transport = PoliteTransport(
            policies, user_agent=self.user_agent, inner=transport, sleep=sleep, clock=clock
        )
        self.httpx = httpx2.Client(follow_redirects=True, transport=self.transport)

    @property
    def stats(self) -> HttpStats:
        return self.transport.stats

    def policy(self, host: str) -> HostPolicy:
        return self.transport.policy(host)

    def close(self) -> None:
        self.httpx.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self, url: str, params: dict | None = None, headers: dict | None = None
    ) -> httpx2.Response:
        """GET with spacing and retries; returns the final response, even a 4xx one.

        A 4xx other than 408/429 is an answer (the caller decides what a 404 means);
        5xx, 429, timeouts and broken connections are retried, then raised.
        """
        return self._send("GET", url, params=params, headers=headers)

    def post_json(
        self, url: str, payload: object, params: dict | None = None, headers: dict | None = None
    ) -> httpx2.Response:
        """A read-only query sent as a JSON POST (Semantic Scholar's batch lookup), like `get`.

        Only for questions, never for writes: the answer is cached under the URL,
        the parameters and a digest of the body, so a re-run asking the same batch
        reads it back, and a retry re-sends the same bytes.
        """
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        headers = {**(headers or {}), "Content-Type": "application/json"}
        return self._send("POST", url, params=params, headers=headers, body=body)

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict | None,
        headers: dict | None,
        body: bytes | None = None,
    ) -> httpx2.Response:
        """Send through the polite transport; header values never reach an error message."""
        if self.cache is not None and (cached := self.cache.get(url, params, body)) is not None:
            return cached
        host = urlsplit(url).netloc
        attempts = self.policy(host).retries + 1
        try:
            response = self.httpx.request(method, url, params=params, headers=headers, content=body)
        except httpx2.TransportError as exc:
            # A refused header's error quotes its value (an API key): name only the kind.
            quoted = str(exc) and not isinstance(exc, httpx2.LocalProtocolError)
            name = f"{type(exc).__name__}: {exc}" if quoted else type(exc).__name__
            raise UpstreamError(f"{host}: {name} after {attempts} attempts") from exc
        if response.status_code in RETRYABLE:
            asked = retry_after(response)
            if asked is not None and asked > self.policy(host).max_wait:
                message = f"asked to wait {asked:.0f} s; giving up"
                raise UpstreamError(f"{host}: HTTP {response.status_code}, {message}", response)
            raise UpstreamError(
                f"{host}: HTTP {response.status_code} after {attempts} attempts", response
            )
        if self.cache is not None:
            self.cache.put(url, params, response, body)
        return response
