"""Benchmark `bib zotero sync` against the loopback Zotero API: requests and writes.

For each size: a first sync, a no-change re-sync and a re-sync after one entry
changed, with the real pyzotero client. The 47 are the committed catalog and
lock; larger sizes are synthetic records in 10 categories.

Usage: python bench/bench_zotero.py [N ...]   (default: 47 5000)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bib.project import Project
from bib.record import Bibliography, Person, Record, Section
from bib.secrets import Secret
from exporters.zotero.session import ZoteroConfig
from exporters.zotero.sync import sync
from tests.upstreams.zotero import ZoteroServer

ROOT = Path(__file__).resolve().parents[1]


def synthetic(n: int) -> Bibliography:
    per = -(-n // 10)
    sections = []
    for c in range(10):
        records = tuple(
            Record(
                id=f"p{i}",
                key=f"author{i}2024paper",
                type="paper-conference",
                title=f"Synthetic Paper {i}",
                authors=(Person("Author", f"A{i}"),),
                issued=(2024, 5),
                container_title="Proceedings of the Benchmark Symposium",
                doi=f"10.5555/bench.{i}",
                arxiv_id=f"2401.{i:05d}",
            )
            for i in range(c * per, min(n, (c + 1) * per))
        )
        sections.append(Section(f"Category {c}", f"c{c}", records, None, f"Category {c}"))
    return Bibliography("Bench", tuple(sections))


def one_changed(bib: Bibliography) -> Bibliography:
    first = bib.sections[0]
    changed = (first.records[0].with_(pages="1--2"), *first.records[1:])
    return Bibliography(bib.title, (Section(first.title, first.slug, changed, first.group,
                                            first.name), *bib.sections[1:]))  # fmt: skip


def main(sizes: list[int]) -> None:
    print(
        f"{'entries':>7} {'run':>12} {'requests':>8} {'writes':>6} {'items':>6} {'colls':>5} {'s':>6}"
    )
    for n in sizes:
        if n == 47:
            bib = Project.load(ROOT / "sources.yaml", ROOT / "sources.lock.json").bibliography
        else:
            bib = synthetic(n)
        with tempfile.TemporaryDirectory() as state, ZoteroServer() as server:
            key = Secret("ZOTERO_API_KEY", server.api_key)
            cfg = ZoteroConfig(library_id="123", endpoint=server.base_url, api_key=key)
            for name, target in (
                ("first", bib),
                ("no change", bib),
                ("one changed", one_changed(bib)),
            ):
                server.reset()
                start = time.perf_counter()
                report = sync(target, cfg, bib.title, state_dir=Path(state))
                wall = time.perf_counter() - start
                assert report.ok, report.failed[:3]
                print(f"{n:>7} {name:>12} {len(server.requests):>8} {report.writes:>6} "
                      f"{len(server.items):>6} {len(server.collections):>5} {wall:>6.1f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [47, 5000])
