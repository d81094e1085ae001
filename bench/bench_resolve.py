"""Benchmark `bib resolve` against the loopback upstreams: requests per entry and wall time.

Every response is delayed by 100 ms (`--latency`), and the client keeps the real
politeness rules (arXiv: one request per 3 s; DBLP: one per second; Crossref:
its x-rate-limit headers). The 47 use the committed fixtures; larger sizes use
synthetic arXiv preprints whose feeds point to a published DOI (so each needs an
arXiv batch slot and a Crossref batch slot, and no search). Prints, per size:
requests by upstream, requests per entry, wall time, the rate-limit floor and
their ratio, then the same for a warm re-run.

Usage: python bench/bench_resolve.py [--latency S] [N ...]   (default: 47 500 5000)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bib.commands.resolve import run
from bib.project import Project
from bib.sources import Endpoints, polite_client
from tests.upstreams.fixtures import environment, upstreams

ROOT = Path(__file__).resolve().parents[1]
FEED = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" \
xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/bench</id>
  <title>arXiv Query: id_list={id}</title>
  <updated>2026-01-01T00:00:00Z</updated>
  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>
  <opensearch:totalResults>1</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
  <entry>
    <id>http://arxiv.org/abs/{id}v1</id>
    <updated>2024-01-02T00:00:00Z</updated>
    <published>2024-01-02T00:00:00Z</published>
    <title>{title}</title>
    <author><name>Ada Benchmark{n}</name></author>
    <author><name>Bo Synthetic</name></author>
    <arxiv:doi>{doi}</arxiv:doi>
    <arxiv:primary_category term="cs.DC"/>
  </entry>
</feed>
"""


def synthetic(directory: Path, n: int) -> tuple[Path, Path]:
    """A catalog of n arXiv preprints, with fixtures for arXiv and Crossref (all fake)."""
    for name in ("arxiv", "crossref", "dblp", "semanticscholar", "pypi"):
        (directory / name).mkdir()
    papers = []
    for i in range(n):
        arxiv_id, doi = f"24{1 + i // 90000:02d}.{i % 90000 + 10000:05d}", f"10.5555/bench.{i}"
        title = f"Synthetic Serving Paper {i}: Benchmarks for Batched Resolution"
        papers.append(
            {"id": f"paper-{i}", "title": title, "link": f"https://arxiv.org/abs/{arxiv_id}"}
        )
        feed = FEED.format(id=arxiv_id, title=title, doi=doi, n=i)
        (directory / "arxiv" / f"{arxiv_id}.xml").write_text(feed)
        work = {"DOI": doi, "type": "proceedings-article", "title": [title],
                "author": [{"given": "Ada", "family": f"Benchmark{i}", "sequence": "first"}],
                "container-title": ["Proceedings of the Benchmark Symposium"],
                "issued": {"date-parts": [[2024, 5]]}, "publisher": "Bench"}  # fmt: skip
        (directory / "crossref" / f"10.5555_bench.{i}.json").write_text(json.dumps(work))
    catalog = {"title": "Bench", "categories": [{"name": "All", "papers": papers}]}
    (directory / "sources.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    return directory / "sources.yaml", directory


def measure(catalog: Path, fixtures: Path, lock_path: Path, latency: float) -> dict:
    with upstreams(fixtures) as servers:
        for server in servers.values():
            server.latency = latency
        endpoints = Endpoints.from_env({**environment(servers), "BIB_MAILTO": "bench@example.org"})
        start = time.perf_counter()
        # Throughput, not bounds: a 5000-entry run needs far more than a default deadline.
        with polite_client(endpoints) as client:
            report = run(Project.load(catalog, lock_path), endpoints=endpoints, client=client,
                         today=dt.date(2026, 11, 24))  # fmt: skip
            intervals = {name: client.policy(urlsplit(s.base_url).netloc).interval
                         for name, s in servers.items()}  # fmt: skip
        wall = time.perf_counter() - start
        counts = {name: len(s.requests) for name, s in servers.items()}
    # With one connection at a time, no schedule beats the slowest host's spacing,
    # nor the sum of the latencies.
    floor = max(
        [max(0, counts[h] - 1) * intervals[h] for h in counts] + [sum(counts.values()) * latency]
    )
    return {"counts": counts, "wall": wall, "floor": floor, "statuses": dict(report.counts())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("sizes", nargs="*", type=int, default=[47, 500, 5000])
    args = parser.parse_args()
    print(f"{'entries':>7} {'run':>4} {'arXiv':>5} {'S2':>4} {'Crossref':>8} {'DBLP':>5} {'req/entry':>9} "
          f"{'wall s':>8} {'floor s':>8} {'ratio':>6}")  # fmt: skip
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            if n == 47:
                catalog, fixtures = tmp_path / "sources.yaml", ROOT / "tests" / "fixtures"
                shutil.copy(ROOT / "sources.yaml", catalog)
            else:
                catalog, fixtures = synthetic(tmp_path, n)
            for run_name in ("cold", "warm"):
                result = measure(catalog, fixtures, tmp_path / "lock.json", args.latency)
                c, total = result["counts"], sum(result["counts"].values())
                ratio = result["wall"] / result["floor"] if result["floor"] else float("nan")
                print(f"{n:>7} {run_name:>4} {c['arxiv']:>5} {c['semanticscholar']:>4} "
                      f"{c['crossref']:>8} {c['dblp']:>5} "
                      f"{total / n:>9.2f} {result['wall']:>8.1f} {result['floor']:>8.1f} {ratio:>6.2f}",
                      flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
