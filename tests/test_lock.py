"""The lock file: round trip, stable text, clear errors."""

from __future__ import annotations

import json

import pytest

from bib import lock
from bib.errors import LockError
from bib.lock import LockedEntry
from bib.record import Person, Record

RECORD = Record(
    id="orca",
    key="yu2022orca",
    type="paper-conference",
    title="Orca: A Distributed Serving System for Transformer-Based Generative Models",
    authors=(Person("Yu", "Gyeong-In"), Person("Jeong", "Joo Seong")),
    issued=(2022, 7),
    container_title="16th USENIX Symposium on Operating Systems Design and Implementation (OSDI 22)",
    pages="521--538",
    source="dblp",
    retrieved="2026-11-24",
)


def test_round_trip(tmp_path):
    path = tmp_path / "sources.lock.json"
    entries = {"orca": LockedEntry(RECORD, ("url:https://www.usenix.org/x",))}
    lock.write(path, entries)
    assert lock.read(path) == entries


def test_text_is_sorted_one_field_per_line_and_order_independent():
    other = RECORD.with_(id="b", key="b2022")
    one = lock.dumps({"orca": LockedEntry(RECORD), "b": LockedEntry(other)})
    two = lock.dumps({"b": LockedEntry(other), "orca": LockedEntry(RECORD)})
    assert one == two
    assert one.endswith("}\n")
    assert '      "pages": "521--538",\n' in one
    data = json.loads(one)
    assert list(data["entries"]) == ["b", "orca"]
    assert "categories" not in data["entries"]["orca"]["record"]


def test_missing_lock_is_empty(tmp_path):
    assert lock.read(tmp_path / "absent.json") == {}


def test_malformed_json_names_line(tmp_path):
    path = tmp_path / "l.json"
    path.write_text('{\n  "lock_version": 1,\n  "entries": {,}\n}\n')
    with pytest.raises(LockError) as info:
        lock.read(path)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path}:3: malformed JSON")


def test_bad_record_names_entry():
    text = json.dumps(
        {
            "lock_version": 1,
            "entries": {"x": {"key": "k", "record": {"type": "book", "title": "T"}}},
        }
    )
    with pytest.raises(LockError, match=r"entry 'x': record\.type must be one of"):
        lock.loads(text, "l.json")


def test_a_checked_lock_is_read_again_entry_by_entry(tmp_path, monkeypatch):
    """The second read of the same bytes cuts the lock into entries instead of parsing it
    whole; the records must be those the full, checked read gave."""
    from tests.conftest import ROOT

    monkeypatch.setenv("BIB_CACHE_DIR", str(tmp_path / "cache"))
    raw = (ROOT / "sources.lock.json").read_bytes()
    checked = lock.loads(raw)
    known = lock.recall("lock", raw)
    assert lock._entry_by_entry(raw, known) == checked
    assert lock.loads(raw) == checked


def test_a_lock_laid_out_otherwise_is_parsed_whole(tmp_path, monkeypatch):
    """Record fields four spaces in, where entries start in the layout `dumps` writes: the
    cut cannot be trusted, so the whole document is parsed, with the same result."""
    monkeypatch.setenv("BIB_CACHE_DIR", str(tmp_path / "cache"))
    record = json.dumps(RECORD.to_dict())
    text = (
        '{\n  "entries": {\n    "orca": {\n    "identifiers": [],\n    "key": "yu2022orca",\n'
        f'    "record": {record}\n    }}\n  }},\n  "lock_version": 1\n}}\n'
    )
    first = lock.loads(text)
    assert lock._entry_by_entry(text, lock.recall("lock", text)) is None
    assert (
        lock.loads(text) == first == {"orca": LockedEntry(RECORD.with_(retrieved=RECORD.retrieved))}
    )
