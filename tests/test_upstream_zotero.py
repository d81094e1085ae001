"""The loopback Zotero Web API answers the real pyzotero 1.16 client as api.zotero.org does.

Every test drives `pyzotero.zotero.Zotero` (or, where pyzotero cannot send the request,
a raw httpx2 request) against `ZoteroServer` on 127.0.0.1. The item documents are
compared with the real API documents recorded by pyzotero's own test suite in
../shared/corpora/zotero-pyzotero/api_responses (read at test time, never copied).
Several tests pin pyzotero 1.16 behaviour the coming `bib zotero sync` must work around;
their names say "quirk".
"""

from __future__ import annotations

import copy
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from pyzotero import zotero
from pyzotero import zotero_errors as ze

from tests.conftest import CORPORA, shared_path
from tests.upstreams.zotero import (
    KEY_ALPHABET,
    OTHER_USER,
    ZoteroServer,
    build_schema,
    parsed_date,
)

API_KEY = "LoopbackZoteroKey0000001"
CORPUS = CORPORA / "zotero-pyzotero" / "api_responses"

# The conferencePaper fields of the Zotero schema, in schema order (schema.json v22).
CONFERENCE_PAPER_FIELDS = [
    "title", "abstractNote", "date", "proceedingsTitle", "conferenceName", "place",
    "publisher", "volume", "pages", "series", "language", "DOI", "ISBN", "shortTitle", "url",
    "accessDate", "archive", "archiveLocation", "libraryCatalog", "callNumber", "rights",
    "extra",
]  # fmt: skip


def _corpus(name: str) -> Any:
    """One recorded API document; missing ../shared fails the test in CI (shared_path)."""
    return json.loads(shared_path(CORPUS / name).read_text(encoding="utf-8"))


@pytest.fixture
def server() -> Iterator[ZoteroServer]:
    with ZoteroServer(api_key=API_KEY) as fake:
        yield fake
        assert fake.errors == [], "the fake itself raised"


def _client(server: ZoteroServer, key: str | None = API_KEY) -> zotero.Zotero:
    zot = zotero.Zotero("123", "group", key)
    zot.endpoint = server.base_url
    return zot


@pytest.fixture
def zot(server: ZoteroServer) -> zotero.Zotero:
    return _client(server)


def _raw(server: ZoteroServer, method: str, path: str, **kwargs: Any) -> httpx2.Response:
    """A request pyzotero cannot make (same token twice, no version...), with the API key."""
    headers = {"Zotero-API-Key": API_KEY, "Zotero-API-Version": "3", **kwargs.pop("headers", {})}
    with httpx2.Client(trust_env=False) as client:
        return client.request(method, server.base_url + path, headers=headers, **kwargs)


def _paper(
    zot: zotero.Zotero, title: str, item_type: str = "conferencePaper", **fields: Any
) -> dict:
    """A filled-in template, as the sync will build items."""
    item = zot.item_template(item_type)
    item["title"] = title
    item["creators"] = [{"creatorType": "author", "firstName": "Ada", "lastName": "Lovelace"}]
    item.update(fields)
    return item


def _create(zot: zotero.Zotero, *items: dict) -> list[str]:
    report = zot.create_items(list(items))
    assert report["failed"] == {}, report["failed"]
    return [report["success"][str(i)] for i in range(len(items))]


# -- authentication, headers, schema ------------------------------------------------------------


def test_pyzotero_authenticates_with_a_bearer_header(
    server: ZoteroServer, zot: zotero.Zotero
) -> None:
    zot.items()
    sent = server.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["zotero-api-version"] == "3"
    assert "zotero-api-key" not in sent.headers
    assert zot.request.headers["zotero-api-version"] == "3"
    # The other two ways the API accepts a key work as well.
    assert _raw(server, "GET", "/groups/123/items").status_code == 200
    plain = httpx2.get(f"{server.base_url}/groups/123/items?key={API_KEY}", trust_env=False)
    assert plain.status_code == 200


def test_a_wrong_or_missing_key_is_forbidden(server: ZoteroServer) -> None:
    with pytest.raises(ze.UserNotAuthorisedError, match="Invalid key"):
        _client(server, "WrongKey0000000000000000").items()
    with pytest.raises(ze.UserNotAuthorisedError, match="Code: 403"):
        _client(server, None).items()  # a private group: no key, no read
    anonymous = httpx2.post(f"{server.base_url}/groups/123/items", json=[{}], trust_env=False)
    assert anonymous.status_code == 403
    assert anonymous.text == "An API key is required for write requests."
    assert server.items == {}


