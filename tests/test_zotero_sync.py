"""`bib zotero sync` with the real pyzotero client against the stateful loopback Zotero API."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
from click.testing import CliRunner

from bib.cli import main
from bib.errors import InputError
from bib.project import Project
from bib.record import Bibliography, Section
from bib.secrets import Secret
from exporters.zotero.items import MANAGED_TAG
from exporters.zotero.session import ZoteroConfig, ZoteroError
from exporters.zotero.sync import sync
from tests.conftest import ROOT
from tests.upstreams.zotero import ZoteroServer

TOP = "Awesome LLM Serving Papers"


@pytest.fixture(scope="module")
def bib() -> Bibliography:
    return Project.load(ROOT / "sources.yaml", ROOT / "sources.lock.json").bibliography


@pytest.fixture
def server():
    with ZoteroServer() as running:
        yield running


def config(server: ZoteroServer, key: str | None = None) -> ZoteroConfig:
    secret = Secret("ZOTERO_API_KEY", key or server.api_key)
    return ZoteroConfig(library_id="123", endpoint=server.base_url, api_key=secret)


def run(server, bib, state: Path, **kwargs):
    return sync(bib, config(server), TOP, state_dir=state, **kwargs)


def writes(server) -> list:
    return [r for r in server.requests if r.method in ("POST", "PUT", "PATCH", "DELETE")]


def test_first_sync_creates_47_items_and_11_collections_second_sends_no_write(
    server, bib, tmp_path
):
    first = run(server, bib, tmp_path)
    assert first.ok, first.failed
    assert first.done == {"create": 47} and first.collections_created == 11
    assert len(server.items) == 47 and len(server.collections) == 11
    top = [
        k for k, c in server.collections.items() if c["name"] == TOP and not c["parentCollection"]
    ]
    assert len(top) == 1
    subs = {c["name"] for c in server.collections.values() if c["parentCollection"] == top[0]}
    assert "Scheduling" in subs and "Misc" in subs and len(subs) == 10
    vllm = next(i for i in server.items.values() if "PagedAttention" in i["title"])
    assert vllm["itemType"] == "conferencePaper"
    assert (
        "Citation Key: kwon2023efficient" in vllm["extra"] and "arXiv: 2309.06180" in vllm["extra"]
    )
    assert vllm["DOI"] == "10.1145/3600006.3613165"
    assert {t["tag"] for t in vllm["tags"]} == {"Memory/KVCache", MANAGED_TAG}
    preprint = next(i for i in server.items.values() if i["title"].startswith("SARATHI"))
    assert (preprint["itemType"], preprint["repository"], preprint["archiveID"]) == (
        "preprint",
        "arXiv",
        "arXiv:2308.16369",
    )
    software = next(i for i in server.items.values() if i["title"].startswith("DeepSpeed-MII"))
    assert software["itemType"] == "computerProgram"
    server.reset()
    second = run(server, bib, tmp_path)
    assert second.ok and second.done == {} and second.writes == 0
    assert len(server.requests) <= 3 and not writes(server)


def test_dry_run_plans_and_sends_no_write(server, bib, tmp_path):
    report = run(server, bib, tmp_path, dry_run=True)
    assert [a.kind for a in report.actions].count("create") == 47
    assert not writes(server) and not server.items


def test_edited_entry_costs_one_write(server, bib, tmp_path):
    run(server, bib, tmp_path)
    first = bib.sections[0].records[0]
    edited = Bibliography(bib.title, (
        Section(bib.sections[0].title, bib.sections[0].slug,
                (first.with_(title=first.title + " (Extended)"), *bib.sections[0].records[1:]),
                bib.sections[0].group, bib.sections[0].name),
        *bib.sections[1:],
    ))  # fmt: skip
    server.reset()
    report = run(server, edited, tmp_path)
    assert report.done == {"update": 1}
    assert len(writes(server)) == 1 and len(server.requests) <= 5
    assert any(i["title"].endswith("(Extended)") for i in server.items.values())


def test_category_added_and_removed(server, bib, tmp_path):
    run(server, bib, tmp_path)
    moved = bib.sections[-1]
    regrouped = Bibliography(
        bib.title,
        (*bib.sections[:-1], Section("Elsewhere", "elsewhere", moved.records, None, "Elsewhere")),
    )
    report = run(server, regrouped, tmp_path)
    assert report.ok and report.collections_created == 1
    assert report.done.get("update", 0) + report.done.get("file", 0) == len(moved.records)
    names = {c["name"] for c in server.collections.values()}
    assert "Elsewhere" in names and "Misc" not in names  # the emptied category is removed
    assert report.done["remove-collection"] == 1
    assert len(server.items) == 47  # moved, not duplicated
    elsewhere = next(k for k, c in server.collections.items() if c["name"] == "Elsewhere")
    assert sum(elsewhere in i["collections"] for i in server.items.values()) == len(moved.records)
    server.reset()
    assert run(server, regrouped, tmp_path).writes == 0


def test_left_the_catalog_is_unfiled_not_deleted_and_pruned_into_the_trash(server, bib, tmp_path):
    run(server, bib, tmp_path)
    gone = bib.sections[0].records[0]
    smaller = Bibliography(bib.title, (
        Section(bib.sections[0].title, bib.sections[0].slug, bib.sections[0].records[1:],
                bib.sections[0].group, bib.sections[0].name),
        *bib.sections[1:],
    ))  # fmt: skip
    report = run(server, smaller, tmp_path)
    assert report.done == {"unfile": 1}
    item = next(i for i in server.items.values() if i["title"] == gone.title)
    assert item["collections"] == [] and not item.get("deleted")
    server.reset()
    assert run(server, smaller, tmp_path).writes == 0
    run(server, bib, tmp_path)  # back in the catalog: filed again, same item
    assert len(server.items) == 47
    run(server, smaller, tmp_path / "fresh-state", prune=True)
    item = next(i for i in server.items.values() if i["title"] == gone.title)
    assert item.get("deleted") == 1


def test_hand_added_item_in_the_collection_is_kept(server, bib, tmp_path):
    run(server, bib, tmp_path)
    sub = next(k for k, c in server.collections.items() if c["name"] == "Scheduling")
    mine = server.add_item({"itemType": "journalArticle", "title": "A Paper Someone Added",
                            "collections": [sub]})  # fmt: skip
    report = run(server, bib, tmp_path)
    assert report.ok and report.writes == 0
    run(server, bib, tmp_path / "fresh-state")  # a full read sees it too, and keeps it
    assert server.items[mine]["collections"] == [sub]


def test_two_hand_items_with_one_doi_are_a_conflict_left_alone(server, bib, tmp_path):
    run(server, bib, tmp_path / "setup", dry_run=True)
    sub = server.add_collection(TOP)
    for title in ("copy one", "copy two"):
        server.add_item({"itemType": "conferencePaper", "title": title,
                         "DOI": "10.1145/3600006.3613165", "collections": [sub]})  # fmt: skip
    report = run(server, bib, tmp_path)
    conflicts = [a for a in report.actions if a.kind == "conflict"]
    assert len(conflicts) == 1 and "DOI 10.1145/3600006.3613165" in conflicts[0].reason
    assert not report.ok
    assert len(server.items) == 2 + 46


class _Meddler(httpx2.HTTPTransport):
    """Someone else edits an item just before our write reaches the server."""

    def __init__(self, act) -> None:
        super().__init__()
        self.act = act

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method == "POST" and request.url.path.endswith("/items") and self.act:
            self.act, act = None, self.act
            act()
        return super().handle_request(request)


def test_concurrent_edit_412_is_refetched_and_retried_once(server, bib, tmp_path):
    run(server, bib, tmp_path)
    first = bib.sections[0].records[0]
    key = next(k for k, i in server.items.items() if i["title"] == first.title)
    edited = Bibliography(bib.title, (
        Section(bib.sections[0].title, bib.sections[0].slug,
                (first.with_(pages="1--2"), *bib.sections[0].records[1:]),
                bib.sections[0].group, bib.sections[0].name),
        *bib.sections[1:],
    ))  # fmt: skip
    meddler = _Meddler(lambda: server.edit_item(key, abstractNote="Alice was here"))
    report = sync(edited, config(server), TOP, state_dir=tmp_path, transport=meddler)
    assert report.ok and report.done == {"update": 1}
    assert server.items[key]["pages"] == "1--2"
    assert server.items[key]["abstractNote"] == "Alice was here"  # not ours to overwrite


def test_429_and_backoff_mid_sync(server, bib, tmp_path):
    server.rate_limit(retry_after=1, times=2)
    server.backoff_next(1)
    report = run(server, bib, tmp_path)
    assert report.ok and report.done == {"create": 47}
    assert len(server.items) == 47


class _Killer(httpx2.HTTPTransport):
    """The process dies right after the n-th write reaches the server (its answer is lost)."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = super().handle_request(request)
        if request.method == "POST":
            self.after -= 1
            if self.after == 0:
                response.read()
                raise KeyboardInterrupt
        return response


