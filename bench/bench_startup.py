"""Whole-process wall time of the commands people run most, on the committed 47 entries.

Each command runs RUNS times in a fresh process (as a shell runs it); the
median, minimum and maximum are printed. Build and check also run with an empty
cache (a fresh clone's first run: nothing in `bib.memo` yet). `bib build` writes into a temporary
copy of `output/`, so the repository is never touched.
Usage: python bench/bench_startup.py [RUNS]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIB = str(Path(sys.executable).with_name("bib"))


# As on a user's machine, Python keeps the bytecode it compiles; a shell that sets
# PYTHONDONTWRITEBYTECODE (some CI images do) would time the compiler instead.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str], runs: int, cold: bool = False) -> list[float]:
    """Seconds per run, after one run that warms the bytecode; `cold`: each run with an
    empty bib cache, as on a fresh clone."""
    subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, env=ENV)
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            env = {**ENV, "BIB_CACHE_DIR": cache} if cold else ENV
            start = time.perf_counter()
            subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, env=env)
            times.append(time.perf_counter() - start)
    return times


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "output"
        shutil.copytree(ROOT / "output", out)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "bib --help": [BIB, "--help"],
            "bib build": [BIB, "-q", "build", "--output-dir", str(out)],
            "bib check": [BIB, "-q", "check"],
            "bib stats": [BIB, "stats"],
        }
        print(f"{'command':<22} {'median s':>9} {'min s':>7} {'max s':>7}  ({runs} runs)")
        rows = [(name, argv, False) for name, argv in commands.items()]
        rows += [
            (f"{name} (cold cache)", commands[name], True) for name in ("bib build", "bib check")
        ]
        for name, argv, cold in rows:
            times = timed(argv, runs, cold)
            print(
                f"{name:<22} {statistics.median(times):>9.3f} {min(times):>7.3f} {max(times):>7.3f}"
            )
            sys.stdout.flush()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 11)
