"""Benchmark `bib resolve --refresh` of the 47 papers with each upstream failing in each way.

The repository's catalog and lock are copied into a temporary directory, the loopback
upstreams serve tests/fixtures (as tests/lockgen.py does), and the real command runs in
a subprocess under its DEFAULT policies (spacing, timeouts, retries, caps, breaker and
the run's deadline), its stderr a pipe as in CI. One upstream fails on every request in
one way (tests/upstreams/base.py `FAULT_KINDS`, with the waits servers really ask for);
"no network" refuses all three. Prints, per case: wall time, exit status, requests sent,
entries failed, progress lines written, and whether the run ended within the target.

Usage: python bench/bench_faults.py [--jobs N] [--only SUBSTRING ...] [--target S]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from tests.upstreams.fixtures import environment, upstreams

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
BIB = Path(sys.executable).with_name("bib")
UPSTREAMS = ("arxiv", "crossref", "dblp")

# name -> options for LoopbackServer.fail (or headers for a success that teaches a pace)
KINDS: dict[str, dict] = {
    "429": {"kind": "429"},
    "429 Retry-After 5": {"kind": "429", "retry_after": 5},
    "429 Retry-After 3600": {"kind": "429", "retry_after": 3600},
    "500": {"kind": "500"},
    "502": {"kind": "502"},
    "503": {"kind": "503"},
    "503 Retry-After 30": {"kind": "503", "retry_after": 30},
    "504": {"kind": "504"},
    "refused": {"kind": "refused"},
    "hang": {"kind": "hang"},
    "drip 1 byte / 5 s": {"kind": "drip", "seconds": 5.0},
    "drop": {"kind": "drop"},
    "html 200": {"kind": "html"},
    "malformed": {"kind": "malformed"},
    "wrong-shape": {"kind": "wrong-shape"},
    "huge": {"kind": "huge"},
    "endless": {"kind": "endless"},
    "slow 10 s": {"kind": "slow", "seconds": 10.0},
    "x-rate-limit 1/3600s": {
        "headers": {"x-rate-limit-limit": "1", "x-rate-limit-interval": "3600s"}
    },
}


@dataclass
class Outcome:
    case: str
    wall: float
    status: int | str
    requests: str
    failed: str
    lines: int


def run_case(case: str, failing: tuple[str, ...], options: dict) -> Outcome:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        for name in ("sources.yaml", "sources.lock.json"):
            shutil.copy(ROOT / name, work / name)
        servers = stack.enter_context(upstreams(FIXTURES))
        for name in failing:
            if "headers" in options:
                servers[name].inject(headers=options["headers"])
            else:
                fail = dict(options)
                servers[name].fail(fail.pop("kind"), always=True, **fail)
        env = {
            **os.environ,
            **environment(servers),
            "BIB_CACHE_DIR": str(work / "cache"),
        }
        command = [str(BIB), "resolve", "--refresh"]
        started = time.monotonic()
        try:
            done = subprocess.run(
                command, cwd=work, env=env, capture_output=True, text=True, timeout=900
            )
            status: int | str = done.returncode
            out, err = done.stdout, done.stderr
        except subprocess.TimeoutExpired as exc:
            status, out, err = "killed", str(exc.stdout or ""), str(exc.stderr or "")
        wall = time.monotonic() - started
    summary = re.search(r"(\d+) requests$", out.strip())
    failed = re.search(r"(\d+) failed", out)
    lines = sum(line.startswith("resolve: ") for line in err.splitlines())
    tracebacks = "Traceback" in err
    return Outcome(
        case,
        wall,
        f"{status} TRACEBACK" if tracebacks else status,
        summary.group(1) if summary else "?",
        failed.group(1) if failed else "0",
        lines,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1, help="cases run at once (they mostly wait)")
    parser.add_argument("--only", nargs="*", default=[], help="cases whose name contains these")
    parser.add_argument("--target", type=float, default=120.0, help="seconds each run must end in")
    args = parser.parse_args()
    cases = [("baseline (no fault)", (), {})]
    cases += [(f"{up}: {kind}", (up,), opts) for up in UPSTREAMS for kind, opts in KINDS.items()]
    cases.append(("no network (all refused)", UPSTREAMS, {"kind": "refused"}))
    cases = [c for c in cases if not args.only or any(s in c[0] for s in args.only)]
    print(f"{len(cases)} cases, default policies, target {args.target:g} s, {args.jobs} at once")
    print(f"{'case':<38} {'wall s':>7} {'exit':>5} {'requests':>8} {'failed':>6} {'lines':>5}  ok")
    worst = 0.0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for o in pool.map(lambda c: run_case(*c), cases):
            worst = max(worst, o.wall)
            ok = "yes" if o.wall <= args.target and isinstance(o.status, int) else "NO"
            print(
                f"{o.case:<38} {o.wall:>7.1f} {o.status!s:>5} {o.requests:>8} {o.failed:>6} "
                f"{o.lines:>5}  {ok}",
                flush=True,
            )
    print(f"worst wall time: {worst:.1f} s (target {args.target:g} s)")


if __name__ == "__main__":
    main()
