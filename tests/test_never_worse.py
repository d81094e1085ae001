"""Never worse than the lock: upstream faults and hostile answers against the real resolver.

Each test takes real entries of the committed catalog and lock, serves the
committed fixtures through the loopback upstreams, breaks one upstream (or
one value of its answer), runs `bib resolve --refresh`, and checks what the
lock holds afterwards.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import bibtexparser
import pytest
import yaml

from bib import lock
from bib.commands.build import build
from bib.commands.resolve import run
from bib.http import HostPolicy, HttpClient
from bib.project import Project
from bib.resolve import to_resolve
from bib.sources import Endpoints
from tests.conftest import ROOT
from tests.upstreams.arxiv import ArxivServer
from tests.upstreams.crossref import CrossrefServer
from tests.upstreams.dblp import DblpServer
from tests.upstreams.pypi import PypiServer
from tests.upstreams.semanticscholar import SemanticScholarServer

FIXTURES = ROOT / "tests" / "fixtures"
# One of each path through the resolver: arXiv + DBLP (distserve), arXiv + DOI pin (vllm),
# arXiv + DBLP + Crossref completion (spotserve), link only (orca), a preprint (andes),
# a DOI pin only (attacc).
SAMPLE = ("distserve", "vllm", "spotserve", "orca", "andes", "attacc")


def sample_project(folder: Path, ids: tuple[str, ...] = SAMPLE) -> Project:
    catalog = yaml.safe_load((ROOT / "sources.yaml").read_text(encoding="utf-8"))
    for category in catalog["categories"]:
        category["papers"] = [p for p in category["papers"] if p["id"] in ids]
    catalog["categories"] = [c for c in catalog["categories"] if c["papers"]]
    (folder / "sources.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    data = json.loads((ROOT / "sources.lock.json").read_text(encoding="utf-8"))
    data["entries"] = {k: v for k, v in data["entries"].items() if k in ids}
    (folder / "sources.lock.json").write_text(
        json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
    return Project.load(folder / "sources.yaml", folder / "sources.lock.json")


@pytest.fixture
def fixtures(tmp_path: Path) -> Path:
    """A private copy of the committed fixtures, for tests that make one answer hostile."""
    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, copy, ignore=shutil.ignore_patterns("research", "*.md"))
    return copy


class Upstreams:
    """Every upstream the resolver asks, serving the committed fixtures."""

    def __init__(self, fixtures: Path) -> None:
        self.arxiv = ArxivServer(fixtures / "arxiv")
        self.crossref = CrossrefServer(fixtures / "crossref")
        self.dblp = DblpServer(fixtures / "dblp")
        self.semanticscholar = SemanticScholarServer(fixtures / "semanticscholar")
        self.pypi = PypiServer(fixtures / "pypi")
        self.all = (self.arxiv, self.crossref, self.dblp, self.semanticscholar, self.pypi)

    def __enter__(self) -> Upstreams:
        for server in self.all:
            server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.all:
            server.close()

    def endpoints(self, **overrides: str) -> Endpoints:
        urls = {
            "arxiv": self.arxiv.base_url + "/api/query",
            "crossref": self.crossref.base_url,
            "dblp": self.dblp.base_url + "/search/publ/api",
            "semanticscholar": self.semanticscholar.base_url + "/graph/v1",
            "pypi": self.pypi.base_url,
        }
        return Endpoints({**urls, **overrides})


def refresh(project: Project, endpoints: Endpoints, **kwargs):
    with HttpClient({"127.0.0.1": HostPolicy(retries=1, timeout=2)}) as client:
        return run(project, refresh=True, endpoints=endpoints, client=client, **kwargs)


def closed_port() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def always(server, status: int | None = None, body: bytes | None = None, headers=None) -> None:
    for _ in range(200):
        server.inject(status=status, body=body, headers=headers)


FAULTS = {
    "503": {"status": 503},
    "429 with Retry-After": {"status": 429, "headers": {"retry-after": "1"}},
    "HTML with 200": {"body": b"<html><body>Service temporarily unavailable</body></html>",
                      "headers": {"content-type": "text/html"}},
    "malformed body": {"body": b'{"result": {"hits": '},
}  # fmt: skip


@pytest.mark.parametrize("upstream", ["arxiv", "crossref", "dblp"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_failing_upstream_changes_no_locked_record(tmp_path, upstream, fault):
    project = sample_project(tmp_path)
    before = project.lock_path.read_bytes()
    with Upstreams(FIXTURES) as servers:
        always(getattr(servers, upstream), **FAULTS[fault])
        start = time.monotonic()
        report = refresh(project, servers.endpoints())
        elapsed = time.monotonic() - start
    assert project.lock_path.read_bytes() == before
    failed = {k: o.message for k, o in report.outcomes.items() if o.status == "failed"}
    assert failed, f"no entry reported the {upstream} failure"
    assert not report.ok
    assert all("kept the previously locked record" in m for m in failed.values())
    assert elapsed < 60


@pytest.mark.parametrize("upstream", ["arxiv", "crossref", "dblp"])
def test_a_refused_connection_changes_no_locked_record(tmp_path, upstream):
    project = sample_project(tmp_path)
    before = project.lock_path.read_bytes()
    with Upstreams(FIXTURES) as servers:
        report = refresh(project, servers.endpoints(**{upstream: closed_port()}))
    assert project.lock_path.read_bytes() == before
    assert any(o.status == "failed" for o in report.outcomes.values())


def test_dblp_failing_never_turns_a_published_paper_into_its_preprint(tmp_path):
    """The first way main broke the promise: 17 records downgraded with exit 0."""
    project = sample_project(tmp_path, ("distserve",))
    with Upstreams(FIXTURES) as servers:
        always(servers.dblp, status=503)
        report = refresh(project, servers.endpoints())
    outcome = report.outcomes["distserve"]
    assert outcome.status == "failed"
    assert "DBLP" in outcome.message and "503" in outcome.message
    assert lock.read(project.lock_path)["distserve"].record.type == "paper-conference"


def test_a_new_entry_whose_upstream_fails_is_not_locked_half_checked(tmp_path):
    project = sample_project(tmp_path, ("distserve",))
    project.lock_path.unlink()
    project = Project.load(project.catalog_path, project.lock_path)
    with Upstreams(FIXTURES) as servers:
        always(servers.dblp, status=503)
        report = refresh(project, servers.endpoints())
    assert report.outcomes["distserve"].status == "failed"
    held = lock.read(project.lock_path)["distserve"]
    # Not the half-checked preprint: the list's own record, which only freezes the key,
    # and which the next run asks about again.
    assert held.record.source == "catalog" and held.record.type == "misc"
    again = Project.load(project.catalog_path, project.lock_path)
    assert [e.id for e in to_resolve(again.catalog, again.locked)] == ["distserve"]


def test_a_refresh_never_trades_down_unless_asked(tmp_path):
    """No DBLP hit any more (not a failure): the preprint would replace the published record."""
    project = sample_project(tmp_path, ("distserve",))
    before = project.lock_path.read_bytes()
    empty = tmp_path / "no-dblp"
    empty.mkdir()
    with Upstreams(FIXTURES) as servers, DblpServer(empty) as dblp:
        endpoints = servers.endpoints(dblp=dblp.base_url + "/search/publ/api")
        report = refresh(project, endpoints)
        assert report.outcomes["distserve"].status == "kept"
        assert "--allow-downgrade" in report.outcomes["distserve"].message
        assert project.lock_path.read_bytes() == before
        refresh(Project.load(project.catalog_path, project.lock_path), endpoints,
                allow_downgrade=True)  # fmt: skip
    assert lock.read(project.lock_path)["distserve"].record.type == "preprint"


def test_a_crossref_completion_with_another_title_is_not_accepted(tmp_path, fixtures):
    """DBLP names the DOI; Crossref's record for it must pass the same guard."""
    path = fixtures / "crossref" / "10.1145_3620665.3640411.json"
    work = json.loads(path.read_text(encoding="utf-8"))
    work["title"] = ["A Different Paper Entirely"]
    path.write_text(json.dumps(work), encoding="utf-8")
    project = sample_project(tmp_path, ("spotserve",))
    with Upstreams(fixtures) as servers:
        refresh(project, servers.endpoints())
    record = lock.read(project.lock_path)["spotserve"].record
    assert record.title.startswith("SpotServe")