@pytest.mark.parametrize("after", [1, 2])
def test_killed_sync_run_again_ends_in_the_same_state(server, bib, tmp_path, after):
    with pytest.raises(KeyboardInterrupt):
        sync(bib, config(server), TOP, state_dir=tmp_path, transport=_Killer(after))
    report = run(server, bib, tmp_path)
    assert report.ok
    assert len(server.items) == 47 and len(server.collections) == 11
    server.reset()
    assert run(server, bib, tmp_path).writes == 0


def test_bad_key_is_a_clean_error_without_the_key(server, bib, tmp_path):
    secret = "NotTheRightKey1234567890"
    with pytest.raises(ZoteroError) as info:
        sync(bib, config(server, secret), TOP, state_dir=tmp_path)
    assert "403 Invalid key" in str(info.value) and secret not in str(info.value)


def test_configuration_comes_from_the_environment():
    with pytest.raises(InputError, match="ZOTERO_API_KEY and ZOTERO_LIBRARY_ID"):
        ZoteroConfig.from_env({})
    key = "Sekrit0Sekrit0Sekrit0Sek"
    with pytest.raises(InputError, match="'group' or 'user'"):
        ZoteroConfig.from_env(
            {"ZOTERO_API_KEY": key, "ZOTERO_LIBRARY_ID": "1", "ZOTERO_LIBRARY_TYPE": "x"}
        )
    cfg = ZoteroConfig.from_env({"ZOTERO_API_KEY": key, "ZOTERO_LIBRARY_ID": "9"})
    assert (cfg.library_type, cfg.endpoint) == ("group", "https://api.zotero.org")
    assert key not in repr(cfg)


