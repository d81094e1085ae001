"""One name per venue, from the venue table (bib/data/venues.yaml)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bib import venues
from bib.cli import main
from bib.record import Record
from tests.conftest import ROOT


def paper(container: str, year: int = 2024, **more) -> Record:
    return Record(id="x", key="k", type="paper-conference", title="T", issued=(year,),
                  container_title=container, **more)  # fmt: skip


def test_every_venue_and_edition_loads():
    table = venues.table()
    assert len({v.key for v in table}) == len(table) >= 13
    assert all(e.titles for v in table for e in v.editions.values())


@pytest.mark.parametrize(
    ("container", "year", "full"),
    [
        ("OSDI", 2024, "18th USENIX Symposium on Operating Systems Design and Implementation (OSDI 24)"),
        ("USENIX Symposium on Operating Systems Design and Implementation (OSDI)", 2022,
         "16th USENIX Symposium on Operating Systems Design and Implementation (OSDI 22)"),
        ("ASPLOS (3)", 2024, "Proceedings of the 29th ACM International Conference on Architectural "
         "Support for Programming Languages and Operating Systems, Volume 3"),
        ("MLSys", 2024, "Proceedings of Machine Learning and Systems"),
        ("OSDI", 2019, "OSDI"),  # no edition in the table: the record's own name stays
    ],
)  # fmt: skip
def test_dblp_and_crossref_names_become_the_publishers_title(container, year, full):
    assert venues.apply(paper(container, year)).container_title == full


def test_publisher_and_address_come_with_the_venue():
    usenix = venues.apply(paper("OSDI", 2024))
    assert (usenix.publisher, usenix.publisher_place) == ("USENIX Association", "Santa Clara, CA")
    acm = venues.apply(
        paper("Proceedings of the 29th Symposium on Operating Systems Principles", 2023)
    )
    assert (acm.publisher, acm.publisher_place) == (
        "Association for Computing Machinery", "New York, NY, USA")  # fmt: skip
    icml = venues.apply(paper("ICML", 2023))
    assert (icml.volume, icml.collection_title) == (
        "202",
        "Proceedings of Machine Learning Research",
    )


def test_short_form_is_rebibers_and_other_records_are_untouched():
    assert venues.apply(paper("OSDI", 2024), "short").container_title == "Proc. of OSDI"
    journal = Record(id="x", key="k", type="article-journal", title="T", issued=(2024,),
                     container_title="Proceedings of the VLDB Endowment")  # fmt: skip
    assert venues.apply(journal, "short").container_title == "PVLDB"
    preprint = Record(id="x", key="k", type="preprint", title="T")
    assert venues.apply(preprint) is preprint
    unknown = paper("Workshop on Something Else")
    assert venues.apply(unknown) is unknown


def test_build_writes_venue_names_in_the_form_asked_for(tmp_path):
    args = ["-q", "build", "--catalog", str(ROOT / "sources.yaml"), "--lock",
            str(ROOT / "sources.lock.json"), "--format", "bibtex", "--output-dir"]  # fmt: skip
    assert CliRunner().invoke(main, [*args, str(tmp_path / "full")]).exit_code == 0
    assert (
        CliRunner().invoke(main, [*args, str(tmp_path / "short"), "--venues", "short"]).exit_code
        == 0
    )
    full = (tmp_path / "full" / "llm-serving.bib").read_text()
    short = (tmp_path / "short" / "llm-serving.bib").read_text()
    assert "booktitle     = {18th USENIX Symposium on Operating Systems Design" in full
    assert "booktitle     = {Proc. of OSDI}" in short and "18th USENIX" not in short
    assert "Proc. of" not in full
