"""A loopback HTTP server that records requests and injects faults.

Tests run the project's real client code against 127.0.0.1, so every upstream fake
shares one harness: a ThreadingHTTPServer in a daemon thread, a log of what the
client sent (to check batching, politeness and headers), and a FIFO of faults
(429, 503, broken bodies, slow answers) to drive the client's error paths.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from types import TracebackType
from typing import ClassVar, Self
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it; `time` is time.monotonic() on arrival."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    time: float

    def param(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query parameter, as most APIs read it."""
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    """What a fake upstream answers; header names are lower-case, Content-Length is added."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    """An override for one response: a set field replaces that part of the real answer."""

    status: int | None = None
    headers: Mapping[str, str] | None = None
    body: bytes | str | None = None
    delay: float = 0.0


class LoopbackServer:
    """Base class: subclasses implement `handle` and may add `common_headers`.

    Usable as a context manager; `base_url` is known as soon as it is constructed.
    """

    #: Value of the Server header; None keeps http.server's own.
    server_header: ClassVar[str | None] = None
    #: What `rate_limit` answers, as the real upstream does when throttling.
    throttle_status: ClassVar[int] = 429
    throttle_content_type: ClassVar[str] = "text/plain"
    throttle_body: ClassVar[bytes] = b"Too Many Requests"

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.errors: list[BaseException] = []
        self.latency: float = 0.0
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        """Serve in a daemon thread, so a hung test never keeps the interpreter alive."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},  # so close() returns promptly
                name=type(self).__name__,
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; handlers still sleeping on a delay are woken and drop their answer."""
        self._closing.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- test controls -----------------------------------------------------------------------

    def inject(
        self,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Queue a fault for the next request that has none yet (FIFO, one per request).

        With `status`, the answer is that status, the upstream's common headers plus
        `headers`, and `body` (empty if None). Without it, the real answer is kept and
        only `headers`/`body` replace parts of it, e.g. a truncated body under a 200.
        `delay` sleeps before answering, e.g. longer than the client's timeout.
        """
        with self._lock:
            self._faults.append(Fault(status, headers, body, delay))

    def rate_limit(self, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next `times` requests the way this upstream throttles, with Retry-After."""
        for _ in range(times):
            self.inject(
                status=self.throttle_status,
                headers={
                    "content-type": self.throttle_content_type,
                    "retry-after": str(retry_after),
                },
                body=self.throttle_body,
            )

    def reset(self) -> None:
        """Forget recorded requests, errors and pending faults; latency is kept."""
        with self._lock:
            self.requests.clear()
            self.errors.clear()
            self._faults.clear()

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests, to check a client's pacing."""
        with self._lock:
            times = [r.time for r in self.requests]
        return [b - a for a, b in pairwise(times)]

    # -- for subclasses ----------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Response:
        """Answer one request as the real upstream would."""
        raise NotImplementedError

    def common_headers(self, request: RecordedRequest) -> dict[str, str]:
        """Headers the upstream sends on every answer, faults included."""
        return {}

    # -- internals ---------------------------------------------------------------------------

    def _respond(self, request: RecordedRequest) -> tuple[Response, float]:
        with self._lock:
            self.requests.append(request)
            fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault.status is not None:
            response = Response(fault.status, b"", dict(self.common_headers(request)))
        else:
            try:
                response = self.handle(request)
            except Exception as exc:  # a bug in the fake must show up, not hang the client
                with self._lock:
                    self.errors.append(exc)
                response = Response(
                    500,
                    f"{type(exc).__name__}: {exc}".encode(),
                    {"content-type": "text/plain; charset=utf-8"},
                )
            response.headers = {**self.common_headers(request), **_lower(response.headers)}
        delay = self.latency
        if fault is not None:
            if fault.headers:
                response.headers.update(_lower(fault.headers))
            if fault.body is not None:
                body = fault.body
                response.body = body.encode() if isinstance(body, str) else body
                response.headers.pop("content-encoding", None)
            delay += fault.delay
        return response, delay


class _QuietServer(ThreadingHTTPServer):
    """Daemon handler threads; a client hanging up mid-answer is normal, not an error."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _handler_for(owner: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    """A handler class bound to one server object, so handlers stay stateless."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the clients' connection pools expect

        def _serve(self) -> None:
            arrived = time.monotonic()
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = RecordedRequest(
                method=self.command,
                path=unquote(url.path),
                query=parse_qs(url.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
                time=arrived,
            )
            response, delay = owner._respond(request)
            if delay > 0 and owner._closing.wait(delay):
                self.close_connection = True
                return
            try:
                self.send_response(response.status, _reason(response.status))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (e.g. its timeout fired)

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _serve

        def version_string(self) -> str:
            return owner.server_header or super().version_string()

        def log_message(self, format: str, *args: object) -> None:
            """Silent: the request log is `owner.requests`."""

    return Handler


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
