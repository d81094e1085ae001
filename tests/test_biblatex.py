"""The BibLaTeX exporter, read back by bibtexparser: biblatex fields, UTF-8 kept."""

from __future__ import annotations

import bibtexparser
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts

from bib.record import Bibliography, Person, Record, Section
from exporters import biblatex
from exporters.latex import escape_specials, protect_title
from tests.conftest import ROOT

PAPER = Record(
    id="vllm",
    key="kwon2023efficient",
    type="paper-conference",
    title="Efficient Memory Management for Large Language Model Serving with PagedAttention",
    authors=(Person("Kwon", "Woosuk"), Person("Li", "Zhuohan"), Person("Łukasz", "Déjà")),
    issued=(2023, 10),
    container_title="Proceedings of the 29th Symposium on Operating Systems Principles",
    collection_title="SOSP '23",
    pages="611-626",
    publisher="ACM",
    publisher_place="Koblenz, Germany",
    doi="10.1145/3600006.3613165",
    arxiv_id="2309.06180",
    arxiv_class="cs.LG",
    url="https://doi.org/10.1145/3600006.3613165",
)
PREPRINT = Record(
    id="dejavu",
    key="strati2024dejavu",
    type="preprint",
    title="DéjàVu: KV-cache Streaming for Fast, Fault-tolerant Generative LLM Serving",
    authors=(Person("Strati", "Foteini"), Person("Müller", "Søren")),
    issued=(2024, 3),
    arxiv_id="2403.01876",
    arxiv_class="cs.DC",
    url="https://arxiv.org/abs/2403.01876",
)
JOURNAL = Record(
    id="j",
    key="xia2023flash",
    type="article-journal",
    title="Flash-LLM: 50% & More_Fast",
    authors=(Person("Xia", "Haojun"),),
    issued=(2023,),
    container_title="Proc. VLDB Endow.",
    volume="17",
    number="2",
    pages="211\u2013224",
)
SOFTWARE = Record(
    id="mii",
    key="microsoft2022deepspeed",
    type="software",
    title="DeepSpeed-MII",
    authors=(Person(literal="Microsoft & Friends"),),
    issued=(2022, 11, 3),
    version="0.2.1",
    url="https://github.com/microsoft/DeepSpeed-MII",
)
MISC = Record(id="orca", key="orca", type="misc", title="Orca", url="https://example.org/a{b}")


def render(*records: Record) -> str:
    return biblatex.render(Bibliography("T", (Section("Cat", "cat", records),)))


def parse_raw(text: str):
    """No decoding: what biber will see, byte for byte."""
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    return {entry.key: entry for entry in library.entries}


def parse_decoded(text: str):
    stack = [LatexDecodingMiddleware(), SeparateCoAuthors(), SplitNameParts()]
    library = bibtexparser.parse_string(text, append_middleware=stack)
    assert library.failed_blocks == []
    return {entry.key: entry for entry in library.entries}


def test_entry_types_follow_the_biblatex_data_model():
    entries = parse_raw(render(PAPER, PREPRINT, JOURNAL, SOFTWARE, MISC))
    assert {key: e.entry_type for key, e in entries.items()} == {
        "kwon2023efficient": "inproceedings",
        "strati2024dejavu": "online",
        "xia2023flash": "article",
        "microsoft2022deepspeed": "software",
        "orca": "misc",
    }


def test_published_paper_fields_and_order():
    text = render(PAPER)
    names = [line.split("=")[0].strip() for line in text.splitlines() if " = " in line]
    assert names == [
        "author", "title", "booktitle", "series", "pages", "date", "publisher", "location",
        "doi", "eprint", "eprinttype", "eprintclass", "url",
    ]  # fmt: skip
    entry = parse_raw(text)["kwon2023efficient"]
    assert entry["date"] == "2023-10"
    assert entry["pages"] == "611--626"
    assert entry["booktitle"] == PAPER.container_title
    assert entry["series"] == "SOSP '23"
    assert entry["location"] == "Koblenz, Germany"
    assert entry["doi"] == PAPER.doi
    # The published version keeps its arXiv identity.
    assert (entry["eprint"], entry["eprinttype"], entry["eprintclass"]) == (
        "2309.06180",
        "arxiv",
        "cs.LG",
    )
    # BibTeX-only fields are gone.
    for bibtex_only in ("year", "month", "journal", "address", "archiveprefix", "primaryclass"):
        assert bibtex_only not in entry.fields_dict
    assert "{PagedAttention}" in entry["title"]


