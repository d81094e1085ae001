"""Citation keys: convention, ASCII folding, collisions and stability."""

from __future__ import annotations

from bib.keys import assign_keys, base_key
from bib.record import Person, Record


def rec(entry_id: str, title: str, family: str | None = "Kwon", year: int | None = 2023) -> Record:
    authors = (Person(family=family, given="W."),) if family else ()
    return Record(entry_id, "", "paper-conference", title, authors, (year,) if year else ())


def test_convention_family_year_first_significant_word():
    record = rec("vllm", "Efficient Memory Management for Large Language Model Serving")
    assert base_key(record) == "kwon2023efficient"
    assert base_key(rec("x", "The Art of Serving: A Study", "Yu", 2022)) == "yu2022art"
    assert base_key(rec("x", "On a flash", "Yu", 2022)) == "yu2022flash"


def test_non_ascii_names_and_titles_fold_to_ascii():
    assert base_key(rec("x", "DéjàVu: KV-cache Streaming", "Strati", 2024)) == "strati2024dejavu"
    assert base_key(rec("x", "Über Alles", "Łukasiewicz", 1920)) == "lukasiewicz1920uber"
    assert base_key(rec("x", "A Paper", "de la Cruz", 2020)) == "delacruz2020paper"


def test_missing_parts_are_skipped_and_organisations_used():
    assert base_key(rec("orca", "Orca: A System", None, None)) == "orca"
    org = Record("mii", "", "software", "DeepSpeed-MII", (Person(literal="Microsoft"),), (2022,))
    assert base_key(org) == "microsoft2022deepspeedmii"  # hyphenated names stay whole


def test_collisions_get_a_b_in_catalog_order():
    records = [rec(f"p{i}", "Efficient Things") for i in range(3)]
    assert assign_keys(records, {}) == {
        "p0": "kwon2023efficient",
        "p1": "kwon2023efficienta",
        "p2": "kwon2023efficientb",
    }


def test_locked_keys_never_change_and_block_new_collisions():
    records = [
        rec("new", "Efficient Things"),
        rec("old", "A Completely Retitled Paper", "Zhu", 2025),
    ]
    keys = assign_keys(records, {"old": "kwon2023efficient"})
    assert keys["old"] == "kwon2023efficient"
    assert keys["new"] == "kwon2023efficienta"


def test_hyphenated_name_is_one_word():
    assert base_key(rec("s", "S-LoRA: Serving Thousands", "Sheng", 2024)) == "sheng2024slora"