def _hostile_crossref(fixtures: Path, change) -> None:
    path = fixtures / "crossref" / "10.1145_3600006.3613165.json"  # vLLM, a DOI pin
    work = json.loads(path.read_text(encoding="utf-8"))
    change(work)
    path.write_text(json.dumps(work), encoding="utf-8")


# Each hostile value is dropped; where dropping it would lose a fact the lock holds (the
# pages), the locked record is kept whole.
HOSTILE = {
    "pages that close the field": (
        lambda w: w.update(page="611-626}, note={x}}\n@misc{injected, title={pwned}}"),
        lambda r: r.pages == "611-626",
    ),
    "month 13": (lambda w: w.update(issued={"date-parts": [[2023, 13]]}),
                 lambda r: r.issued == (2023,)),
    "a date part that is not a number": (
        lambda w: w.update(issued={"date-parts": [["2023", "x"]]}),
        lambda r: r.issued == (2023,),
    ),
    "author a string": (lambda w: w.update(author="Kwon, Woosuk"), lambda r: r.authors),
    "title with a bidi override": (
        lambda w: w.update(title=["Efficient Memory Management for Large Language Model "
                                  "Serving with \u202ePagedAttention"]),
        lambda r: "\u202e" not in r.title,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_values_are_dropped_and_cannot_shape_the_bib(tmp_path, fixtures, case):
    change, holds = HOSTILE[case]
    _hostile_crossref(fixtures, change)
    project = sample_project(tmp_path, ("vllm", "orca"))
    with Upstreams(fixtures) as servers:
        refresh(project, servers.endpoints())
    record = lock.read(project.lock_path)["vllm"].record
    assert holds(record), record
    report = build(Project.load(project.catalog_path, project.lock_path), tmp_path / "out")
    assert report.entries == 2
    library = bibtexparser.parse_string((tmp_path / "out" / "llm-serving.bib").read_text())
    assert len(library.entries) == 2 and not library.failed_blocks


def test_wrong_shapes_from_crossref_and_dblp_fail_cleanly(tmp_path):
    project = sample_project(tmp_path, ("vllm", "distserve"))
    before = project.lock_path.read_bytes()
    with Upstreams(FIXTURES) as servers:
        always(servers.crossref, body=b'{"status": "ok", "message": {"items": "none"}}')
        always(servers.dblp, body=b'{"result": {"hits": {"hit": [{"info": "a string"}]}}}')
        report = refresh(project, servers.endpoints())
    assert project.lock_path.read_bytes() == before
    assert report.outcomes["vllm"].status == "failed"
    assert "Crossref" in report.outcomes["vllm"].message
    assert "malformed" in report.outcomes["vllm"].message


def test_a_record_that_lost_a_fact_does_not_replace_the_locked_one(tmp_path):
    """Semantic Scholar down: the DOI path still finds vLLM, but not its DBLP key."""
    project = sample_project(tmp_path, ("vllm",))
    before = project.lock_path.read_bytes()
    with Upstreams(FIXTURES) as servers:
        report = refresh(project, servers.endpoints(semanticscholar=closed_port()))
    assert project.lock_path.read_bytes() == before
    outcome = report.outcomes["vllm"]
    assert outcome.status == "kept" and "without its dblp_key" in outcome.message


def test_the_committed_project_resolves_in_few_requests(tmp_path):
    """Issue 10's budget for a cold run of the 47: at most 30 requests (it takes 17)."""
    project = sample_project(tmp_path, tuple(e.id for e in Project.load(
        ROOT / "sources.yaml", ROOT / "sources.lock.json").entries))  # fmt: skip
    project.lock_path.unlink()
    project = Project.load(project.catalog_path, project.lock_path)
    with Upstreams(FIXTURES) as servers:
        report = refresh(project, servers.endpoints())
        asked = {name: len(s.requests) for name, s in zip(
            ("arxiv", "crossref", "dblp", "semanticscholar", "pypi"), servers.all, strict=True)}  # fmt: skip
    assert report.ok and report.requests == sum(asked.values()) <= 30
    assert asked["arxiv"] == 1 and asked["semanticscholar"] == 1
