"""The progress bar draws on a terminal and stays silent elsewhere."""

from __future__ import annotations

import io

from bib.progress import TerminalBar


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