def test_a_read_only_key_cannot_write() -> None:
    with ZoteroServer(api_key=API_KEY, write_access=False) as server:
        zot = _client(server)
        with pytest.raises(ze.UserNotAuthorisedError, match="Write access denied"):
            zot.create_collections([{"name": "Scheduling"}])
        assert zot.key_info()["access"]["groups"]["123"] == {"library": True, "write": False}


def test_templates_and_type_lists_follow_the_schema(zot: zotero.Zotero) -> None:
    template = zot.item_template("conferencePaper")
    assert list(template) == [
        "itemType", "title", "creators", *CONFERENCE_PAPER_FIELDS[1:], "tags", "collections",
        "relations",
    ]  # fmt: skip
    assert template["creators"] == [{"creatorType": "author", "firstName": "", "lastName": ""}]
    preprint = zot.item_template("preprint")
    assert {"repository", "archiveID", "citationKey", "DOI"} <= set(preprint)
    assert "citationKey" not in zot.item_template("journalArticle")  # Zotero 7 schema
    software = zot.item_template("computerProgram")
    assert software["creators"][0]["creatorType"] == "programmer"
    assert {"versionNumber", "programmingLanguage", "company", "system"} <= set(software)
    assert zot.item_template("note") == {
        "itemType": "note", "note": "", "tags": [], "collections": [], "relations": {},
    }  # fmt: skip
    fields = [f["field"] for f in zot.item_type_fields("conferencePaper")]
    assert fields == CONFERENCE_PAPER_FIELDS
    assert [c["creatorType"] for c in zot.item_creator_types("conferencePaper")] == [
        "author", "contributor", "editor", "translator", "seriesEditor",
    ]  # fmt: skip
    types = {t["itemType"] for t in zot.item_types()}
    assert {"preprint", "dataset", "standard", "note"} <= types
    assert "attachment" not in types
    all_fields = {f["field"] for f in zot.item_fields()}
    assert {"citationKey", "archiveID", "repository"} <= all_fields
    with pytest.raises(ze.UnsupportedParamsError, match="Invalid item type 'paper'"):
        zot.item_template("paper")


def test_citation_key_everywhere_models_the_newer_schema() -> None:
    schema = build_schema(citation_key_everywhere=True)
    assert all("citationKey" in t.fields for t in schema.values() if t.regular)
    assert "citationKey" not in build_schema()["conferencePaper"].fields


def test_type_and_field_lists_match_the_recorded_api(zot: zotero.Zotero) -> None:
    """Every recorded type and field exists here with the same English name, except the
    two renames of the Zotero 7 schema ("Software", "Prog. Language")."""
    renamed = {"computerProgram": "Software", "programmingLanguage": "Prog. Language"}
    types = {t["itemType"]: t["localized"] for t in zot.item_types()}
    for row in _corpus("item_types.json"):
        assert types[row["itemType"]] == renamed.get(row["itemType"], row["localized"])
    fields = {f["field"]: f["localized"] for f in zot.item_fields()}
    for row in _corpus("item_fields.json"):
        assert fields[row["field"]] == renamed.get(row["field"], row["localized"])


# -- creating and reading -------------------------------------------------------------------------


def test_create_items_reports_and_stores_them(server: ZoteroServer, zot: zotero.Zotero) -> None:
    items = [
        _paper(zot, "Orca", proceedingsTitle="OSDI 22", date="2022-07-11"),
        _paper(zot, "vLLM", "journalArticle", publicationTitle="SOSP", DOI="10.1145/3600006"),
        _paper(zot, "Splitwise", "preprint", repository="arXiv", archiveID="arXiv:2311.18677",
               citationKey="patel2024splitwise"),
    ]  # fmt: skip
    report = zot.create_items(items)
    assert list(report) == ["successful", "success", "unchanged", "failed"]
    assert report["unchanged"] == {} and report["failed"] == {}
    keys = [report["success"][i] for i in ("0", "1", "2")]
    assert all(len(k) == 8 and set(k) <= set(KEY_ALPHABET) for k in keys)
    orca = report["successful"]["0"]
    assert orca["key"] == keys[0] and orca["version"] == 1 and orca["data"]["version"] == 1
    assert orca["meta"]["parsedDate"] == "2022-07-11"
    assert orca["meta"]["creatorSummary"] == "Lovelace"
    assert orca["meta"]["createdByUser"]["id"] == server.user_id
    assert zot.request.headers["last-modified-version"] == "1"
    assert server.library_version == 1
    assert server.items[keys[2]]["citationKey"] == "patel2024splitwise"
    # GET /items/{key} answers the object's own version as Last-Modified-Version.
    assert zot.item(keys[1])["data"]["DOI"] == "10.1145/3600006"
    assert zot.request.headers["last-modified-version"] == "1"
    assert zot.num_items() == 3


