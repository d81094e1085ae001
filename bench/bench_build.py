"""Benchmark `bib build` on a synthetic catalog and lock of N entries.

Prints wall time and peak memory (max RSS of a fresh child process, so the
generator's own memory does not count). Usage: python bench/bench_build.py [N ...]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bib import lock
from bib.lock import LockedEntry
from bib.record import Person, Record

CATEGORIES = 10
AUTHORS = 20_000  # distinct people, so caches see realistic (not total) repetition
GIVEN = ("Łukasz", "Déjà", "Zhuohan", "Ion", "Joseph E.", "Hao", "Søren", "Matei")


def _person(n: int) -> Person:
    return Person(f"Family{n}", GIVEN[n % len(GIVEN)])


def make_project(directory: Path, n: int) -> None:
    per = -(-n // CATEGORIES)
    categories, locked = [], {}
    for c in range(CATEGORIES):
        papers = []
        for i in range(c * per, min(n, (c + 1) * per)):
            entry_id = f"paper-{i}"
            title = f"Serving LLMs {i}: Efficient KV-cache Paging for Déjà Vu Workloads"
            papers.append(
                {"id": entry_id, "title": title, "link": f"https://arxiv.org/abs/2401.{i:05d}"}
            )
            if i % 10:  # one in ten stays unresolved, as new list entries do
                record = Record(
                    id=entry_id, key=f"author{i}2024serving", type="paper-conference", title=title,
                    authors=tuple(_person((i * 7 + j * 13) % AUTHORS) for j in range(8)),
                    issued=(2024, 1 + i % 12), container_title=f"Proceedings of Symposium {i % 40}",
                    pages=f"{i}--{i + 12}", publisher="ACM", doi=f"10.1145/{i}.{i}",
                    arxiv_id=f"2401.{i:05d}", arxiv_class="cs.DC", url=f"https://doi.org/10.1145/{i}",
                )  # fmt: skip
                locked[entry_id] = LockedEntry(record, (f"arxiv:2401.{i:05d}",))
        categories.append({"name": f"Category {c}", "papers": papers})
    catalog = {"title": "Synthetic", "categories": categories}
    (directory / "sources.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    lock.write(directory / "sources.lock.json", locked)


CHILD = """
import sys, time
from pathlib import Path
from bib.commands.build import build
from bib.project import Project
formats = sys.argv[2].split(",") if sys.argv[2] != "all" else None
start = time.perf_counter()
root = Path(sys.argv[1])
report = build(Project.load(root / "sources.yaml", root / "sources.lock.json"), root / "out", formats)
print(time.perf_counter() - start, report.entries)
"""


def main(sizes: list[int]) -> None:
    print(f"{'entries':>8} {'formats':>8} {'build s':>8} {'process s':>9} {'peak MB':>8}")
    for n, formats in ((n, f) for n in sizes for f in ("bibtex", "all")):
        with tempfile.TemporaryDirectory() as tmp:
            make_project(Path(tmp), n)
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            start = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", CHILD, tmp, formats],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            wall = time.perf_counter() - start
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            assert int(out[1]) == n
            mb = max(peak, before) / 1024
            print(f"{n:>8} {formats:>8} {float(out[0]):>8.3f} {wall:>9.3f} {mb:>8.1f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [47, 1000, 10000])
