"""The CLI's promise: every failure is one line on stderr and an exit status."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from bib.cli import INTERNAL_ERROR, main
from tests.conftest import ROOT


@pytest.fixture
def project(tmp_path):
    for name in ("sources.yaml", "sources.lock.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def invoke(project, *args):
    return CliRunner().invoke(main, [*args[:-1], args[-1], "--catalog",
                                     str(project / "sources.yaml"),
                                     "--lock", str(project / "sources.lock.json")])  # fmt: skip


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(project, monkeypatch):
    """A bug of ours (here planted in the stats command) never shows a traceback by default."""

    def broken(_project):
        raise ValueError("boom\nsecond line \u202e")

    monkeypatch.setattr("bib.commands.stats.stats", broken)
    result = invoke(project, "stats")
    assert result.exit_code == INTERNAL_ERROR
    assert result.output.count("\n") == 1
    assert "unexpected ValueError: boom second line \\u202e" in result.output
    assert "--debug" in result.output
    debug = CliRunner().invoke(main, ["--debug", "stats", "--catalog",
                                      str(project / "sources.yaml")])  # fmt: skip
    assert isinstance(debug.exception, ValueError)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d.update(entries=[]), "entries must be object"),
        (lambda d: d["entries"]["vllm"]["record"].update(issued=[2023, 13]),
         "record.issued[1] must be smaller than or equal to 12"),
        (lambda d: d["entries"]["vllm"].update(key="a b"), "key 'a b' is not a valid key"),
        (lambda d: d["entries"]["vllm"]["record"].update(pages="1}, note={x"),
         "is not a valid pages"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["build", "check", "stats"])
def test_a_malformed_lock_is_one_line_exit_2_for_every_command(project, change, words, command):
    path = project / "sources.lock.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))
    result = invoke(project, command)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert words in result.output and str(path) in result.output