def test_item_shape_matches_the_recorded_api(server: ZoteroServer, zot: zotero.Zotero) -> None:
    """The 20 recorded items (9 types) and their 15 collections, created by key with
    `version: 0`, come back with the recorded data and the same document shape."""
    collections = _corpus("collections_doc.json")
    by_key = {c["key"]: c for c in collections}
    ordered = sorted(collections, key=lambda c: c["data"]["parentCollection"] in by_key)
    payload = [
        {"key": c["key"], "version": 0, "name": c["data"]["name"],
         "parentCollection": c["data"]["parentCollection"]}
        for c in ordered
    ]  # fmt: skip
    assert zot.create_collections(payload)["failed"] == {}
    recorded = _corpus("items_doc.json")
    sent = [{**doc["data"], "version": 0} for doc in recorded]
    report = zot.create_items(sent)
    assert report["failed"] == {} and len(report["success"]) == 20
    for doc in recorded:
        ours = server.item_json(doc["key"])
        assert set(ours) == set(doc)
        assert set(ours["library"]) == set(doc["library"])
        assert set(ours["links"]) == set(doc["links"])
        assert set(ours["data"]) == set(doc["data"]), doc["data"]["itemType"]
        expected = {k: v for k, v in doc["data"].items() if k != "version"}
        assert {k: v for k, v in ours["data"].items() if k != "version"} == expected
        meta, theirs = ours["meta"], doc["meta"]
        assert meta.get("creatorSummary") == theirs.get("creatorSummary")
        recorded_date = theirs.get("parsedDate", "").replace("-00", "")
        assert recorded_date.startswith(meta.get("parsedDate", ""))
        if recorded_date.count("-") == 2:  # a full date parses to the same day
            assert meta["parsedDate"] == recorded_date
    for doc in collections:
        ours = server.collection_json(doc["key"])
        assert set(ours) == set(doc) and set(ours["data"]) == set(doc["data"])
        assert set(ours["meta"]) == set(doc["meta"])
        assert ours["data"]["parentCollection"] == doc["data"]["parentCollection"]
    sub = next(c for c in collections if c["data"]["parentCollection"])
    assert set(server.collection_json(sub["key"])["links"]) == set(
        _corpus("collection_doc.json")["links"]
    )


def test_paging_follows_link_headers(server: ZoteroServer, zot: zotero.Zotero) -> None:
    for start in range(0, 120, 50):
        _create(zot, *[_paper(zot, f"Paper {n:03d}") for n in range(start, min(start + 50, 120))])
    assert server.writes == 3
    server.reset()
    everything = zot.everything(zot.items())  # pyzotero asks for limit=100, then follows "next"
    assert len(everything) == 120
    assert len({i["key"] for i in everything}) == 120
    assert [r.param("start") for r in server.requests] == [None, "100"]
    page = _raw(server, "GET", "/groups/123/items?limit=50&start=50")
    assert page.headers["total-results"] == "120"
    links = page.links
    base = f"{server.base_url}/groups/123/items"
    assert links["first"]["url"] == f"{base}?limit=50"
    assert links["prev"]["url"] == f"{base}?limit=50"
    assert links["next"]["url"] == f"{base}?limit=50&start=100"
    assert links["last"]["url"] == f"{base}?limit=50&start=100"
    assert links["alternate"]["url"] == "https://www.zotero.org/groups/123/items"
    first = _raw(server, "GET", "/groups/123/items")  # the default page size is 25
    assert len(first.json()) == 25
    assert "first" not in first.links and first.links["next"]["url"] == f"{base}?start=25"
    capped = _raw(server, "GET", "/groups/123/items?limit=500")
    assert len(capped.json()) == 100  # at most 100 a page
    # The default order is dateModified, newest first: the last created comes first.
    assert everything[0]["data"]["title"] == "Paper 119"


