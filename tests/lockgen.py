"""Regenerate `sources.lock.json` from the committed fixtures, through the loopback upstreams.

No machine this project runs on reaches arXiv, Crossref or DBLP, so the committed
lock is what `bib resolve` produces against servers that speak their protocols
and serve `tests/fixtures/`. `make lock` runs this; `test_lock_reproducible.py`
runs it again and demands the same bytes.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from bib.commands.resolve import run
from bib.http import HostPolicy, HttpClient
from bib.project import Project
from bib.resolve import ResolveReport
from bib.sources import Endpoints
from tests.upstreams.fixtures import environment, upstreams

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


def regenerate(catalog: Path, lock_path: Path, today: dt.date) -> ResolveReport:
    with upstreams(FIXTURES) as servers:
        endpoints = Endpoints.from_env(environment(servers))
        # Spacing protects real services; these are ours, so no waiting.
        with HttpClient({"127.0.0.1": HostPolicy()}) as client:
            project = Project.load(catalog, lock_path)
            # Every record is asked for again; only the keys of an existing lock carry over,
            # since documents cite them. A record the fixtures now make worse must show.
            return run(project, refresh=True, allow_downgrade=True, endpoints=endpoints,
                       client=client, today=today)  # fmt: skip


if __name__ == "__main__":
    day = dt.date.fromisoformat(sys.argv[1]) if len(sys.argv) > 1 else dt.date.today()
    report = regenerate(ROOT / "sources.yaml", ROOT / "sources.lock.json", day)
    print(dict(report.counts()), f"{report.requests} requests")
