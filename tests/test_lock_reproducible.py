"""The committed lock is reproducible from the committed fixtures, byte for byte."""

from __future__ import annotations

import datetime as dt
import json

from bib import catalog, lock
from tests.conftest import ROOT
from tests.lockgen import regenerate


def test_lock_regenerates_byte_for_byte(tmp_path):
    committed = ROOT / "sources.lock.json"
    dates = {e["record"]["retrieved"] for e in json.loads(committed.read_text())["entries"].values()
             if "retrieved" in e["record"]}  # fmt: skip
    assert len(dates) == 1, "the committed lock was resolved in one run"
    target = tmp_path / "sources.lock.json"
    target.write_bytes(committed.read_bytes())  # its keys are frozen; its records are redone
    report = regenerate(ROOT / "sources.yaml", target, dt.date.fromisoformat(dates.pop()))
    assert report.ok, {
        k: o for k, o in report.outcomes.items() if o.status not in ("resolved", "upgraded")
    }
    assert target.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8")


def test_lock_covers_every_catalog_entry_with_real_identifiers():
    entries = catalog.load(ROOT / "sources.yaml").entries
    locked = lock.read(ROOT / "sources.lock.json")
    assert sorted(e.id for e in entries) == sorted(locked)
    papers = [locked[e.id].record for e in entries if e.type != "software"]
    assert all(r.authors for r in papers)
    assert all(r.arxiv_id or r.doi or r.dblp_key for r in papers)
    keys = [item.key for item in locked.values()]
    assert len(set(keys)) == len(keys)
