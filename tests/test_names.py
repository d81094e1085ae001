"""Our display-name splitter agrees with bibtexparser's on the real names we hold.

The one kind of difference is on purpose: bibtexparser takes every lower-case
word for a "von" particle, so "Kyoo il Kim" would be family "il Kim"; ours
knows the particles ("van", "de", ...) and keeps "il" with the given name.
"""

from __future__ import annotations

import json
import re

import pytest
from bibtexparser.middlewares.names import parse_single_name_into_parts

from bib.sources.names import PARTICLES, split_name
from tests.conftest import ROOT
from tests.corpora import arxiv_responses

FIXTURES = ROOT / "tests" / "fixtures"


def display_names() -> set[str]:
    names: set[str] = set()
    for path in FIXTURES.glob("arxiv/*.xml"):
        names |= set(re.findall(r"<name>(.*?)</name>", path.read_text(encoding="utf-8")))
    for path in FIXTURES.glob("dblp/*.json"):
        authors = json.loads(path.read_text(encoding="utf-8"))["authors"]["author"]
        names |= {a["text"] for a in ([authors] if isinstance(authors, dict) else authors)}
    for _path, _status, body in arxiv_responses():
        names |= set(re.findall(r"<name>(.*?)</name>", body.decode("utf-8")))
    return names


def test_split_name_agrees_with_bibtexparser_on_every_real_name():
    names = display_names()
    assert len(names) > 300
    for name in sorted(names):
        if any(w.islower() and w not in PARTICLES for w in name.split()[1:-1]):
            continue  # bibtexparser's "any lower-case word is a particle"; see the examples
        bare = re.sub(r"\s+\d{4}$", "", name)  # DBLP's homonym number is ours to strip
        parts = parse_single_name_into_parts(bare)
        theirs = (" ".join(parts.von + parts.last), " ".join(parts.first) or None)
        ours = split_name(name)
        assert (ours.family, ours.given) == theirs, name


@pytest.mark.parametrize(
    ("name", "family", "given"),
    [
        ("Joseph E. Gonzalez", "Gonzalez", "Joseph E."),
        ("Hao Zhang 0001", "Zhang", "Hao"),  # DBLP's homonym suffix
        ("Ludwig van der Berg", "van der Berg", "Ludwig"),
        ("Plato", "Plato", None),
        ("Kyoo il Kim", "Kim", "Kyoo il"),  # a real arXiv author; not a particle
        ("Vânia de Oliveira Neves", "de Oliveira Neves", "Vânia"),  # a real arXiv author
    ],
)
def test_split_name_examples(name, family, given):
    person = split_name(name)
    assert (person.family, person.given) == (family, given)
