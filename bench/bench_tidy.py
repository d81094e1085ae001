"""Our BibTeX build against bibtex-tidy on the same output, in the same run (issue 12).

For each size: `bib build --format bibtex` in a fresh process (inputs already checked,
as in a maintainer's loop), then bibtex-tidy 1.14 tidying the very file it wrote.
Prints each one's median wall time and peak memory, and the ratio. bibtex-tidy comes
from npm (`make bench-tidy` installs it into .tools/node); its path may also be given
as $BIBTEX_TIDY. Usage: python bench/bench_tidy.py [N ...]   (default: 10000)
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import make_project

ROOT = Path(__file__).resolve().parents[1]
TIDY = os.environ.get("BIBTEX_TIDY") or str(ROOT / ".tools/node/node_modules/.bin/bibtex-tidy")
BIB = str(Path(sys.executable).with_name("bib"))
RUNS = 5


def timed(argv: list[str], env: dict[str, str], clear: Path | None = None) -> tuple[float, float]:
    """Median seconds and peak MB (GNU time's maximum resident set) of RUNS runs, each
    after removing `clear` (so a build never finds its own output unchanged)."""
    times, peaks = [], []
    for _ in range(RUNS):
        if clear is not None:
            shutil.rmtree(clear, ignore_errors=True)
        done = subprocess.run(["/usr/bin/time", "-f", "%e %M", *argv], env=env,
                              capture_output=True, text=True, check=True)  # fmt: skip
        seconds, kilobytes = done.stderr.strip().splitlines()[-1].split()
        times.append(float(seconds))
        peaks.append(int(kilobytes) / 1024)
    return statistics.median(times), max(peaks)


def main(sizes: list[int]) -> None:
    if not Path(TIDY).exists():
        sys.exit(f"bibtex-tidy not found at {TIDY}: run `make bench-tidy` or set BIBTEX_TIDY")
    print(
        f"{'entries':>8} {'bib build s':>11} {'MB':>6} {'bibtex-tidy s':>13} {'MB':>6} {'ratio':>6}"
    )
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            make_project(root, n)
            env = {**os.environ, "BIB_CACHE_DIR": str(root / "cache")}
            ours = [BIB, "-q", "build", "--format", "bibtex", "--catalog", str(root / "sources.yaml"),
                    "--lock", str(root / "sources.lock.json"), "--output-dir", str(root / "out")]  # fmt: skip
            subprocess.run(ours, env=env, check=True)  # checks the inputs once, as `make bib` has
            written = root / "out" / "llm-serving.bib"
            shutil.copy(written, root / "in.bib")
            bib_s, bib_mb = timed(ours, env, clear=root / "out")
            tidy = [TIDY, str(root / "in.bib"), "--output", str(root / "tidy.bib"), "--quiet"]
            tidy_s, tidy_mb = timed(tidy, env)
            print(f"{n:>8} {bib_s:>11.2f} {bib_mb:>6.0f} {tidy_s:>13.2f} {tidy_mb:>6.0f} "
                  f"{tidy_s / bib_s:>6.2f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10000])
