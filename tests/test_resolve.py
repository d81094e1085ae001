"""`bib resolve` end to end over loopback upstreams, on papers from the recorded corpora."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bib import lock
from bib.cli import main
from bib.commands.resolve import run
from bib.errors import InputError
from bib.http import HostPolicy, HttpClient
from bib.project import Project
from bib.sources import Endpoints
from tests.corpora import arxiv_responses, crossref_works
from tests.upstreams.arxiv import ArxivServer
from tests.upstreams.crossref import CrossrefServer
from tests.upstreams.dblp import DblpServer

TODAY = dt.date(2026, 11, 24)
# A real paper whose arXiv feed is in the recorded corpora.
HEAT = {"id": "heat", "title": "Heat-bath random walks with Markov bases",
        "link": "https://arxiv.org/abs/1605.08386"}  # fmt: skip


@pytest.fixture
def upstreams(tmp_path: Path):
    arxiv_dir, crossref_dir, dblp_dir = (tmp_path / n for n in ("arxiv", "crossref", "dblp"))
    for folder in (arxiv_dir, crossref_dir, dblp_dir):
        folder.mkdir()
    for path, status, body in arxiv_responses():
        match = re.match(r"id_(\d{4}\.\d{4,5})_s0_m100_", path.name)
        if status == 200 and match and b"<entry>" in body:
            (arxiv_dir / f"{match.group(1)}.xml").write_bytes(body)
    work = next(w for w in crossref_works() if w.get("title") and w.get("author"))
    (crossref_dir / (work["DOI"].replace("/", "_") + ".json")).write_text(json.dumps(work))
    with (
        ArxivServer(arxiv_dir) as ax,
        CrossrefServer(crossref_dir) as cr,
        DblpServer(dblp_dir) as db,
    ):
        endpoints = Endpoints(
            {
                "arxiv": ax.base_url + "/api/query",
                "crossref": cr.base_url,
                "dblp": db.base_url + "/search/publ/api",
            }
        )
        yield endpoints, work, (ax, cr, db)


def write_catalog(path: Path, papers: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"title": "T", "categories": [{"name": "C", "papers": papers}]}))
    return path


def client() -> HttpClient:
    return HttpClient({"127.0.0.1": HostPolicy(retries=1, timeout=5)})


def test_cold_run_resolves_warm_run_sends_nothing(tmp_path, upstreams):
    endpoints, work, servers = upstreams
    catalog = write_catalog(tmp_path / "s.yaml", [
        {"id": "heat", "title": "Heat-bath random walks with Markov bases",
         "link": "https://arxiv.org/abs/1605.08386v1"},
        {"id": "wrong", "title": "A Different Paper Entirely",
         "link": "https://arxiv.org/pdf/1707.08567.pdf"},
        {"id": "pinned", "title": work["title"][0], "doi": work["DOI"], "note": "pinned"},
    ])  # fmt: skip
    lock_path = tmp_path / "l.json"
    with client() as http:
        report = run(
            Project.load(catalog, lock_path), endpoints=endpoints, client=http, today=TODAY
        )
    statuses = {k: o.status for k, o in report.outcomes.items()}
    assert statuses == {"heat": "resolved", "wrong": "mismatched", "pinned": "resolved"}
    assert "not the list's" in report.outcomes["wrong"].message
    locked = lock.read(lock_path)
    assert set(locked) == {"heat", "pinned", "wrong"}
    # The mismatched entry is locked as the list gives it: its key is frozen from now on.
    assert (locked["wrong"].record.source, locked["wrong"].key) == ("catalog", "different")
    assert locked["wrong"].record.arxiv_id == "1707.08567"  # its link, kept for citing
    assert locked["heat"].record.arxiv_id == "1605.08386"
    assert locked["heat"].key.startswith("stanley2016heat")
    assert locked["heat"].record.retrieved == "2026-11-24"
    assert locked["pinned"].record.doi == work["DOI"].lower()
    ax, cr, _db = servers
    assert len(ax.requests) == 1  # both arXiv ids in one batched request
    # One batched DOI request, then one title query for the preprint's published version.
    assert [r.param("filter") is not None for r in cr.requests] == [True, False]
    assert cr.requests[1].param("query.bibliographic") == "Heat-bath random walks with Markov bases"
    before = lock_path.read_bytes()
    for server in servers:
        server.reset()
    with client() as http:
        warm = run(Project.load(catalog, lock_path), endpoints=endpoints, client=http, today=TODAY)
    assert [s for s in servers if s.requests] == [ax]  # only the mismatched entry is retried
    assert warm.outcomes["heat"].status == "kept"
    assert lock_path.read_bytes() == before


def test_upstream_failure_keeps_the_locked_record(tmp_path, upstreams):
    endpoints, _work, (ax, _cr, _db) = upstreams
    catalog = write_catalog(tmp_path / "s.yaml", [HEAT])
    lock_path = tmp_path / "l.json"
    with client() as http:
        run(Project.load(catalog, lock_path), endpoints=endpoints, client=http, today=TODAY)
    before = lock_path.read_bytes()
    for _ in range(2):
        ax.inject(status=503)
    with client() as http:
        report = run(
            Project.load(catalog, lock_path), refresh=True, endpoints=endpoints, client=http
        )
    assert report.outcomes["heat"].status == "failed"
    assert "kept the previously locked record" in report.outcomes["heat"].message
    assert not report.ok
    assert lock_path.read_bytes() == before


def test_offline_sends_nothing_and_reports_unresolved(tmp_path, upstreams):
    endpoints, _work, servers = upstreams
    catalog = write_catalog(tmp_path / "s.yaml", [HEAT])
    with client() as http:
        report = run(Project.load(catalog, tmp_path / "l.json"), offline=True, endpoints=endpoints,
                     client=http)  # fmt: skip
    assert report.outcomes["heat"].status == "unresolved"
    assert not any(s.requests for s in servers)


def test_cli_offline_reports_and_exits_non_zero(tmp_path):
    catalog = write_catalog(tmp_path / "s.yaml", [HEAT])
    args = ["resolve", "--offline", "--catalog", str(catalog), "--lock", str(tmp_path / "l.json")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "1 unresolved; 0 requests" in result.output


def test_refresh_with_unchanged_upstreams_leaves_the_lock_byte_identical(tmp_path, upstreams):
    endpoints, _work, _servers = upstreams
    catalog = write_catalog(tmp_path / "s.yaml", [HEAT])
    lock_path = tmp_path / "l.json"
    with client() as http:
        run(Project.load(catalog, lock_path), endpoints=endpoints, client=http, today=TODAY)
    before = lock_path.read_bytes()
    with client() as http:
        report = run(Project.load(catalog, lock_path), refresh=True, endpoints=endpoints, client=http,
                     today=dt.date(2027, 1, 1))  # fmt: skip
    assert report.outcomes["heat"].status == "resolved"
    assert lock_path.read_bytes() == before  # same facts, so not even the date changes


def test_changed_pin_makes_an_entry_stale(tmp_path, upstreams):
    endpoints, _work, servers = upstreams
    paper = HEAT
    catalog = write_catalog(tmp_path / "s.yaml", [paper])
    lock_path = tmp_path / "l.json"
    with client() as http:
        run(Project.load(catalog, lock_path), endpoints=endpoints, client=http, today=TODAY)
    for server in servers:
        server.reset()
    # A pin naming the same arXiv id (versions aside) changes nothing: still kept.
    write_catalog(catalog, [{**paper, "arxiv": "1605.08386v2", "note": "pin the preprint"}])
    with client() as http:
        report = run(
            Project.load(catalog, lock_path), endpoints=endpoints, client=http, today=TODAY
        )
    assert report.outcomes["heat"].status == "kept"
    assert not any(s.requests for s in servers)
    # A pin naming another record makes the entry stale: it is resolved again.
    write_catalog(catalog, [{**paper, "dblp": "conf/x/Heat16", "note": "the published version"}])
    with client() as http:
        report = run(
            Project.load(catalog, lock_path), endpoints=endpoints, client=http, today=TODAY
        )
    assert report.outcomes["heat"].status != "kept"
    assert any(s.requests for s in servers)


def test_a_new_title_on_the_same_link_is_asked_again_and_keeps_its_key(tmp_path, upstreams):
    """Only the title changed: the locked record is for another paper, so `bib resolve`
    must not call it "kept" (and `bib check` would otherwise fail forever)."""
    endpoints, _work, servers = upstreams
    catalog = write_catalog(tmp_path / "s.yaml", [HEAT])
    lock_path = tmp_path / "l.json"
    with client() as http:
        run(Project.load(catalog, lock_path), endpoints=endpoints, client=http, today=TODAY)
    key = lock.read(lock_path)["heat"].key
    for server in servers:
        server.reset()
    write_catalog(catalog, [{**HEAT, "title": "Something Else Entirely"}])
    with client() as http:
        report = run(Project.load(catalog, lock_path), endpoints=endpoints, client=http,
                     today=TODAY)  # fmt: skip
    assert report.outcomes["heat"].status == "mismatched"
    assert any(s.requests for s in servers)
    assert lock.read(lock_path)["heat"].key == key


def test_a_dblp_pin_accepts_only_that_record(tmp_path, upstreams):
    endpoints, _work, _servers = upstreams
    info = {"authors": {"author": [{"text": "Caprice Stanley"}, {"text": "Tobias Windisch"}]},
            "title": "Heat-bath random walks with Markov bases.", "venue": "Adv. Appl. Math.",
            "year": "2018", "type": "Journal Articles", "key": "journals/aam/StanleyW18"}  # fmt: skip
    dblp_dir = tmp_path / "dblp-pinned"
    dblp_dir.mkdir()
    (dblp_dir / "journals_aam_StanleyW18.json").write_text(json.dumps(info))
    with DblpServer(dblp_dir) as db:
        pinned = Endpoints({**endpoints.urls, "dblp": db.base_url + "/search/publ/api"})
        paper = HEAT
        for pin, expected in (
            ("journals/aam/Other18", None),
            ("journals/aam/StanleyW18", "journals/aam/StanleyW18"),
        ):
            catalog = write_catalog(tmp_path / "s.yaml", [{**paper, "dblp": pin, "note": "n"}])
            lock_path = tmp_path / f"{pin.replace('/', '_')}.json"
            with client() as http:
                run(Project.load(catalog, lock_path), endpoints=pinned, client=http, today=TODAY)
            locked = lock.read(lock_path)
            assert (locked["heat"].record.dblp_key if "heat" in locked else None) == expected


def test_only_and_limit_narrow_the_run_and_the_rest_is_skipped(tmp_path, upstreams):
    endpoints, work, _servers = upstreams
    pinned = {"id": "pinned", "title": work["title"][0], "doi": work["DOI"], "note": "pinned"}
    catalog = write_catalog(tmp_path / "s.yaml", [HEAT, pinned])
    lock_path = tmp_path / "l.json"
    with client() as http:
        report = run(Project.load(catalog, lock_path), only={"pinned"}, endpoints=endpoints,
                     client=http, today=TODAY)  # fmt: skip
    assert {k: o.status for k, o in report.outcomes.items()} == {
        "heat": "skipped", "pinned": "resolved"}  # fmt: skip
    assert report.ok and set(lock.read(lock_path)) == {"pinned"}
    with client() as http:
        report = run(Project.load(catalog, lock_path), limit=0, endpoints=endpoints, client=http)
    assert report.outcomes["heat"].status == "skipped" and report.requests == 0
    with pytest.raises(InputError, match=r"not in .*: nosuch"):
        run(Project.load(catalog, lock_path), only={"nosuch"}, endpoints=endpoints)


def test_no_network_ends_in_seconds_with_one_line_per_failure(tmp_path, monkeypatch):
    """Every upstream refused (no network): each host is written off at its first try."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    for name in ("ARXIV", "CROSSREF", "DBLP", "SEMANTICSCHOLAR"):
        monkeypatch.setenv(f"BIB_{name}_URL", closed)
    papers = [{**HEAT, "id": f"heat-{n}"} for n in range(40)]
    catalog = write_catalog(tmp_path / "s.yaml", papers)
    args = ["resolve", "--catalog", str(catalog), "--lock", str(tmp_path / "l.json")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 2, lines  # one failure line for the 40 entries, one summary
    assert lines[0].startswith(
        "warning: failed: heat-0, heat-1, heat-2, heat-3, heat-4 and 35 more"
    )
    assert "connection refused" in lines[0] and lines[1].startswith("40 failed")
