"""Progress: a bar on a terminal, a plain line every few seconds elsewhere, nothing if quiet."""

from __future__ import annotations

import io
import time

from bib.progress import Progress, ProgressLines, TerminalBar, progress_for


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_draws_on_a_terminal_and_ends_its_line():
    out = FakeTerminal()
    bar = TerminalBar(stream=out)
    bar(3, 4, "orca")
    bar.close()
    assert out.getvalue().startswith("\r[" + "#" * 22 + "-" * 8 + "] 3/4 orca")
    assert out.getvalue().endswith("\n")


def test_bar_is_silent_off_a_terminal_or_when_quiet():
    piped = io.StringIO()
    TerminalBar(stream=piped)(1, 2, "x")
    quiet = FakeTerminal()
    TerminalBar(enabled=False, stream=quiet)(1, 2, "x")
    assert piped.getvalue() == "" and quiet.getvalue() == ""


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_off_a_terminal_say_entries_requests_and_seconds():
    out, clock = io.StringIO(), Clock()
    with ProgressLines("resolve", "entries", stream=out, every=3600, clock=clock) as lines:
        assert lines.line() == "resolve: 0 s"  # before the first entry: no count yet
        lines.follow(lambda: 34)
        lines(120, 500, "orca")
        clock.now += 12.4
        assert lines.line() == "resolve: 120/500 entries, 34 requests, 12 s"
    assert out.getvalue() == ""  # nothing is drawn before `every` seconds have passed


def test_lines_are_written_every_few_seconds_until_closed():
    out = io.StringIO()
    with ProgressLines("resolve", "entries", stream=out, every=0.01) as lines:
        lines(3, 47, "orca")
        for _ in range(500):  # bounded: at most 5 s
            if out.getvalue().count("\n") >= 2:
                break
            time.sleep(0.01)
    written = out.getvalue()
    assert written.splitlines()[0].startswith("resolve: 3/47 entries, ")
    assert "\r" not in written
    settled = written
    time.sleep(0.05)
    assert out.getvalue() == settled  # closed: no more lines


def test_the_reporter_follows_the_stream_and_quiet():
    assert isinstance(progress_for("resolve", "entries", stream=FakeTerminal()), TerminalBar)
    with progress_for("resolve", "entries", stream=io.StringIO()) as piped:
        assert isinstance(piped, ProgressLines)
    quiet_out = io.StringIO()
    with progress_for("resolve", "entries", enabled=False, stream=quiet_out) as quiet:
        quiet(1, 2, "x")
    assert type(quiet) is Progress and quiet_out.getvalue() == ""
