"""Conformance: real awesome lists of every shape, against counts and titles checked by hand.

The lists under an open licence (MIT) are committed, byte for byte at the recorded commit,
with their licence beside them (tests/data/awesome-lists/<name>.md and .LICENSE), so they
always run. The others carry no licence, so they may not be copied here: they are read from
../shared/corpora/awesome-lists/<name>.md (or the folder named by $BIB_AWESOME_LISTS) where a
maintainer has placed them. The expectations (tests/data/awesome-lists.yaml) are facts read
off each list by hand.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest
import yaml

from bib import paper_links
from bib.markdown_entry import clean
from bib.markdown_import import parse_document
from tests.conftest import CORPORA, ROOT

EXPECTED = yaml.safe_load((ROOT / "tests" / "data" / "awesome-lists.yaml").read_text("utf-8"))
FOLDER = Path(os.environ.get("BIB_AWESOME_LISTS") or CORPORA / "awesome-lists")
COMMITTED = ROOT / "tests" / "data" / "awesome-lists"


def import_list(name: str):
    path = COMMITTED / f"{name}.md"
    if not path.exists():
        path = FOLDER / f"{name}.md"
    return _imported(path, name)


@functools.cache
def _imported(path: Path, name: str):
    if not path.exists():
        pytest.skip(
            f"{path} is not on this machine: lists without a licence are not committed; "
            f"place them in {CORPORA / 'awesome-lists'} or set BIB_AWESOME_LISTS"
        )
    expected = EXPECTED[name]
    text = path.read_text(encoding="utf-8")
    result = parse_document(text, path.name, exclude=expected.get("exclude", ()))
    entries = [(c["name"], p) for c in result.catalog["categories"] for p in c["papers"]]
    return expected, result, entries


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_paper_count_within_five_percent(name):
    expected, _, entries = import_list(name)
    target = expected["unique_papers"]
    assert abs(len(entries) - target) <= 0.05 * target, (len(entries), target)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_titles_exact(name):
    expected, _, entries = import_list(name)
    titles_by_link: dict[str | None, set[str]] = {}
    for _, paper in entries:
        titles_by_link.setdefault(paper.get("link"), set()).add(paper["title"])
    every_title = {paper["title"] for _, paper in entries}
    misses = [
        sample
        for sample in expected["samples"]
        if sample["title"]
        not in (
            titles_by_link.get(sample["link"], set())
            if paper_links.is_web_url(sample["link"])
            else every_title  # a relative link cannot be kept: the title must be there
        )
    ]
    assert len(misses) <= 0.1 * len(expected["samples"]), misses


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_at_most_two_percent_non_papers(name):
    """Entries outside the list's paper categories, or linking no paper, are suspects."""
    expected, _, entries = import_list(name)
    categories = set(expected["categories"])
    suspects = [
        (category, paper["title"])
        for category, paper in entries
        if clean(category) not in categories or paper_links.rank(paper.get("link") or "") is None
    ]
    assert len(suspects) <= 0.02 * len(entries), suspects


def test_expectations_are_complete():
    """Every list has its provenance, licence, counts and 20 samples with http(s) or file links."""
    assert len(EXPECTED) >= 7
    for name, expected in EXPECTED.items():
        assert expected["source"].count("@") == 1 and ":" in expected["source"], name
        assert expected["license"] and expected["unique_papers"] <= expected["paper_entries"]
        assert len(expected["samples"]) == 20, name
