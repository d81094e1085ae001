"""Catalog validation: each kind of bad input names file, line and entry."""

from __future__ import annotations

import pytest

from bib import catalog
from bib.errors import CatalogError
from bib.ids import Identifier
from tests.conftest import ROOT

GOOD = """\
title: T
categories:
  - name: Cat One
    papers:
      - id: alpha
        title: "Alpha: A Paper"
        link: https://arxiv.org/abs/2309.06180
      - id: beta
        title: Beta
        doi: 10.1145/3600006.3613165
        note: the list links the wrong page
"""


def test_good_catalog_loads():
    loaded = catalog.parse(GOOD, "s.yaml")
    assert [e.id for e in loaded.entries] == ["alpha", "beta"]
    assert loaded.categories[0].slug == "cat-one"
    assert loaded.entries[1].pins == (Identifier("doi", "10.1145/3600006.3613165"),)
    assert loaded.entries[0].line == 5


def test_committed_catalog_loads():
    loaded = catalog.load(ROOT / "sources.yaml")
    assert len(loaded.entries) == 47
    assert len(loaded.categories) == 10


@pytest.mark.parametrize(
    ("text", "line", "entry", "words"),
    [
        (
            GOOD.replace('title: "Alpha: A Paper"', 'title: "Alpha: [unclosed'),
            12,
            None,
            "quoted scalar started on line 6",
        ),
        (GOOD.replace('        title: "Alpha: A Paper"\n', ""), 5, "alpha", "has no 'title'"),
        (GOOD.replace("id: beta", "id: alpha"), 8, "alpha", "duplicate id (first used on line 5)"),
        (GOOD.replace("        link:", "        lnk:"), 7, "alpha", "unknown field 'lnk'"),
        (GOOD.replace("10.1145/3600006.3613165", "10.1145"), 10, "beta", "is not a DOI"),
        (
            GOOD.replace("doi: 10.1145/3600006.3613165", "arxiv: 2309.6180"),
            10,
            "beta",
            "not an arXiv id",
        ),
        (
            GOOD.replace("        note: the list links the wrong page\n", ""),
            8,
            "beta",
            "needs a 'note'",
        ),
        (GOOD.replace("id: beta", "id: Beta Two"), 8, "Beta Two", "not a lower-case slug"),
        (
            GOOD.replace("        title: Beta\n", "        title: Beta\n        title: Again\n"),
            10,
            "beta",
            "duplicate field 'title'",
        ),
        (
            GOOD.replace("        link:", "        ? [a, b]\n        : x\n        link:"),
            7,
            "alpha",
            "field names in paper must be plain text",
        ),
        (
            GOOD.replace("https://arxiv.org/abs/2309.06180", "javascript:alert(1)"),
            7,
            "alpha",
            "link 'javascript:alert(1)' is not an http(s) URL",
        ),
        (
            GOOD.replace("https://arxiv.org/abs/2309.06180", "data:text/html,x"),
            7,
            "alpha",
            "is not an http(s) URL",
        ),
        (
            GOOD.replace("        link:", "        aliases: [~]\n        link:"),
            7,
            "alpha",
            "'aliases' must be a list of titles",
        ),
        (
            GOOD.replace("Alpha: A Paper", "Alpha\u202e: A Paper"),
            6,
            "alpha",
            "holds control or bidirectional formatting characters",
        ),
        (GOOD.replace("10.1145/3600006.3613165", '"10.1145/x\\nabc"'), 10, "beta", "is not a DOI"),
        (GOOD.replace("Beta", "Be\x00ta"), 9, None, "control characters are not allowed"),
    ],
    ids=[
        "yaml",
        "no-title",
        "dup-id",
        "unknown-field",
        "bad-doi",
        "bad-arxiv",
        "pin-no-note",
        "bad-id",
        "dup-field",
        "complex-key",
        "javascript-link",
        "data-link",
        "null-alias",
        "bidi-title",
        "newline-in-value",
        "nul-byte",
    ],
)
def test_bad_input_names_file_line_and_entry(text, line, entry, words):
    with pytest.raises(CatalogError) as info:
        catalog.parse(text, "s.yaml")
    error = info.value
    assert (error.path, error.line, error.entry) == ("s.yaml", line, entry)
    assert words in str(error)
    assert str(error).startswith(f"s.yaml:{line}: ")
    assert "\n" not in str(error) and "\u202e" not in str(error) and "\x00" not in str(error)


def test_empty_and_non_mapping_catalogs():
    with pytest.raises(CatalogError, match="empty"):
        catalog.parse("", "s.yaml")
    with pytest.raises(CatalogError, match="must be a mapping"):
        catalog.parse("- a\n- b\n", "s.yaml")


def test_missing_file():
    with pytest.raises(CatalogError, match=r"no catalog here; start one with `bib init`"):
        catalog.load(ROOT / "no-such.yaml")
