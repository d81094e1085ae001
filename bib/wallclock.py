"""Sockets that stop at a wall-clock limit, under httpx2's own transport.

httpcore applies its timeouts to each socket operation, so a server that sends
one byte every few seconds never trips them. Here every connect, read and write
gets at most what is left until `ClippedBackend.until`, the end of the current
attempt, which `bib.http` sets before each one: no answer, however it trickles,
outlasts its attempt.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable
from typing import Any

import httpcore2
import httpx2


class ClippedBackend(httpcore2.NetworkBackend):
    """Streams whose every operation ends by `until`, the end of the current attempt."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.until: float | None = None
        self._clock = clock
        self._inner = httpcore2.SyncBackend()

    def clip(self, timeout: float | None, on_expiry: type[Exception]) -> float | None:
        if self.until is None:
            return timeout
        left = self.until - self._clock()
        if left <= 0:
            raise on_expiry("the attempt's time limit passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        timeout = self.clip(timeout, httpcore2.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _ClippedStream(stream, self)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.NetworkStream:
        timeout = self.clip(timeout, httpcore2.ConnectTimeout)
        return _ClippedStream(self._inner.connect_unix_socket(path, timeout, socket_options), self)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _ClippedStream(httpcore2.NetworkStream):
    def __init__(self, stream: httpcore2.NetworkStream, backend: ClippedBackend) -> None:
        self._stream, self._backend = stream, backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._backend.clip(timeout, httpcore2.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._backend.clip(timeout, httpcore2.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.NetworkStream:
        timeout = self._backend.clip(timeout, httpcore2.ConnectTimeout)
        return _ClippedStream(
            self._stream.start_tls(ssl_context, server_hostname, timeout), self._backend
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


def clipped_transport(backend: ClippedBackend) -> httpx2.HTTPTransport:
    """httpx2's own transport, one connection at a time, over sockets from `backend`.

    httpx2 takes no network backend, so the connection pool it builds is
    replaced by one built with ours (the tests' drip and hang cases fail if
    this stops working).
    """
    transport = httpx2.HTTPTransport(limits=httpx2.Limits(max_connections=1))
    transport._pool = httpcore2.ConnectionPool(
        ssl_context=httpx2.create_ssl_context(), max_connections=1, network_backend=backend
    )
    return transport
