"""Benchmark `bib build` on a synthetic catalog and lock of N entries.

Prints wall time and peak memory (the high-water mark a fresh child process reports
of itself, VmHWM, so the generator's own memory does not count). Each size runs with its own
empty cache directory, so the first build is what a fresh clone sees. Usage: python bench/bench_build.py [N ...]
"""

from __future__ import annotations

import os
import shutil
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
                    source="crossref",
                )  # fmt: skip
                locked[entry_id] = LockedEntry(record, (f"arxiv:2401.{i:05d}",))
        categories.append({"name": f"Category {c}", "papers": papers})
    catalog = {"title": "Synthetic", "categories": categories}
    (directory / "sources.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    lock.write(directory / "sources.lock.json", locked)


CHILD = """
import resource, sys, time
start = time.perf_counter()
from pathlib import Path
from bib.commands.build import build_files
formats = sys.argv[2].split(",") if sys.argv[2] != "all" else None
root = Path(sys.argv[1])
report = build_files(root / "sources.yaml", root / "sources.lock.json", root / "out", formats)
try:  # this process's own high-water mark (ru_maxrss keeps the forking parent's size)
    status = Path("/proc/self/status").read_text()
    peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
except (OSError, IndexError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(time.perf_counter() - start, peak, report.entries, len(report.written))
"""

# (label, formats, what the run finds): a fresh clone's first build (nothing remembered),
# a build after the inputs were checked once, BibTeX alone, and a rebuild with nothing changed.
RUNS = (
    ("first", "all", "clean"),
    ("checked", "all", "remembered"),
    ("unchanged", "all", "unchanged"),
    ("bibtex", "bibtex", "remembered"),
)


def main(sizes: list[int]) -> None:
    print(f"{'entries':>8} {'run':>10} {'formats':>8} {'build s':>8} {'process s':>9} "
          f"{'peak MB':>8} {'written':>7}")  # fmt: skip
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            make_project(root, n)
            env = {**os.environ, "BIB_CACHE_DIR": str(root / "cache")}
            for label, formats, state in RUNS:
                if state != "unchanged":
                    shutil.rmtree(root / "out", ignore_errors=True)
                if state == "clean":
                    shutil.rmtree(root / "cache", ignore_errors=True)
                start = time.perf_counter()
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, tmp, formats],
                    check=True, capture_output=True, text=True, env=env,
                ).stdout.split()  # fmt: skip
                wall = time.perf_counter() - start
                build_s, peak, entries, written = float(out[0]), float(out[1]), *map(int, out[2:])
                assert entries == n
                print(f"{n:>8} {label:>10} {formats:>8} {build_s:>8.3f} {wall:>9.3f} "
                      f"{peak:>8.1f} {written:>7}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [47, 1000, 10000])