def test_since_versions_keys_and_deleted(server: ZoteroServer, zot: zotero.Zotero) -> None:
    keys = _create(zot, _paper(zot, "A"), _paper(zot, "B"), _paper(zot, "C"))
    collection = zot.create_collections([{"name": "Scheduling"}])["success"]["0"]
    assert zot.item_versions() == dict.fromkeys(keys, 1)
    assert zot.collection_versions() == {collection: 2}
    version = server.library_version
    edited = server.edit_item(keys[1], title="B, edited by Alice")
    server.remove_item(keys[2])
    assert zot.item_versions(since=version) == {keys[1]: edited}
    assert zot.collection_versions(since=version) == {}
    assert zot.deleted(since=version) == {
        "collections": [], "items": [keys[2]], "searches": [], "tags": [], "settings": [],
    }  # fmt: skip
    assert zot.last_modified_version() == server.library_version
    listed = _raw(server, "GET", "/groups/123/items?format=keys&since=0")
    assert listed.headers["content-type"] == "text/plain"
    assert sorted(listed.text.split()) == sorted(keys[:2])
    assert zot.item(keys[1])["meta"]["lastModifiedByUser"]["username"] == OTHER_USER[1]
    with pytest.raises(ze.UnsupportedParamsError, match="'since' parameter must be provided"):
        zot.deleted()
    subset = zot.items(itemKey=",".join(keys[:2]))
    assert {i["key"] for i in subset} == set(keys[:2])
    unchanged = _raw(
        server,
        "GET",
        "/groups/123/items",
        headers={"If-Modified-Since-Version": str(server.library_version)},
    )
    assert unchanged.status_code == 304


def test_item_key_lists_are_limited_to_50(server: ZoteroServer) -> None:
    keys = ",".join(f"AAAA{n:04d}".replace("0", "2").replace("1", "3") for n in range(51))
    answer = _raw(server, "GET", f"/groups/123/items?itemKey={keys}")
    assert answer.status_code == 400
    assert _raw(server, "GET", "/groups/123/items?itemKey=notakey").status_code == 400


# -- updating, versions, preconditions -------------------------------------------------------------


def test_update_item_and_update_items_bump_versions(
    server: ZoteroServer, zot: zotero.Zotero
) -> None:
    key_a, key_b = _create(zot, _paper(zot, "A"), _paper(zot, "B"))
    item = zot.item(key_a)
    item["data"]["title"] = "A, revised"
    assert zot.update_item(item) is True  # PATCH with If-Unmodified-Since-Version
    sent = server.requests[-1]
    assert sent.method == "PATCH" and sent.headers["if-unmodified-since-version"] == "1"
    assert zot.request.status_code == 204
    assert zot.request.headers["last-modified-version"] == "2"
    assert server.items[key_a]["title"] == "A, revised" and server.items[key_a]["version"] == 2
    both = [zot.item(key_a)["data"], zot.item(key_b)["data"]]
    both[1]["pages"] = "1-12"
    assert zot.update_items(both) is True  # POST with per-object versions
    report = zot.request.json()
    assert report["unchanged"] == {"0": key_a} and report["success"] == {"1": key_b}
    assert server.items[key_b]["version"] == 3 and server.library_version == 3
    # Writing the same data again changes nothing and keeps the library version.
    again = zot.create_items([zot.item(key_b)["data"]])
    assert again["unchanged"] == {"0": key_b} and server.library_version == 3


def test_a_stale_version_is_refused_with_412(server: ZoteroServer, zot: zotero.Zotero) -> None:
    (key,) = _create(zot, _paper(zot, "A"))
    mine = zot.item(key)
    server.edit_item(key, title="Alice's title")  # someone else edits meanwhile
    mine["data"]["title"] = "My title"
    with pytest.raises(ze.PreConditionFailedError, match=r"expected 1, found 2"):
        zot.update_item(mine)
    report = zot.create_items([mine["data"]])
    assert report["failed"]["0"] == {
        "key": key,
        "code": 412,
        "message": "Item has been modified since specified version (expected 1, found 2)",
    }
    assert server.items[key]["title"] == "Alice's title"


