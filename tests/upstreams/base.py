"""A loopback HTTP server that records requests and injects faults.

Tests run the project's real client code against 127.0.0.1, so every upstream fake
shares one harness: a ThreadingHTTPServer in a daemon thread, a log of what the
client sent (to check batching, politeness and headers), and a FIFO of faults to
drive the client's error paths: every way a real server fails (`FAULT_KINDS`:
error statuses with and without Retry-After, a refused connection, a hang, a drip,
a dropped connection, an HTML page, a malformed or wrongly shaped body, a huge or
endless body, a slow answer), once or on every request.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
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
    """An override for one response: a set field replaces that part of the real answer.

    The flags change how the answer is sent: `hang` reads the request and never
    answers, `drop` closes the connection without a word, `drip` sends the headers
    and then one byte of the body every `drip` seconds (with `drip_headers`, the
    headers are dripped too, after the status line), `huge` declares a 1 GiB
    body and streams it, `endless` streams a body with no length until the client
    hangs up, and `truncate` sends the first half of the real (decoded) body.
    """

    status: int | None = None
    headers: Mapping[str, str] | None = None
    body: bytes | str | None = None
    delay: float = 0.0
    hang: bool = False
    drop: bool = False
    drip: float | None = None
    drip_headers: bool = False
    huge: bool = False
    endless: bool = False
    truncate: bool = False


HUGE = 1 << 30  # the length a `huge` answer declares
# Every way a real upstream fails, as `LoopbackServer.fail` names them.
FAULT_KINDS = (
    "429", "500", "502", "503", "504", "refused", "hang", "drip", "drop",
    "html", "malformed", "wrong-shape", "huge", "endless", "slow",
)  # fmt: skip


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
    #: A well-formed answer in the upstream's own syntax whose structure is not the API's.
    wrong_shape_body: ClassVar[bytes] = b'{"status": "ok"}'
    #: What a proxy or maintenance page in front of any service answers, with status 200.
    html_page: ClassVar[bytes] = (
        b"<!DOCTYPE html>\n<html><head><title>Down for maintenance</title></head>\n"
        b"<body><h1>Down for maintenance</h1><p>Please try again later.</p></body></html>\n"
    )

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.errors: list[BaseException] = []
        self.latency: float = 0.0
        self._faults: deque[Fault] = deque()
        self._always: Fault | None = None
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._address = self._httpd.server_address[:2]
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._address
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
        self._stop()

    def _stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()
        self._httpd.drop_connections()

    def refuse(self) -> None:
        """Close the port, and every open connection: connecting to `base_url` is refused."""
        self._stop()

    def resume(self) -> None:
        """Listen on the same port again, after `refuse`."""
        self._httpd = _QuietServer(self._address, _handler_for(self))
        self.start()

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
        *,
        always: bool = False,
        **flags: bool | float | None,
    ) -> None:
        """Queue a fault for the next request that has none yet (FIFO, one per request).

        With `status`, the answer is that status, the upstream's common headers plus
        `headers`, and `body` (empty if None). Without it, the real answer is kept and
        only `headers`/`body` replace parts of it, e.g. a truncated body under a 200.
        `delay` sleeps before answering, e.g. longer than the client's timeout; `flags`
        are `Fault`'s ways of sending (hang, drop, drip, huge, endless, truncate).
        With `always`, every request without a queued fault gets this one, until `reset`.
        """
        fault = Fault(status, headers, body, delay, **flags)  # type: ignore[arg-type]
        with self._lock:
            if always:
                self._always = fault
            else:
                self._faults.append(fault)

    def fail(
        self,
        kind: str,
        *,
        retry_after: int | None = None,
        seconds: float = 2.0,
        always: bool = False,
    ) -> None:
        """Fail the next request (or, with `always`, every one) in one of `FAULT_KINDS`.

        A status kind answers that status (429 with the upstream's own throttle page),
        with `Retry-After: retry_after` if given; `seconds` is the gap of a drip and the
        delay of a slow answer. `refused` closes the port until `resume`.
        """
        if kind == "refused":
            self.refuse()
            return
        once = {"always": always}
        if kind.isdigit():
            status = int(kind)
            headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
            if status == self.throttle_status:
                headers["content-type"] = self.throttle_content_type
                self.inject(status, headers, self.throttle_body, **once)
            else:
                self.inject(status, headers, **once)
        elif kind == "html":
            self.inject(200, {"content-type": "text/html; charset=utf-8"}, self.html_page, **once)
        elif kind == "wrong-shape":
            self.inject(body=self.wrong_shape_body, **once)
        elif kind == "slow":
            self.inject(delay=seconds, **once)
        elif kind == "drip":
            self.inject(drip=seconds, **once)
        elif kind in ("hang", "drop", "huge", "endless"):
            self.inject(**{kind: True}, **once)
        elif kind == "malformed":
            self.inject(truncate=True, **once)
        else:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")

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
            self._always = None

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

    def _respond(self, request: RecordedRequest) -> tuple[Response, float, Fault | None]:
        with self._lock:
            self.requests.append(request)
            fault = self._faults.popleft() if self._faults else self._always
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
            if fault.body is not None:
                body = fault.body
                response.body = body.encode() if isinstance(body, str) else body
                response.headers.pop("content-encoding", None)
            if fault.truncate:
                if response.headers.pop("content-encoding", None) == "gzip":
                    response.body = gzip.decompress(response.body)
                response.body = response.body[: len(response.body) // 2]
            if fault.headers:  # last, so a fault may say how its own body is encoded
                response.headers.update(_lower(fault.headers))
            delay += fault.delay
        return response, delay, fault


class _QuietServer(ThreadingHTTPServer):
    """Daemon handler threads; a client hanging up mid-answer is normal, not an error.

    Open connections are tracked, so `refuse` can cut them as a server going away does.
    """

    daemon_threads = True

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        with self._connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)  # type: ignore[arg-type]

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        with self._connections_lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):  # the client may have closed it already
                    connection.shutdown(socket.SHUT_RDWR)

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
            response, delay, fault = owner._respond(request)
            if delay > 0 and owner._closing.wait(delay):
                self.close_connection = True
                return
            if fault is not None and (fault.hang or fault.drop):
                if fault.hang:
                    owner._closing.wait()  # until the server closes: the client must give up
                self.close_connection = True
                return
            length: int | None = len(response.body)
            if fault is not None and fault.huge:
                length = HUGE
            elif fault is not None and fault.endless:
                length = None  # the body ends when the connection does
            try:
                self.send_response(response.status, _reason(response.status))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                if length is None:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(length))
                if fault is not None and fault.drip is not None and fault.drip_headers:
                    self._headers_buffer.append(b"\r\n")  # what end_headers would send
                    status_line, _, rest = b"".join(self._headers_buffer).partition(b"\r\n")
                    self._headers_buffer = []
                    self.wfile.write(status_line + b"\r\n")
                    self._drip(rest + response.body, fault.drip)
                    return
                self.end_headers()
                if self.command != "HEAD":
                    self._send_body(response.body, fault)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (e.g. its timeout fired)

        def _drip(self, data: bytes, every: float) -> None:
            for i in range(len(data)):
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
                if owner._closing.wait(every):
                    break

        def _send_body(self, body: bytes, fault: Fault | None) -> None:
            if fault is not None and fault.drip is not None:
                self._drip(body, fault.drip)
            elif fault is not None and (fault.huge or fault.endless):
                for block in _repeated(body or b" ", HUGE if fault.huge else None):
                    if owner._closing.is_set():
                        break
                    self.wfile.write(block)
            else:
                self.wfile.write(body)

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _serve

        def version_string(self) -> str:
            return owner.server_header or super().version_string()

        def log_message(self, format: str, *args: object) -> None:
            """Silent: the request log is `owner.requests`."""

    return Handler


def _repeated(body: bytes, total: int | None, block: int = 1 << 16) -> Iterator[bytes]:
    """`body` over and over, in blocks, up to `total` bytes (None: for ever)."""
    unit = body * (block // len(body) + 1)
    sent = 0
    while total is None or sent < total:
        chunk = unit[:block] if total is None else unit[: min(block, total - sent)]
        sent += len(chunk)
        yield chunk


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
