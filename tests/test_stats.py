"""`bib.stats` counts and the `stats-svg` picture of them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bib.commands.stats import format_table
from bib.commands.stats import stats as project_stats
from bib.project import Project
from bib.record import Bibliography, Record, Section
from bib.stats import Stats, summarize, top
from bib.venues import short_name
from exporters import REGISTRY, stats_svg
from tests.conftest import ROOT

SVG = "{http://www.w3.org/2000/svg}"


def rec(
    rid: str,
    type_: str = "paper-conference",
    year: int | None = 2023,
    venue: str | None = None,
    doi: str | None = None,
    arxiv: str | None = None,
) -> Record:
    return Record(
        id=rid,
        key=rid,
        type=type_,  # type: ignore[arg-type]
        title=f"Title of {rid}",
        issued=(year,) if year else (),
        container_title=venue,
        doi=doi,
        arxiv_id=arxiv,
    )


OSDI = "18th USENIX Symposium on Operating Systems Design and Implementation (OSDI 24)"
SOSP = "Proceedings of the 29th Symposium on Operating Systems Principles"


def sample() -> Bibliography:
    """Three categories (one empty), six records: 2 OSDI, 1 SOSP, 2 arXiv, 1 software."""
    scheduling = (
        rec("a", year=2024, venue=OSDI, doi="10.1/a", arxiv="2401.00001"),
        rec("b", "preprint", 2024, arxiv="2402.00002"),
        rec("c", year=2022, venue=SOSP, doi="10.1/c"),
    )
    memory = (
        rec("d", "preprint", 2023, arxiv="2303.00004"),
        rec(
            "e",
            year=2024,
            venue="  USENIX   Symposium on Operating Systems Design and Implementation",
        ),
        rec("f", "software", None),
    )
    return Bibliography(
        "Test <List> & Co",
        (
            Section("Scheduling", "scheduling", scheduling),
            Section("Memory", "memory", memory),
            Section("Empty", "empty", ()),
        ),
    )


def test_summarize_counts_hand_built_records():
    stats = summarize(sample())
    assert stats == Stats(
        title="Test <List> & Co",
        categories=(("Scheduling", 3), ("Memory", 3), ("Empty", 0)),
        years=(("2022", 1), ("2023", 1), ("2024", 3), ("no year", 1)),
        # arXiv and OSDI tie at 2: by name; SOSP and software tie at 1: by name, case-insensitively.
        venues=(("arXiv", 2), ("OSDI", 2), ("software", 1), ("SOSP", 1)),
        papers=6,
        published=3,
        preprints=2,
        software=1,
        with_doi=2,
        with_arxiv=3,
    )


def test_an_empty_bibliography_has_zero_counts_and_still_renders():
    stats = summarize(Bibliography("Nothing", ()))
    assert (stats.papers, stats.categories, stats.years, stats.venues) == (0, (), (), ())
    assert format_table(stats).startswith("Nothing: 0 papers (0 published, 0 preprints;")
    ET.fromstring(stats_svg.render(Bibliography("Nothing", ())))


@pytest.mark.parametrize(
    ("container", "short"),
    [
        ("Proceedings of the ACM SIGOPS 30th Symposium on Operating Systems Principles", "SOSP"),
        ("USENIX Symposium on Operating Systems Design and Implementation (OSDI)", "OSDI"),
        (
            "Proceedings of the 29th ACM International Conference on Architectural Support for "
            "Programming Languages and Operating Systems, Volume 2",
            "ASPLOS",
        ),
        ("Advances in Neural Information Processing Systems (NeurIPS)", "NeurIPS"),
        ("Proceedings of the 40th International Conference on Machine Learning", "ICML"),
        ("Conference on Machine Learning and Systems (MLSys)", "MLSys"),
        ("USENIX Annual Technical Conference (USENIX ATC)", "USENIX ATC"),
        ("Proceedings of the Eighteenth European Conference on Computer Systems", "EuroSys"),
        (
            "SC22: International Conference for High Performance Computing, Networking, "
            "Storage and Analysis",
            "SC",
        ),
        ("Proceedings of the VLDB Endowment", "PVLDB"),
        (
            "Proceedings of the 62nd Annual Meeting of the Association for Computational "
            "Linguistics (Volume 1: Long Papers)",
            "ACL",
        ),
        ("Journal of  Obscure\nThings", "Journal of Obscure Things"),  # fallback, spaces folded
    ],
)
def test_short_venue(container, short):
    assert short_name(container) == short


def test_top_adds_the_rest_up_as_other():
    counts = tuple((f"v{i:02}", 20 - i) for i in range(15))
    assert top(counts, 12) == (*counts[:12], ("other", 8 + 7 + 6))
    assert top(counts[:12], 12) == counts[:12]


def test_format_table_is_aligned_with_bars_scaled_to_the_maximum():
    text = format_table(summarize(sample()))
    bar40, bar20 = "█" * 40, "█" * 20
    assert text == (
        "Test <List> & Co: 6 papers (3 published, 2 preprints, 1 software; "
        "2 with DOI, 3 with arXiv id)\n"
        "\n"
        "Papers per category\n"
        f"  Scheduling  3  {bar40}\n"
        f"  Memory      3  {bar40}\n"
        "  Empty       0\n"
        "\n"
        "Papers per year\n"
        f"  2022        1  {'█' * 13}\n"  # 40 / 3 = 13.3
        f"  2023        1  {'█' * 13}\n"
        f"  2024        3  {bar40}\n"
        f"  no year     1  {'█' * 13}\n"
        "\n"
        "Papers per venue\n"
        f"  arXiv       2  {bar40}\n"
        f"  OSDI        2  {bar40}\n"
        f"  software    1  {bar20}\n"
        f"  SOSP        1  {bar20}\n"
    )


def parse(svg: str) -> ET.Element:
    assert svg.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg ')
    return ET.fromstring(svg.encode("utf-8"))


def texts(root: ET.Element, cls: str) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == cls]


def bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]


def test_svg_has_one_labelled_bar_per_count():
    root = parse(stats_svg.render(sample()))
    assert root.get("width") == "900"
    # 3 categories + 4 years + 4 venues
    assert len(bars(root)) == 11
    assert texts(root, "label") == [
        "Scheduling", "Memory", "Empty",
        "2022", "2023", "2024", "no year",
        "arXiv", "OSDI", "software", "SOSP",
    ]  # fmt: skip
    assert texts(root, "count") == ["3", "3", "0", "1", "1", "3", "1", "2", "2", "1", "1"]
    assert texts(root, "title") == ["Test <List> & Co"]  # escaped in the file, intact once parsed
    assert [bar.find(f"{SVG}title").text for bar in bars(root)][:3] == [
        "Scheduling: 3",
        "Memory: 3",
        "Empty: 0",
    ]
    widths = [float(bar.get("width")) for bar in bars(root)]
    longest = widths[0]
    assert longest > 300
    assert widths[:3] == [longest, longest, 0]
    assert widths[7:] == pytest.approx([longest, longest, longest / 2, longest / 2], abs=0.1)


def test_svg_shows_the_top_12_venues_and_other_and_cuts_long_labels():
    long_venue = "Proceedings of a Workshop Whose Name Goes On and On and On Forever, Volume 7"
    records = tuple(
        rec(f"p{i:02}", venue=f"Venue {chr(ord('A') + i)}" if i else long_venue) for i in range(15)
    )
    root = parse(stats_svg.render(Bibliography("T", (Section("Only", "only", records),))))
    labels = texts(root, "label")
    assert len(bars(root)) == 1 + 1 + 13  # one category, one year, 12 venues + other
    assert labels[-1] == "other" and texts(root, "count")[-1] == "3"
    cut = next(label for label in labels if label.startswith("Proceedings"))
    assert cut.endswith("…") and len(cut) < len(long_venue)
    tooltips = [bar.find(f"{SVG}title").text for bar in bars(root)]
    assert f"{long_venue}: 1" in tooltips


def test_svg_is_byte_identical_across_calls():
    assert stats_svg.render(sample()) == stats_svg.render(sample())
    assert " id=" not in stats_svg.render(sample())


def test_svg_is_registered():
    exporter = REGISTRY["stats-svg"]
    assert (exporter.suffix, exporter.per_category) == ("-stats.svg", False)
    assert exporter.module == "stats_svg" and exporter.description
    assert exporter.render(sample()) == stats_svg.render(sample())


def committed() -> Bibliography:
    project = Project.load(ROOT / "sources.yaml", ROOT / "sources.lock.json")
    assert project.unresolved == []
    return project.bibliography


def test_committed_lock():
    stats = summarize(committed())
    assert stats.papers == 47
    assert len(stats.categories) == 10
    assert sum(count for _label, count in stats.categories) == 47
    assert sum(count for _label, count in stats.years) == 47
    assert sum(count for _label, count in stats.venues) == 47
    # README: 30 peer-reviewed, 16 arXiv preprints, DeepSpeed-MII as software, 17 DOIs.
    assert (stats.published, stats.preprints, stats.software, stats.with_doi) == (30, 16, 1, 17)
    assert dict(stats.venues)["arXiv"] == 16


def test_load_reads_the_catalog_and_the_lock():
    project = Project.load(ROOT / "sources.yaml", ROOT / "sources.lock.json")
    assert project_stats(project) == summarize(committed())


def test_committed_svg_is_what_the_exporter_renders():
    committed_svg = (ROOT / "output" / "llm-serving-stats.svg").read_text(encoding="utf-8")
    assert committed_svg == stats_svg.render(committed())
    assert len(bars(parse(committed_svg))) == 10 + len(summarize(committed()).years) + len(
        summarize(committed()).venues
    )