def test_quirk_update_items_swallows_per_object_failures(
    server: ZoteroServer, zot: zotero.Zotero
) -> None:
    """update_items returns True whatever the write report says: the caller must read
    zot.request.json() (or re-read versions) to see a 412."""
    (key,) = _create(zot, _paper(zot, "A"))
    stale = zot.item(key)["data"]
    server.edit_item(key, title="Alice's title")
    stale["title"] = "Mine"
    assert zot.update_items([stale]) is True
    assert zot.request.json()["failed"]["0"]["code"] == 412
    assert server.items[key]["title"] == "Alice's title"


def test_library_version_precondition(server: ZoteroServer, zot: zotero.Zotero) -> None:
    _create(zot, _paper(zot, "A"))
    with pytest.raises(ze.PreConditionFailedError, match="Library has been modified"):
        zot.create_items([_paper(zot, "B")], last_modified=0)
    assert "last-modified-version" not in zot.request.headers
    assert zot.create_items([_paper(zot, "B")], last_modified=1)["failed"] == {}
    assert len(server.items) == 2


def test_client_chosen_keys_create_once(server: ZoteroServer, zot: zotero.Zotero) -> None:
    paper = {**_paper(zot, "Orca"), "key": "KVCA2222", "version": 0}
    assert zot.create_items([paper])["success"] == {"0": "KVCA2222"}
    again = zot.create_items([paper])["failed"]["0"]
    assert again["code"] == 412 and again["key"] == "KVCA2222"
    missing = zot.create_items([{**paper, "key": "GHST2222", "version": 5}])["failed"]["0"]
    assert missing["code"] == 404
    unversioned = {k: v for k, v in paper.items() if k != "version"} | {"key": "NEWK2222"}
    failure = zot.create_items([unversioned])["failed"]["0"]
    assert failure["code"] == 428  # a key with neither a version nor If-Unmodified-Since-Version
    assert zot.create_items([unversioned], last_modified=server.library_version)["failed"] == {}
    assert set(server.items) == {"KVCA2222", "NEWK2222"}


def test_single_object_writes_need_a_version(server: ZoteroServer, zot: zotero.Zotero) -> None:
    (key,) = _create(zot, _paper(zot, "A"))
    path = f"/groups/123/items/{key}"
    assert _raw(server, "PATCH", path, json={"title": "x"}).status_code == 428
    mismatch = _raw(server, "PATCH", path, json={"title": "x", "version": 1},
                    headers={"If-Unmodified-Since-Version": "2"})  # fmt: skip
    assert mismatch.status_code == 400
    stale = _raw(
        server, "PUT", path, json={"title": "x"}, headers={"If-Unmodified-Since-Version": "0"}
    )
    assert stale.status_code == 412 and stale.headers["last-modified-version"] == "1"
    assert (
        _raw(server, "PATCH", "/groups/123/items/ABCD2345", json={"title": "x"}).status_code == 404
    )
    put = _raw(server, "PUT", path, json={"itemType": "book", "title": "A book"},
               headers={"If-Unmodified-Since-Version": "1"})  # fmt: skip
    assert put.status_code == 400 and put.text == "'tags' property not provided"
    assert _raw(server, "DELETE", path).status_code == 428
    assert server.items[key]["title"] == "A"


def test_more_than_50_objects_is_413(server: ZoteroServer, zot: zotero.Zotero) -> None:
    papers = [_paper(zot, f"P{n}") for n in range(51)]
    answer = _raw(server, "POST", "/groups/123/items", json=papers)
    assert answer.status_code == 413
    assert answer.text == "Cannot add more than 50 items at a time"
    with pytest.raises(ze.TooManyItemsError):
        zot.create_items(papers)  # pyzotero refuses before sending
    assert server.items == {}
    keys = _create(zot, *papers[:50]) + _create(zot, papers[50])
    server.reset()
    assert zot.update_items([zot.item(k)["data"] for k in keys]) is True
    posts = [r for r in server.requests if r.method == "POST"]
    assert [len(json.loads(r.body)) for r in posts] == [50, 1]  # update_items chunks by 50


