"""Progress on stderr: a bar on a terminal, a line every few seconds elsewhere (CI, pipes).

A run that waits on a slow upstream must still show it is alive in a CI log,
where a bar redrawn with `\\r` would be noise, so off a terminal a background
thread writes one plain line every few seconds until the run ends.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

WIDTH = 30


class Progress:
    """Callable as `progress(done, total, label)`; a context manager that ends its output.

    This base reports nothing (--quiet). `follow` hands a reporter a count of the
    requests sent, for those that show one.
    """

    def __init__(self) -> None:
        self.requests: Callable[[], int] | None = None

    def follow(self, requests: Callable[[], int]) -> None:
        self.requests = requests

    def __call__(self, done: int, total: int, label: str) -> None:
        """Silent."""

    def close(self) -> None:
        """Nothing to end unless a subclass drew something."""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()  # also when the run fails, so its error starts on a line of its own


class TerminalBar(Progress):
    """A one-line bar redrawn in place; silent when not on a terminal."""

    def __init__(self, enabled: bool = True, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.drawn = False

    def __call__(self, done: int, total: int, label: str) -> None:
        if not self.enabled or total <= 0:
            return
        filled = WIDTH * done // total
        bar = "#" * filled + "-" * (WIDTH - filled)
        self.stream.write(f"\r[{bar}] {done}/{total} {label[:40]:<40}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.drawn = False


class ProgressLines(Progress):
    """One line every `every` seconds, e.g. `resolve: 12/47 entries, 34 requests, 12 s`."""

    def __init__(
        self,
        name: str,
        unit: str,
        stream: TextIO | None = None,
        every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.name, self.unit = name, unit
        self.stream = stream or sys.stderr
        self.every = every
        self._clock = clock
        self._started = clock()
        self._done = self._total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._thread.start()

    def __call__(self, done: int, total: int, label: str) -> None:
        self._done, self._total = done, total

    def line(self) -> str:
        parts = [f"{self._done}/{self._total} {self.unit}"] if self._total else []
        if self.requests is not None:
            parts.append(f"{self.requests()} requests")
        parts.append(f"{self._clock() - self._started:.0f} s")
        return f"{self.name}: {', '.join(parts)}"

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def progress_for(
    name: str, unit: str, enabled: bool = True, stream: TextIO | None = None
) -> Progress:
    """The bar on a terminal, lines elsewhere, nothing when `enabled` is false (--quiet)."""
    stream = stream or sys.stderr
    if not enabled:
        return Progress()
    if stream.isatty():
        return TerminalBar(stream=stream)
    return ProgressLines(name, unit, stream=stream)