def test_cli_sync_never_prints_the_key(server, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOTERO_API_KEY", server.api_key)
    monkeypatch.setenv("ZOTERO_LIBRARY_ID", "123")
    monkeypatch.setenv("ZOTERO_ENDPOINT", server.base_url)
    monkeypatch.setenv("BIB_CACHE_DIR", str(tmp_path))
    args = ["--verbose", "zotero", "sync", "--catalog", str(ROOT / "sources.yaml"),
            "--lock", str(ROOT / "sources.lock.json")]  # fmt: skip
    dry = CliRunner().invoke(main, [*args[:3], "--dry-run", *args[3:]])
    assert dry.exit_code == 0, dry.output
    assert "would: 47 create" in dry.output and server.api_key not in dry.output
    real = CliRunner().invoke(main, args)
    assert real.exit_code == 0 and "did: 47 create" in real.output
    assert server.api_key not in real.output
    missing = CliRunner().invoke(main, args, env={"ZOTERO_API_KEY": ""})
    assert missing.exit_code == 2


def test_collections_that_already_exist_under_other_keys_are_reused(server, bib, tmp_path):
    top = server.add_collection(TOP)
    scheduling = server.add_collection("Scheduling", top)
    first = run(server, bib, tmp_path)
    assert first.ok and first.collections_created == 9  # the other nine categories
    assert len(server.collections) == 11
    assert sum(scheduling in i["collections"] for i in server.items.values()) == 6
    server.reset()
    again = run(server, bib, tmp_path)
    assert again.writes == 0 and len(server.requests) <= 3