def test_write_tokens_make_a_post_idempotent(server: ZoteroServer) -> None:
    body = [{"itemType": "book", "title": "Once"}]
    token = {"Zotero-Write-Token": "b" * 32}
    first = _raw(server, "POST", "/groups/123/items", json=body, headers=token)
    assert first.status_code == 200 and len(server.items) == 1
    second = _raw(server, "POST", "/groups/123/items", json=body, headers=token)
    assert (second.status_code, second.text) == (412, "Write token already used")
    assert len(server.items) == 1
    # A refused request does not spend its token.
    fresh = {"Zotero-Write-Token": "c" * 32}
    refused = _raw(server, "POST", "/groups/123/items", json=body,
                   headers={**fresh, "If-Unmodified-Since-Version": "0"})  # fmt: skip
    assert refused.status_code == 412
    assert _raw(server, "POST", "/groups/123/items", json=body, headers=fresh).status_code == 200
    # Tokens are kept for 12 hours.
    server.advance_clock(12 * 3600 + 1)
    assert _raw(server, "POST", "/groups/123/items", json=body, headers=token).status_code == 200
    assert len(server.items) == 3
    short = _raw(
        server, "POST", "/groups/123/items", json=body, headers={"Zotero-Write-Token": "x"}
    )
    assert short.status_code == 400


def test_invalid_fields_are_refused_with_zoteros_messages(
    server: ZoteroServer, zot: zotero.Zotero
) -> None:
    report = zot.create_items([
        {"itemType": "preprint", "title": "A", "proceedingsTitle": "OSDI"},
        {"itemType": "preprint", "title": "B", "foo": "bar"},
        {"itemType": "paper", "title": "C"},
        {"title": "D"},
        {"itemType": "book", "title": "E", "creators": [{"creatorType": "programmer", "name": "X"}]},
        {"itemType": "book", "title": "F", "collections": ["ABCD2345"]},
        {"itemType": "book", "title": "G", "proceedingsTitle": ""},
    ])  # fmt: skip
    failed = report["failed"]
    assert failed["0"] == {
        "code": 400,
        "message": "'proceedingsTitle' is not a valid field for type 'preprint'",
    }
    assert failed["1"]["message"] == "Invalid property 'foo'"
    assert failed["2"]["message"] == "'paper' is not a valid itemType"
    assert failed["3"]["message"] == "'itemType' property not provided"
    assert failed["4"]["message"] == "'programmer' is not a valid creator type for item type 'book'"
    assert failed["5"] == {
        "code": 409, "message": "Collection ABCD2345 not found", "data": {"collection": "ABCD2345"},
    }  # fmt: skip
    assert list(report["success"]) == ["6"]  # an empty value of a foreign field is ignored
    (key,) = report["success"].values()
    item = zot.item(key)
    item["data"]["proceedingsTitle"] = "OSDI"  # a field pyzotero knows, not valid for a book
    with pytest.raises(
        ze.UnsupportedParamsError, match="'proceedingsTitle' is not a valid field for type 'book'"
    ):
        zot.update_item(item)
    item["data"].pop("proceedingsTitle")
    item["data"]["foo"] = "bar"  # unknown to any type: pyzotero refuses without a request
    sent = len(server.requests)
    with pytest.raises(ze.InvalidItemFieldsError):
        zot.update_item(item)
    assert [r.path for r in server.requests[sent:]] == []


# -- collections ------------------------------------------------------------------------------------


def test_collections_subcollections_and_membership(
    server: ZoteroServer, zot: zotero.Zotero
) -> None:
    parent = zot.create_collections([{"name": "LLM Serving"}])["success"]["0"]
    subs = zot.create_collections([
        {"name": "Scheduling", "parentCollection": parent},
        {"name": "Memory/KVCache", "parentCollection": parent},
    ])["success"]  # fmt: skip
    assert [c["data"]["name"] for c in zot.collections_top()] == ["LLM Serving"]
    assert {c["key"] for c in zot.collections_sub(parent)} == set(subs.values())
    assert len(zot.all_collections()) == 3
    assert zot.collection(parent)["meta"]["numCollections"] == 2
    (key,) = _create(zot, _paper(zot, "Orca", collections=[subs["0"]]))
    assert [i["key"] for i in zot.collection_items(subs["0"])] == [key]
    item = zot.item(key)
    assert zot.addto_collection(subs["1"], item) is True
    assert server.items[key]["collections"] == [subs["0"], subs["1"]]
    assert zot.collection(subs["1"])["meta"]["numItems"] == 1
    # Only `collections` changed: the version moves, dateModified does not.
    assert server.items[key]["dateModified"] == item["data"]["dateModified"]
    assert server.items[key]["version"] == item["version"] + 1
    collection = zot.collection(subs["1"])
    collection["data"]["name"] = "Memory"
    assert zot.update_collection(collection["data"]) is True
    assert server.collections[subs["1"]]["name"] == "Memory"
    loop = zot.create_collections([{"name": "X", "parentCollection": "ABCD2345"}])["failed"]["0"]
    assert loop["code"] == 409 and loop["message"] == "Parent collection ABCD2345 not found"


