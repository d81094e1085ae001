"""CSL-JSON: the mapping, and every item validated against the official CSL 1.0.2 schema.

Also the one test that runs every registered exporter over every record of the
committed lock.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import bibtexparser
import jsonschema
import pytest

from bib.project import Project
from bib.record import Bibliography, Person, Record, Section
from exporters import REGISTRY, csl_json
from tests.conftest import ROOT

SCHEMA_PATH = Path(__file__).parent / "data" / "csl-data.json"

PAPER = Record(
    id="vllm",
    key="kwon2023efficient",
    type="paper-conference",
    title="Efficient Memory Management for Large Language Model Serving with PagedAttention",
    authors=(Person("Kwon", "Woosuk"), Person("Łukasz", "Déjà"), Person(family="Plato")),
    issued=(2023, 10),
    container_title="Proceedings of the 29th Symposium on Operating Systems Principles",
    collection_title="SOSP '23",
    pages="611\u2013626",
    publisher="ACM",
    publisher_place="Koblenz, Germany",
    doi="10.1145/3600006.3613165",
    arxiv_id="2309.06180",
    arxiv_class="cs.LG",
    url="https://doi.org/10.1145/3600006.3613165",
    categories=("LLM Serving / Memory/KVCache",),
)
PREPRINT = Record(
    id="spotserve",
    key="miao2023spotserve",
    type="preprint",
    title="SpotServe: Serving Generative Large Language Models on Preemptible Instances",
    authors=(Person("Miao", "Xupeng"),),
    issued=(2023,),
    arxiv_id="2311.15566",
    url="https://arxiv.org/abs/2311.15566",
)
JOURNAL = Record(
    id="j",
    key="xia2023flash",
    type="article-journal",
    title="Flash-LLM: 50% & More",
    issued=(2023, 9, 1),
    container_title="Proc. VLDB Endow.",
    volume="17",
    number="2",
    pages="211 -- 224",
)
SOFTWARE = Record(
    id="mii",
    key="microsoft2022deepspeed",
    type="software",
    title="DeepSpeed-MII",
    authors=(Person(literal="Microsoft"),),
    version="0.2.1",
    url="https://github.com/microsoft/DeepSpeed-MII",
)
MISC = Record(id="orca", key="orca", type="misc", title="Orca")


@cache
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def render(*records: Record) -> str:
    return csl_json.render(Bibliography("T", (Section("Cat", "cat", records),)))


def items(*records: Record) -> dict[str, dict]:
    data = json.loads(render(*records))
    validator().validate(data)
    return {item["id"]: item for item in data}


def test_types_follow_csl_1_0_2():
    got = {k: v["type"] for k, v in items(PAPER, PREPRINT, JOURNAL, SOFTWARE, MISC).items()}
    assert got == {
        "kwon2023efficient": "paper-conference",
        "miao2023spotserve": "article",
        "xia2023flash": "article-journal",
        "microsoft2022deepspeed": "book",
        "orca": "article",
    }
    enum = json.loads(SCHEMA_PATH.read_text())["items"]["properties"]["type"]["enum"]
    assert "preprint" not in enum and set(csl_json.CSL_TYPES.values()) <= set(enum)
    # What Zotero's CSL JSON importer accepts: the types of CSL 1.0.1 (its specification,
    # Appendix III), without the ones 1.0.2 added ("document", "software", ...).
    csl_1_0_1 = set(
        [
            "article",
            "article-journal",
            "article-magazine",
            "article-newspaper",
            "bill",
            "book",
            "broadcast",
            "chapter",
            "dataset",
            "entry",
            "entry-dictionary",
            "entry-encyclopedia",
            "figure",
            "graphic",
            "interview",
            "legal_case",
            "legislation",
            "manuscript",
            "map",
            "motion_picture",
            "musical_score",
            "pamphlet",
            "paper-conference",
            "patent",
            "personal_communication",
            "post",
            "post-weblog",
            "report",
            "review",
            "review-book",
            "song",
            "speech",
            "thesis",
            "treaty",
            "webpage",
        ]
    )
    assert set(csl_json.CSL_TYPES.values()) <= csl_1_0_1


def test_published_paper_maps_every_field():
    item = items(PAPER)["kwon2023efficient"]
    assert item == {
        "id": "kwon2023efficient",
        "citation-key": "kwon2023efficient",
        "type": "paper-conference",
        "title": PAPER.title,
        "author": [
            {"family": "Kwon", "given": "Woosuk"},
            {"family": "Łukasz", "given": "Déjà"},
            {"family": "Plato"},
        ],
        "issued": {"date-parts": [[2023, 10]]},
        "container-title": PAPER.container_title,
        "collection-title": "SOSP '23",
        "page": "611-626",
        "publisher": "ACM",
        "publisher-place": "Koblenz, Germany",
        "DOI": "10.1145/3600006.3613165",
        "URL": "https://doi.org/10.1145/3600006.3613165",
        "note": "arXiv:2309.06180 [cs.LG]",
        "keyword": "LLM Serving / Memory/KVCache",
    }


def test_preprint_carries_the_arxiv_id_as_zotero_exports_it():
    item = items(PREPRINT)["miao2023spotserve"]
    assert item["type"] == "article"
    assert item["number"] == "arXiv:2311.15566"
    assert item["publisher"] == "arXiv"
    assert item["note"] == "arXiv:2311.15566"
    assert item["issued"] == {"date-parts": [[2023]]}
    assert "container-title" not in item


def test_journal_software_and_organisations():
    got = items(JOURNAL, SOFTWARE)
    journal = got["xia2023flash"]
    assert (journal["volume"], journal["issue"], journal["page"]) == ("17", "2", "211-224")
    assert journal["issued"] == {"date-parts": [[2023, 9, 1]]}
    assert "author" not in journal and "number" not in journal
    software = got["microsoft2022deepspeed"]
    assert software["author"] == [{"literal": "Microsoft"}]
    assert software["version"] == "0.2.1"
    assert software["genre"] == "Computer software"
    assert "issued" not in software


def test_output_is_sorted_indented_utf8_and_deterministic():
    text = render(PAPER, PREPRINT)
    assert text.endswith("}\n]\n")
    assert "Déjà" in text and "\\u00e9" not in text
    assert text == render(PAPER, PREPRINT)
    first = json.loads(text)[0]
    assert list(first) == sorted(first)
    assert [item["id"] for item in json.loads(text)] == ["kwon2023efficient", "miao2023spotserve"]


def test_the_schema_really_rejects_bad_items():
    """Guard against a vacuous schema: these must fail."""
    for bad in (
        [{"id": "x", "type": "preprint"}],
        [{"id": "x", "type": "article", "eprint": "2311.15566"}],
        [{"id": "x", "type": "article", "issued": {"date-parts": [[2023, 10]], "month": 1}}],
        [{"id": "x", "type": "article", "author": [{"name": "Kwon"}]}],
        [{"type": "article"}],
    ):
        with pytest.raises(jsonschema.ValidationError):
            validator().validate(bad)


def test_committed_output_validates_item_by_item():
    data = json.loads((ROOT / "output" / "llm-serving.json").read_text(encoding="utf-8"))
    assert isinstance(data, list) and len(data) == 47
    for item in data:
        errors = [e.message for e in validator().iter_errors([item])]
        assert errors == [], f"{item['id']}: {errors}"
    assert len({item["id"] for item in data}) == 47
    assert {item["type"] for item in data} <= set(csl_json.CSL_TYPES.values())
    assert all(item.get("keyword") for item in data)


# --- every registered exporter over the committed lock ------------------------------------


@cache
def committed() -> Bibliography:
    return Project.load(ROOT / "sources.yaml", ROOT / "sources.lock.json").bibliography


def locked_records() -> list[Record]:
    return list(committed().records)


def test_committed_lock_has_every_catalog_entry():
    assert len(locked_records()) == 47


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_locked_record_renders_in_every_exporter(name):
    exporter = REGISTRY[name]
    for record in locked_records():
        single = Bibliography("T", (Section("Cat", "cat", (record,)),))
        text = exporter.render(single)
        assert text == exporter.render(single), record.id
        if exporter.suffix.endswith(".svg"):
            ET.fromstring(text)  # a picture carries counts, not citation keys
            continue
        assert record.key and record.key in text, record.id
        if exporter.suffix.endswith(".bib"):
            library = bibtexparser.parse_string(text)
            assert library.failed_blocks == [], record.id
            assert [e.key for e in library.entries] == [record.key]
        elif exporter.suffix == ".json":
            validator().validate(json.loads(text))
        else:
            assert text.count(f"`{record.key}`") == 1, record.id
    whole = exporter.render(committed())
    assert whole == exporter.render(committed())
