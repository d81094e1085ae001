"""The maintainer's loop through the CLI: init, add, show, remove, against the loopback upstreams."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from bib import lock
from bib.cli import main
from bib.project import Project
from tests.conftest import ROOT
from tests.upstreams.fixtures import serving


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    with serving() as env:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield tmp_path


def bib(*args: str):
    return CliRunner().invoke(main, list(args))


def test_init_add_show_remove_in_an_empty_folder(here):
    assert bib("init").exit_code == 0
    added = bib("add", "2309.06180")  # the starter catalog's only category
    assert added.exit_code == 0, added.output
    locked = lock.read(here / "sources.lock.json")
    (entry_id, held), = locked.items()  # fmt: skip
    assert f"added {entry_id} as {held.key} " in added.output
    assert held.record.type == "paper-conference" and held.record.doi == "10.1145/3600006.3613165"
    bibtex = (here / "output" / "llm-serving.bib").read_text()
    assert f"@inproceedings{{{held.key}," in bibtex
    shown = bib("show", held.key)
    assert shown.exit_code == 0 and '"doi": "10.1145/3600006.3613165"' in shown.output
    assert f"@inproceedings{{{held.key}," in shown.output
    assert bib("check").exit_code == 0
    removed = bib("remove", entry_id)
    assert removed.exit_code == 0, removed.output
    assert lock.read(here / "sources.lock.json") == {}
    assert held.key not in (here / "output" / "llm-serving.bib").read_text()
    assert bib("check").exit_code == 0  # the emptied list is still a list


def _without(text: str, entry_id: str) -> str:
    """The catalog text with one entry's lines cut out by hand (not by the code under test)."""
    lines = text.splitlines(keepends=True)
    start = lines.index(f"  - id: {entry_id}\n")
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("    "))
    return "".join(lines[:start] + lines[end:])


def test_add_leaves_the_rest_of_a_curated_catalog_byte_for_byte(here):
    """Tabi taken out of the real catalog and lock, then added back by its ACM link."""
    before = _without((ROOT / "sources.yaml").read_text(encoding="utf-8"), "tabi")
    (here / "sources.yaml").write_text(before, encoding="utf-8")
    original = json.loads((ROOT / "sources.lock.json").read_text(encoding="utf-8"))
    tabi = original["entries"].pop("tabi")
    (here / "sources.lock.json").write_text(json.dumps(original), encoding="utf-8")
    link = "https://dl.acm.org/doi/pdf/10.1145/3552326.3587438"
    added = bib("add", link, "--category", "misc", "--id", "tabi")
    assert added.exit_code == 0, added.output
    after = (here / "sources.yaml").read_text(encoding="utf-8")
    new = [line for line in after.splitlines() if line not in before.splitlines()]
    assert new == [
        "  - id: tabi",
        "    title: 'Tabi: An Efficient Multi-Level Inference System for Large Language Models'",
        f"    link: {link}",
    ]
    assert after.replace("\n".join(new) + "\n", "") == before
    now = json.loads((here / "sources.lock.json").read_text(encoding="utf-8"))["entries"]
    assert now.pop("tabi")["key"] == tabi["key"]
    assert now == original["entries"]  # no other entry touched


@pytest.mark.parametrize(
    "reference",
    ["2205.14135", "https://arxiv.org/pdf/2205.14135v2.pdf", "10.1145/3552326.3587438",
     "flash-llm: enabling cost-effective and highly-efficient large generative model "
     "inference with unstructured sparsity"],
)  # fmt: skip
def test_the_same_paper_twice_is_refused_and_nothing_is_written(here, reference):
    (here / "sources.yaml").write_bytes((ROOT / "sources.yaml").read_bytes())
    (here / "sources.lock.json").write_bytes((ROOT / "sources.lock.json").read_bytes())
    result = bib("add", reference, "--category", "misc")
    assert result.exit_code == 2 and "already in the catalog as '" in result.output
    assert (here / "sources.yaml").read_bytes() == (ROOT / "sources.yaml").read_bytes()
    assert not (here / "output").exists()


def test_an_unresolvable_title_is_added_exits_1_and_keeps_its_key(here):
    assert bib("init").exit_code == 0
    added = bib("add", "A Paper No Upstream Has Heard Of", "--new-category", "Drafts")
    assert added.exit_code == 1, added.output
    held = lock.read(here / "sources.lock.json")["a-paper-no-upstream-has-heard-of"]
    assert held.record.source == "catalog" and held.key == "paper"
    assert "name: Drafts" in (here / "sources.yaml").read_text()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["add", "2309.06180", "--category", "nosuch"], "no category 'nosuch' (known: papers)"),
        (["add", "2309.06180", "--category", "papers", "--new-category", "X"], "not both"),
        (["add", "https://github.com/x/y", "--category", "papers"], "names no paper"),
        (
            ["add", "https://proceedings.mlr.press/v202/sheng23a.html"],
            "give the title with --title",
        ),
        (["show", "nosuch"], "no entry with id or citation key 'nosuch'"),
        (["remove", "nosuch"], "no entry with id 'nosuch'"),
    ],
)
def test_mistakes_are_one_line(here, args, words):
    assert bib("init").exit_code == 0
    result = bib(*args)
    assert result.exit_code == 2 and words in result.output and result.output.count("\n") == 1


def test_init_never_overwrites_and_writes_a_workflow_actionlint_accepts(here):
    asked = bib("init", "--ci")  # an editable install names no place a runner could fetch
    assert asked.exit_code == 2 and "give --source" in asked.output
    assert not (here / "sources.yaml").exists()
    source = "git+https://example.org/lab/bib@v1"
    assert bib("init", "--ci", "--source", source).exit_code == 0
    again = bib("init")
    assert again.exit_code == 2 and "exists" in again.output
    workflow = here / ".github" / "workflows" / "bib.yml"
    assert "bib check" in workflow.read_text() and f"BIB_SOURCE: '{source}'" in workflow.read_text()
    actionlint = str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "actionlint")
    done = subprocess.run([actionlint, str(workflow)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    # The check can fail: the same workflow with a step that uses an undefined context.
    broken = here / "broken.yml"
    broken.write_text(
        workflow.read_text().replace("run: bib check", "run: bib check ${{ nope.x }}")
    )
    assert subprocess.run([actionlint, str(broken)], capture_output=True).returncode == 1


def test_init_title_is_one_yaml_scalar_whatever_it_holds(here):
    title = "Bob's list: {x} # not a comment"
    assert bib("init", "--title", title).exit_code == 0
    assert Project.load().catalog.title == title
    (here / "sources.yaml").unlink()
    refused = bib("init", "--title", "two\nlines")
    assert refused.exit_code == 2 and not (here / "sources.yaml").exists()


@pytest.mark.parametrize("command", ["build", "check", "resolve", "stats", "show"])
def test_outside_a_project_every_command_says_how_to_start(here, command):
    result = bib(command, *(["x"] if command == "show" else []))
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "no catalog here; start one with `bib init`" in result.output