def test_quirk_addto_collection_leaves_the_local_copy_stale(
    server: ZoteroServer, zot: zotero.Zotero
) -> None:
    """addto_collection PATCHes and returns True, but the dict passed in keeps its old
    version and collections: a second call with it is refused with 412."""
    first, second = (
        c for c in zot.create_collections([{"name": "A"}, {"name": "B"}])["success"].values()
    )
    (key,) = _create(zot, _paper(zot, "Orca"))
    item = zot.item(key)
    before = copy.deepcopy(item)
    assert zot.addto_collection(first, item) is True
    assert item == before  # neither version nor collections are updated locally
    with pytest.raises(ze.PreConditionFailedError):
        zot.addto_collection(second, item)
    assert zot.addto_collection(second, zot.item(key)) is True
    assert server.items[key]["collections"] == [first, second]


def test_deleting_a_collection_deletes_its_subcollections(
    server: ZoteroServer, zot: zotero.Zotero
) -> None:
    parent = server.add_collection("Parent")
    child = server.add_collection("Child", parent)
    (key,) = _create(zot, _paper(zot, "Orca", collections=[child]))
    version = server.library_version
    assert zot.delete_collection(zot.collection(parent)["data"]) is True
    assert server.collections == {}
    assert set(zot.deleted(since=version)["collections"]) == {parent, child}
    assert server.items[key]["collections"] == []


def test_child_notes_hang_under_their_parent(server: ZoteroServer, zot: zotero.Zotero) -> None:
    (parent,) = _create(zot, _paper(zot, "Orca"))
    note = zot.item_template("note")
    note["note"] = "<p>Read section 3</p>"
    child = zot.create_items([note], parentid=parent)["success"]["0"]
    assert [c["key"] for c in zot.children(parent)] == [child]
    assert zot.item(parent)["meta"]["numChildren"] == 1
    assert [i["key"] for i in zot.top()] == [parent]
    assert {i["key"] for i in zot.items()} == {parent, child}
    fetched = zot.item(child)
    assert fetched["data"]["parentItem"] == parent and "collections" not in fetched["data"]
    assert fetched["links"]["up"]["href"].endswith(f"/groups/123/items/{parent}")
    refused = zot.create_items([_paper(zot, "Not a note")], parentid=parent)["failed"]["0"]
    assert refused["message"] == "Child item must be note, attachment, or annotation"
    version = server.library_version
    assert zot.delete_item(zot.item(parent)) is True  # children go with their parent
    assert server.items == {}
    assert set(zot.deleted(since=version)["items"]) == {parent, child}


# -- trash and deletion -----------------------------------------------------------------------------


def test_trash_then_delete(server: ZoteroServer, zot: zotero.Zotero) -> None:
    keep, trash = _create(zot, _paper(zot, "Keep"), _paper(zot, "Trash"))
    item = zot.item(trash)
    item["data"]["deleted"] = 1
    assert zot.update_item(item) is True
    assert [i["key"] for i in zot.items()] == [keep]
    assert [i["key"] for i in zot.top()] == [keep]
    trashed = zot.trash()
    assert [i["key"] for i in trashed] == [trash] and trashed[0]["data"]["deleted"] == 1
    assert {i["key"] for i in zot.items(includeTrashed=1)} == {keep, trash}
    version = server.library_version
    assert zot.delete_item(zot.item(trash)) is True  # DELETE /items/{key}
    assert zot.request.status_code == 204
    assert set(server.items) == {keep}
    assert zot.deleted(since=version)["items"] == [trash]
    with pytest.raises(ze.ResourceNotFoundError):
        zot.item(trash)