def test_unicode_is_kept_as_unicode():
    text = render(PAPER, PREPRINT)
    assert not text.isascii()
    entries = parse_raw(text)
    assert entries["kwon2023efficient"]["author"].endswith("Łukasz, Déjà")
    assert entries["strati2024dejavu"]["author"] == "Strati, Foteini and Müller, Søren"
    assert entries["strati2024dejavu"]["title"].startswith("{DéjàVu}: {KV}-cache")
    assert "\\'" not in text and "{\\L}" not in text  # no LaTeX accent commands
    names = [(n.last, n.first) for n in parse_decoded(text)["kwon2023efficient"]["author"]]
    assert names[-1] == (["Łukasz"], ["Déjà"])


def test_tex_specials_are_still_escaped():
    text = render(JOURNAL, SOFTWARE)
    entries = parse_raw(text)
    journal = entries["xia2023flash"]
    assert journal["title"] == r"Flash-{LLM}: 50\% \& More\_Fast"
    assert journal["journaltitle"] == "Proc. VLDB Endow."
    assert (journal["volume"], journal["number"], journal["pages"]) == ("17", "2", "211--224")
    assert journal["date"] == "2023"
    assert parse_decoded(text)["xia2023flash"]["title"].replace("{", "").replace("}", "") == (
        "Flash-LLM: 50% & More_Fast"
    )
    software = entries["microsoft2022deepspeed"]
    assert software["author"] == r"{Microsoft \& Friends}"
    assert software["version"] == "0.2.1"
    assert software["date"] == "2022-11-03"


def test_preprint_is_online_with_eprint_fields():
    entry = parse_raw(render(PREPRINT))["strati2024dejavu"]
    assert entry.entry_type == "online"
    assert entry["eprint"] == "2403.01876"
    assert entry["eprinttype"] == "arxiv"
    assert entry["eprintclass"] == "cs.DC"
    assert entry["date"] == "2024-03"
    assert "howpublished" not in entry.fields_dict


def test_url_braces_cannot_break_the_entry():
    entry = parse_raw(render(MISC))["orca"]
    assert entry["url"] == "https://example.org/a%7Bb%7D"


def test_category_headers_and_determinism():
    bib = Bibliography("T", (Section("A / B", "b", (PAPER,)), Section("C", "c", (PREPRINT,))))
    text = biblatex.render(bib)
    assert text.index("@comment{Category: A / B (1 entry)}") < text.index("@inproceedings{kwon")
    assert text.index("@comment{Category: C (1 entry)}") < text.index("@online{strati")
    assert biblatex.render(bib).encode() == text.encode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"& % $ # _ { } ~ ^ \ ", r"\& \% \$ \# \_ \textbraceleft{} \textbraceright{} \textasciitilde{} \textasciicircum{} \textbackslash{} "),
        ("Déjà Vu – Łukasz", "Déjà Vu – Łukasz"),
    ],
)  # fmt: skip
def test_escape_specials_keeps_unicode(text, expected):
    assert escape_specials(text) == expected


def test_protect_title_default_still_encodes_for_bibtex():
    title = "DéjàVu: 50% for LLMs"
    assert protect_title(title) == r"{D{\'e}j{\`a}Vu}: 50\% for {LLMs}"
    assert protect_title(title, keep_unicode=True) == r"{DéjàVu}: 50\% for {LLMs}"


def test_committed_biblatex_output_parses_with_unicode():
    path = ROOT / "output" / "llm-serving.biblatex.bib"
    text = path.read_text(encoding="utf-8")
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    assert len(library.entries) == 47
    assert len({e.key for e in library.entries}) == 47
    assert "{DéjàVu}" in text
    for entry in library.entries:
        assert "year" not in entry.fields_dict and "month" not in entry.fields_dict
        if "eprint" in entry.fields_dict:
            assert entry["eprinttype"] == "arxiv"
    per_category = sorted((ROOT / "output" / "by-category").glob("*.biblatex.bib"))
    assert len(per_category) == 10
    split = [e.key for p in per_category for e in bibtexparser.parse_file(str(p)).entries]
    assert sorted(split) == sorted(e.key for e in library.entries)
