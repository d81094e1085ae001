"""Benchmark `bib resolve` with no network: N new entries, every upstream unreachable.

Two ways of being offline: a refused connection (a port nothing listens on) and a
name that does not resolve (`.invalid`, which DNS never answers). The catalog is
`bench_build.make_project`'s with an empty lock, so every entry is new and must be
asked about. Prints wall time, exit status and the last line the user sees (target:
500 entries in under 10 s). Usage: python bench/bench_offline.py [N ...]  (default: 500)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import make_project

BIB = str(Path(sys.executable).with_name("bib"))
UPSTREAMS = ("ARXIV", "CROSSREF", "DBLP", "SEMANTICSCHOLAR", "PYPI")
OFFLINE = {
    "refused": "http://127.0.0.1:9",
    "no DNS": "http://upstream.invalid",
}


def run(n: int, how: str, base: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        make_project(root, n)
        (root / "sources.lock.json").unlink()
        env = {**os.environ, "XDG_CACHE_HOME": str(root / "cache")}
        env.update({f"BIB_{name}_URL": base for name in UPSTREAMS})
        start = time.perf_counter()
        done = subprocess.run([BIB, "resolve"], cwd=root, env=env, capture_output=True, text=True)
        took = time.perf_counter() - start
        last = (done.stdout + done.stderr).strip().splitlines()[-1][:90]
        print(f"{n:>7} {how:>8} {took:>8.2f} {done.returncode:>5}  {last}")


def main(sizes: list[int]) -> None:
    print(f"{'entries':>7} {'offline':>8} {'wall s':>8} {'exit':>5}  last line")
    for n in sizes:
        for how, base in OFFLINE.items():
            run(n, how, base)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [500])
