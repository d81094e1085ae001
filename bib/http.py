"""The one HTTP layer every upstream goes through, and the Zotero sink too.

Politeness lives here and nowhere else, as in arxiv.py's shared client: one
connection at a time, a minimum spacing per host, timeouts, and retries with
backoff that honour `Retry-After` and `Backoff`. So do the bounds that make
every run end: a deadline for the whole run, a wall-clock limit and a size
cap for each answer, caps on how long a server may ask us to wait, and a
circuit breaker that stops asking a host that is gone. It names no upstream:
each module under `bib.sources` declares its own base URL, environment
variable and spacing, and hands them to `HttpClient` as host policies.
"""

from __future__ import annotations

import email.utils
import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2

from bib import __version__
from bib.cache import ResponseCache
from bib.errors import BibError
from bib.wallclock import ClippedBackend, clipped_transport

RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})
MIB = 1024 * 1024


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
    """How politely to treat one host, and how long to wait for it.

    `interval` may grow from the host's rate-limit headers. A host asking for a
    wait longer than `max_wait` (in `Retry-After`, `Backoff` or its rate-limit
    headers) is not waited for: it is marked down, like one that failed
    `max_failures` times in a row.
    """

    interval: float = 0.0
    retries: int = 3
    backoff: float = 1.0  # the first retry's wait when the server names none; doubled each time
    timeout: float = 15.0  # wall clock for one attempt: connecting, headers and the whole body
    max_wait: float = 120.0
    max_failures: int = 3
    max_bytes: int = 16 * MIB


@dataclass
class HttpStats:
    requests: int = 0
    retries: int = 0
    waited: float = 0.0
    by_host: dict[str, int] = field(default_factory=dict)
    down: dict[str, str] = field(default_factory=dict)  # host -> why it was marked down


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


def attempts_text(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"


def failure_kind(exc: httpx2.TransportError, limit: str) -> str:
    """What went wrong, in a few words and one line, whatever text the exception carries."""
    if isinstance(exc, httpx2.TimeoutException):
        return f"timed out ({limit})"
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, socket.gaierror):
        return "DNS lookup failed"
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, httpx2.RemoteProtocolError):
        return "connection closed before a complete answer"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror.lower()
    return type(exc).__name__


def summary(text: str, width: int = 100) -> str:
    """One short line for a body quoted in an error: an HTML page by its title."""
    if text.lstrip().startswith("<") and (title := re.search(r"<title>(.*?)</title>", text, re.S)):
        text = f"an HTML page titled {' '.join(title.group(1).split())!r}"
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 3] + "..."


class _Refused(Exception):
    """An answer this layer will not hand on (too large, undecodable); the reason says why."""


