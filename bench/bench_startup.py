"""Whole-process wall time of the commands people run most, on the committed 47 entries.

Each command runs RUNS times in a fresh process (as a shell runs it); the
median, minimum and maximum are printed. `bib build` writes into a temporary
copy of `output/`, so the repository is never touched.
Usage: python bench/bench_startup.py [RUNS]
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIB = str(Path(sys.executable).with_name("bib"))


def timed(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
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
        print(f"{'command':<16} {'median s':>9} {'min s':>7} {'max s':>7}  ({runs} runs)")
        for name, argv in commands.items():
            times = timed(argv, runs)
            print(
                f"{name:<16} {statistics.median(times):>9.3f} {min(times):>7.3f} {max(times):>7.3f}"
            )
            sys.stdout.flush()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 11)