def test_quirk_delete_item_of_a_list_sends_the_first_items_version(
    server: ZoteroServer, zot: zotero.Zotero
) -> None:
    """delete_item([...]) sends the first item's version as If-Unmodified-Since-Version,
    which the API reads as the *library* version: once anything else changed, 412."""
    keys = _create(zot, _paper(zot, "A"), _paper(zot, "B"))
    _create(zot, _paper(zot, "C"))
    items = [zot.item(k) for k in keys]
    with pytest.raises(ze.PreConditionFailedError, match="Library has been modified"):
        zot.delete_item(items)
    assert zot.delete_item(items, last_modified=server.library_version) is True
    assert server.requests[-1].query["itemKey"] == [",".join(keys)]
    assert len(server.items) == 1


# -- rate limits, backoff, faults -----------------------------------------------------------------


def test_429_with_retry_after_is_waited_out(server: ZoteroServer, zot: zotero.Zotero) -> None:
    server.rate_limit(retry_after=1)
    started = time.monotonic()
    assert zot.items() == []
    assert time.monotonic() - started >= 0.9
    assert [r.path for r in server.requests] == ["/groups/123/items"] * 2
    assert server.gaps()[0] >= 0.9


def test_quirks_of_writes_on_429(server: ZoteroServer, zot: zotero.Zotero) -> None:
    """create_items does not retry: it parses the 429 body as JSON and fails; update_items
    neither retries nor fails (the chunk is lost); update_item retries (backoff_check)."""
    (key,) = _create(zot, _paper(zot, "A"))
    zot.item_fields()  # update_items first GETs /itemFields (cached): keep it out of the way
    server.rate_limit(retry_after=0)
    with pytest.raises(json.JSONDecodeError):
        zot.create_items([_paper(zot, "B")])
    assert len(server.items) == 1
    data = zot.item(key)["data"]
    data["title"] = "A, lost"
    server.rate_limit(retry_after=0)
    assert zot.update_items([data]) is True
    assert server.items[key]["title"] == "A"
    item = zot.item(key)
    item["data"]["title"] = "A, retried"
    server.rate_limit(retry_after=0)
    assert zot.update_item(item) is True
    assert server.items[key]["title"] == "A, retried"
    assert server.requests[-2].method == server.requests[-1].method == "PATCH"


def test_backoff_on_a_200_delays_the_next_request(server: ZoteroServer, zot: zotero.Zotero) -> None:
    server.backoff_next(0.3)
    zot.items()
    assert zot.request.headers["backoff"] == "0.3"
    assert zot.backoff_until > time.time()
    zot.items()
    assert "backoff" not in zot.request.headers
    assert server.gaps()[-1] >= 0.25


def test_injected_faults_reach_pyzotero(server: ZoteroServer, zot: zotero.Zotero) -> None:
    server.inject(status=503, body="Service unavailable")
    with pytest.raises(ze.HTTPError, match="Code: 503"):
        zot.items()
    server.inject(status=409, body="Target library is locked")
    with pytest.raises(ze.ConflictError):
        zot.create_items([_paper(zot, "A")])
    assert server.items == {} and server.writes == 0  # faults never reach the fake


# -- helpers and documents ------------------------------------------------------------------------


def test_hand_made_changes_show_up_as_someone_elses(
    server: ZoteroServer, zot: zotero.Zotero
) -> None:
    key = server.add_item({"itemType": "book", "title": "By hand", "date": "March 2021"})
    item = zot.item(key)
    assert item["meta"]["createdByUser"]["username"] == OTHER_USER[1]
    assert item["meta"]["parsedDate"] == "2021-03"
    version = server.edit_item(key, deleted=1)
    assert version == server.library_version == 2
    assert zot.items() == [] and zot.trash()[0]["key"] == key
    with pytest.raises(ValueError, match="'foo' is not a valid itemType"):
        server.add_item({"itemType": "foo"})


def test_parsed_dates() -> None:
    assert parsed_date("2017") == "2017"
    assert parsed_date("2017-06-12") == "2017-06-12"
    assert parsed_date("June 2017") == "2017-06"
    assert parsed_date("12 June 2017") == "2017-06-12"
    assert parsed_date("06/12/2017") == "2017-06-12"
    assert parsed_date("n.d.") is None


def test_the_corpus_is_required_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without ../shared the corpus tests skip on a laptop and fail in CI."""
    monkeypatch.setattr(sys.modules[__name__], "CORPUS", tmp_path / "missing")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match=r"CI must run with \.\./shared"):
        _corpus("items_doc.json")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        _corpus("items_doc.json")