class PoliteTransport(httpx2.BaseTransport):
    """Spacing, bounds and retries for every request that passes through, of any method.

    Being a transport, it serves our own clients and pyzotero's alike (pyzotero
    takes an httpx2 client): a 429 or 5xx is retried here, with the same
    headers (so the same `Zotero-Write-Token`), and never reaches code that
    would mishandle it. When retries run out, the last response is returned;
    a request that cannot be answered at all (refused, timed out, too large,
    deadline passed, host down) raises `UpstreamError` with one line naming the
    host, what failed and the number of attempts. The body is read here, so
    its time and size are bounded and a broken body is retried like any failure.
    Every request leaves with our User-Agent, whatever the library above set.
    """

    def __init__(
        self,
        policies: dict[str, HostPolicy] | None = None,
        *,
        user_agent: str | None = None,
        inner: httpx2.BaseTransport | None = None,
        deadline: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policies = policies or {}
        self.user_agent = user_agent
        self.stats = HttpStats()
        self._backend = ClippedBackend(clock)
        self.inner = inner or clipped_transport(self._backend)
        self._sleep, self._clock = sleep, clock
        self.deadline = deadline
        self._deadline_at = None if deadline is None else clock() + deadline
        self._next_ok: dict[str, float] = {}
        self._streak: dict[str, tuple[int, str]] = {}  # host -> (failures in a row, the first)

    def policy(self, host: str) -> HostPolicy:
        """The policy for `host:port`, else for the bare host name, else a new default one."""
        if host not in self.policies and host.rsplit(":", 1)[0] in self.policies:
            return self.policies[host.rsplit(":", 1)[0]]
        return self.policies.setdefault(host, HostPolicy())

    # -- the bounds ----------------------------------------------------------------------------

    def _left(self) -> float:
        return float("inf") if self._deadline_at is None else self._deadline_at - self._clock()

    def _check(self, host: str) -> None:
        """Fail at once, sending nothing, if the host is down or the run's time is up."""
        if host in self.stats.down:
            raise UpstreamError(f"{host}: down for this run ({self.stats.down[host]}); not asked")
        if self._left() <= 0:
            raise UpstreamError(f"deadline of {self.deadline:g} s passed; {host} not asked")

    def _limit_text(self, limit: float, policy: HostPolicy) -> str:
        if limit < policy.timeout:
            return f"cut short by the run's deadline of {self.deadline:g} s"
        return f"{limit:g} s"

    def _mark_down(self, host: str, reason: str) -> None:
        self.stats.down.setdefault(host, reason)

    def _failed(self, host: str, reason: str, policy: HostPolicy) -> None:
        count, first = self._streak.get(host, (0, reason))
        self._streak[host] = (count + 1, first)
        if count + 1 >= policy.max_failures:
            self._mark_down(host, f"{count + 1} failures in a row, the first: {first}")

    def _too_long(self, host: str, seconds: float, policy: HostPolicy, what: str) -> bool:
        """A wait beyond the cap is not honoured: the host is down for the rest of the run."""
        if seconds <= policy.max_wait:
            return False
        self._mark_down(host, f"{what} of {seconds:.0f} s, beyond the {policy.max_wait:g} s cap")
        return True

    # -- spacing -------------------------------------------------------------------------------

    def _wait_turn(self, host: str) -> None:
        delay = self._next_ok.get(host, 0.0) - self._clock()
        if delay <= 0:
            return
        if delay >= self._left():
            raise UpstreamError(
                f"deadline of {self.deadline:g} s would pass while waiting {delay:.0f} s "
                f"for {host}; not asked"
            )
        self.stats.waited += delay
        self._sleep(delay)

    def _hold(self, host: str, seconds: float) -> None:
        self._next_ok[host] = max(self._next_ok.get(host, 0.0), self._clock() + seconds)

    def _learn_rate_limit(self, host: str, response: httpx2.Response, policy: HostPolicy) -> None:
        """Crossref says its budget in `x-rate-limit-limit` per `x-rate-limit-interval`."""
        limit = response.headers.get("x-rate-limit-limit")
        interval = response.headers.get("x-rate-limit-interval", "")
        if limit and limit.isdigit() and int(limit) > 0 and interval.rstrip("s").isdigit():
            pace = int(interval.rstrip("s")) / int(limit)
            if not self._too_long(host, pace, policy, "x-rate-limit-* headers asking for a gap"):
                policy.interval = max(policy.interval, pace)

    # -- one request ---------------------------------------------------------------------------

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        host = request.url.netloc.decode("ascii")
        policy = self.policy(host)
        if self.user_agent:
            request.headers["User-Agent"] = self.user_agent
        attempt = 0
        while True:
            self._check(host)
            self._wait_turn(host)
            limit = min(policy.timeout, self._left())
            attempt += 1
            self.stats.requests += 1
            self.stats.by_host[host] = self.stats.by_host.get(host, 0) + 1
            self.stats.retries += attempt > 1
            try:
                response = self._attempt(request, policy, limit)
            except _Refused as exc:
                self._failed(host, str(exc), policy)
                raise UpstreamError(f"{host}: {exc} ({attempts_text(attempt)})") from None
            except httpx2.TransportError as exc:
                kind = failure_kind(exc, self._limit_text(limit, policy))
                if isinstance(exc, httpx2.ConnectError):
                    self._mark_down(host, kind)  # refused, no such host, no network: no one to ask
                else:
                    self._failed(host, kind, policy)
                backoff = policy.backoff * 2.0 ** (attempt - 1)
                if host in self.stats.down or attempt > policy.retries or backoff >= self._left():
                    message = f"{host}: {kind} after {attempts_text(attempt)}"
                    if host in self.stats.down:
                        message += "; no more requests to it this run"
                    raise UpstreamError(message) from None
                self._hold(host, backoff)
                continue
            response.extensions["attempts"] = attempt
            self._hold(host, policy.interval)
            self._learn_rate_limit(host, response, policy)
            asked = retry_after(response)
            if response.status_code not in RETRYABLE:
                self._streak.pop(host, None)  # it answered: the failures in a row are over
                if asked and not self._too_long(host, asked, policy, "Backoff asking for a wait"):
                    self._hold(host, asked)  # `Backoff` on a success: honour it before the next
                return response
            if asked is not None and self._too_long(
                host, asked, policy, "Retry-After asking for a wait"
            ):
                return response
            wait = asked if asked is not None else policy.backoff * 2.0 ** (attempt - 1)
            if attempt > policy.retries or wait >= self._left():
                self._failed(host, f"HTTP {response.status_code}", policy)
                return response
            self._hold(host, wait)

    def _attempt(
        self, request: httpx2.Request, policy: HostPolicy, limit: float
    ) -> httpx2.Response:
        """One exchange, headers and body, within `limit` seconds and `policy.max_bytes`."""
        until = self._clock() + limit
        self._backend.until = until
        request.extensions["timeout"] = httpx2.Timeout(limit).as_dict()
        response = self.inner.handle_request(request)
        try:
            content = self._read_body(response, policy.max_bytes, until)
        finally:
            response.close()
        kept = [
            (name, value)
            for name, value in response.headers.raw
            if name.lower() not in (b"content-encoding", b"content-length", b"transfer-encoding")
        ]  # the body is decoded here, so these would describe bytes no longer there
        return httpx2.Response(
            response.status_code, headers=kept, content=content, extensions=response.extensions
        )

    def _read_body(self, response: httpx2.Response, max_bytes: int, until: float) -> bytes:
        """The decoded body, refused beyond `max_bytes` (sent or decoded) and cut off at `until`."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise _Refused(f"answer of {int(declared)} bytes, over the {_size(max_bytes)} cap")
        response.stream = _BoundedStream(response.stream, max_bytes, until, self._clock)
        chunks, size = [], 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise _Refused(f"answer larger than the {_size(max_bytes)} cap once decoded")
                chunks.append(chunk)
        except httpx2.DecodingError as exc:
            raise _Refused(f"undecodable {response.headers.get('content-encoding')} body") from exc
        return b"".join(chunks)

    def close(self) -> None:
        self.inner.close()


class _BoundedStream(httpx2.SyncByteStream):
    """The bytes as sent, refused beyond `max_bytes` and cut off at `until`.

    Counted before decoding, since a decoder may swallow bytes without yielding
    any (gzip ignores what follows its end); the clock is checked between chunks
    for inner transports that are not ours (ours stop at `until` by themselves).
    """

    def __init__(
        self, stream: Any, max_bytes: int, until: float, clock: Callable[[], float]
    ) -> None:
        self._stream, self._max, self._until, self._clock = stream, max_bytes, until, clock

    def __iter__(self) -> Iterator[bytes]:
        size = 0
        for chunk in self._stream:
            size += len(chunk)
            if size > self._max:
                raise _Refused(f"answer larger than the {_size(self._max)} cap")
            if self._clock() > self._until:
                raise httpx2.ReadTimeout("the attempt's time limit passed")
            yield chunk

    def close(self) -> None:
        self._stream.close()


def _size(n: int) -> str:
    return f"{n / MIB:g} MiB" if n >= MIB else f"{n} bytes"


class HttpClient:
    """A synchronous client shared by a whole run, so spacing and bounds hold across all calls.

    The one factory of HTTP clients: our upstream clients use `get` (and
    `post_json` for a query sent as POST), habanero is routed through it
    (`bib.sources.crossref`), and pyzotero is handed `httpx`. `deadline`
    (seconds from now) bounds the whole run: once it has passed, every request
    fails at once.
    """

    def __init__(
        self,
        policies: dict[str, HostPolicy] | None = None,
        *,
        mailto: str | None = None,
        transport: httpx2.BaseTransport | None = None,
        cache: ResponseCache | None = None,
        deadline: float | None = None,
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
            policies,
            user_agent=self.user_agent,
            inner=transport,
            deadline=deadline,
            sleep=sleep,
            clock=clock,
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
        """GET with spacing, bounds and retries; returns the final response, even a 4xx one.

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
        try:
            response = self.httpx.request(method, url, params=params, headers=headers, content=body)
        except httpx2.TransportError as exc:  # raised before our transport: e.g. a bad URL
            # A refused header's error quotes its value (an API key): name only the kind.
            quoted = str(exc) and not isinstance(exc, httpx2.LocalProtocolError)
            name = f"{type(exc).__name__}: {exc}" if quoted else type(exc).__name__
            raise UpstreamError(f"{host}: {name}") from None
        if response.status_code in RETRYABLE:
            message = f"{host}: HTTP {response.status_code}"
            message += f" after {attempts_text(response.extensions.get('attempts', 1))}"
            if host in self.stats.down:
                message += f"; down for this run ({self.stats.down[host]})"
            raise UpstreamError(message, response)
        if self.cache is not None:
            self.cache.put(url, params, response, body)
        return response
