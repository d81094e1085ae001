"""One written form per person, and only for the same person."""

from __future__ import annotations

from bib.people import folded, one_form
from bib.record import Person, Record


def paper(n: int, *people: Person) -> Record:
    return Record(id=f"p{n}", key=f"k{n}", type="misc", title=f"T{n}", authors=people)


RE_ACCENT, RE_PLAIN = Person("Ré", "Christopher"), Person("Re", "Christopher")
DAO, ZHANG, OTHER = Person("Dao", "Tri"), Person("Zhang", "Ce"), Person("Lovelace", "Ada")


def test_names_fold_to_the_same_letters():
    assert folded(RE_ACCENT) == folded(RE_PLAIN) == "christopherre"
    assert folded(Person("McAllister", "Sara")) == folded(Person("Mcallister", "Sara"))


def test_linked_papers_take_the_richest_form_through_a_chain_of_co_authors():
    records = [paper(1, DAO, RE_ACCENT), paper(2, DAO, RE_PLAIN, ZHANG), paper(3, ZHANG, RE_PLAIN)]
    out = one_form(records)
    assert [r.authors for r in out] == [
        (DAO, RE_ACCENT), (DAO, RE_ACCENT, ZHANG), (ZHANG, RE_ACCENT)]  # fmt: skip
    assert out[0] is records[0]  # unchanged records are the same objects


def test_capitals_the_person_writes_win():
    records = [
        paper(1, Person("Mcallister", "Sara"), DAO),
        paper(2, Person("McAllister", "Sara"), DAO),
    ]
    assert {r.authors[0].family for r in one_form(records)} == {"McAllister"}


def test_the_same_name_in_unrelated_papers_is_left_alone():
    records = [paper(1, RE_ACCENT, DAO), paper(2, RE_PLAIN, OTHER)]
    assert one_form(records) == records
