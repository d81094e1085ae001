"""The BibTeX exporter, read back by bibtexparser as a LaTeX user's tools would."""

from __future__ import annotations

import bibtexparser
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts

from bib.record import Bibliography, Person, Record, Section
from exporters import bibtex

PAPER = Record(
    id="vllm",
    key="kwon2023efficient",
    type="paper-conference",
    title="Efficient Memory Management for Large Language Model Serving with PagedAttention",
    authors=(Person("Kwon", "Woosuk"), Person("Li", "Zhuohan"), Person("Łukasz", "Déjà")),
    issued=(2023, 10),
    container_title="Proceedings of the 29th Symposium on Operating Systems Principles",
    pages="611-626",
    publisher="ACM",
    publisher_place="Koblenz, Germany",
    doi="10.1145/3600006.3613165",
    arxiv_id="2309.06180",
    arxiv_class="cs.LG",
    url="https://doi.org/10.1145/3600006.3613165",
)
PREPRINT = Record(
    id="spotserve",
    key="miao2023spotserve",
    type="preprint",
    title="SpotServe: Serving Generative Large Language Models on Preemptible Instances",
    authors=(Person("Miao", "Xupeng"),),
    issued=(2023,),
    arxiv_id="2311.15566",
    arxiv_class="cs.DC",
)
JOURNAL = Record(
    id="j",
    key="xia2023flash",
    type="article-journal",
    title="Flash-LLM: 50% & More",
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
    authors=(Person(literal="Microsoft"),),
    issued=(2022,),
    url="https://github.com/microsoft/DeepSpeed-MII",
)


def parse(text: str):
    stack = [LatexDecodingMiddleware(), SeparateCoAuthors(), SplitNameParts()]
    return bibtexparser.parse_string(text, append_middleware=stack)


def render(*records: Record) -> str:
    return bibtex.render(Bibliography("T", (Section("Cat", "cat", records),)))


def test_round_trip_keeps_every_fact():
    library = parse(render(PAPER))
    assert not library.failed_blocks
    (entry,) = library.entries
    assert entry.entry_type == "inproceedings"
    assert entry.key == "kwon2023efficient"
    names = [(n.last, n.first) for n in entry["author"]]
    assert names == [(["Kwon"], ["Woosuk"]), (["Li"], ["Zhuohan"]), (["Łukasz"], ["Déjà"])]
    assert entry["title"].replace("{", "").replace("}", "") == PAPER.title
    assert entry["booktitle"] == PAPER.container_title
    assert entry["pages"] == "611–626" or entry["pages"] == "611--626"
    assert entry["doi"] == PAPER.doi
    assert entry["eprint"] == "2309.06180"
    assert entry["eprinttype"] == "arxiv"
    assert entry["archiveprefix"] == "arXiv"
    assert entry["primaryclass"] == "cs.LG"


def test_canonical_field_order_and_raw_encoding():
    text = render(PAPER)
    fields = [line.split("=")[0].strip() for line in text.splitlines() if " = " in line]
    assert fields == [
        "author", "title", "booktitle", "pages", "year", "month", "publisher", "address", "doi",
        "eprint", "archiveprefix", "primaryclass", "eprinttype", "url",
    ]  # fmt: skip
    assert "pages         = {611--626}" in text
    assert "month         = oct," in text  # a macro, so every style can abbreviate it
    assert r"{\L}ukasz, D{\'e}j{\`a}" in text
    assert text.isascii()


def test_entry_types_per_record_type():
    library = parse(render(PAPER, PREPRINT, JOURNAL, SOFTWARE))
    types = {e.key: e.entry_type for e in library.entries}
    assert types == {
        "kwon2023efficient": "inproceedings",
        "miao2023spotserve": "misc",
        "xia2023flash": "article",
        "microsoft2022deepspeed": "misc",
    }
    journal = next(e for e in library.entries if e.key == "xia2023flash")
    assert journal["journal"] == "Proc. VLDB Endow."
    assert (journal["volume"], journal["number"], journal["pages"]) == ("17", "2", "211–224")
    assert "50% & More" in journal["title"]
    software = next(e for e in library.entries if e.key == "microsoft2022deepspeed")
    assert software["author"][0].last == ["Microsoft"]


def test_preprint_carries_every_arxiv_field():
    (entry,) = parse(render(PREPRINT)).entries
    assert entry["eprint"] == "2311.15566"
    assert entry["archiveprefix"] == "arXiv"
    assert entry["primaryclass"] == "cs.DC"
    assert entry["eprinttype"] == "arxiv"
    assert entry["howpublished"] == "arXiv preprint arXiv:2311.15566"


def test_category_header_comments_precede_their_entries():
    bib = Bibliography("T", (Section("A / B", "b", (PAPER,)), Section("C", "c", (PREPRINT,))))
    text = bibtex.render(bib)
    assert text.index("@comment{Category: A / B (1 entry)}") < text.index("@inproceedings{kwon")
    assert text.index("@comment{Category: C (1 entry)}") < text.index("@misc{miao")
