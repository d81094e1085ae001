"""`bib zotero sync`: fetch the group's state, plan, and apply the plan with pyzotero.

A small state file in the user's cache directory remembers the library
version and what was written last, so a re-sync that finds nothing changed
costs three read requests (`since=` queries) and no write.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
from pyzotero import zotero
from pyzotero import zotero_errors as ze

from bib import catalog as catalog_mod
from bib import lock as lock_mod
from bib.atomic import write_text_atomic
from bib.build import bibliography
from bib.cache import default_dir
from bib.errors import BibError, InputError
from bib.http import HostPolicy, PoliteTransport
from bib.record import Bibliography
from exporters.zotero import Action, Desired, object_key, plan, restrict, to_item

WRITE_BATCH = 50  # the API's limit per write request
LIBRARY_TYPES = ("group", "user")


class ZoteroError(BibError):
    """The Zotero API refused or failed; the message never contains the API key."""

    exit_code = 1


@dataclass(frozen=True)
class ZoteroConfig:
    library_id: str
    library_type: str = "group"
    endpoint: str = "https://api.zotero.org"
    api_key: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ZoteroConfig:
        env = os.environ if environ is None else environ
        missing = [n for n in ("ZOTERO_API_KEY", "ZOTERO_LIBRARY_ID") if not env.get(n)]
        if missing:
            raise InputError(f"set {' and '.join(missing)} in the environment to sync with Zotero")
        library_type = env.get("ZOTERO_LIBRARY_TYPE", "group")
        if library_type not in LIBRARY_TYPES:
            raise InputError(f"ZOTERO_LIBRARY_TYPE must be 'group' or 'user', not {library_type!r}")
        return cls(
            library_id=env["ZOTERO_LIBRARY_ID"],
            library_type=library_type,
            endpoint=env.get("ZOTERO_ENDPOINT", "https://api.zotero.org").rstrip("/"),
            api_key=env["ZOTERO_API_KEY"],
        )

    def redact(self, text: str) -> str:
        return text.replace(self.api_key, "<ZOTERO_API_KEY>") if self.api_key else text


@dataclass
class SyncReport:
    actions: list[Action] = field(default_factory=list)
    done: dict[str, int] = field(default_factory=dict)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # key, title, reason
    requests: int = 0
    writes: int = 0
    collections_created: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and not any(a.kind == "conflict" for a in self.actions)


def _digest(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


class _Session:
    """One sync: the pyzotero client, the state file and the request counters."""

    def __init__(self, config: ZoteroConfig, state_path: Path, transport) -> None:
        self.config = config
        self.state_path = state_path
        host = urlsplit(config.endpoint).netloc
        self.transport = PoliteTransport({host: HostPolicy(retries=4)}, inner=transport)
        client = httpx2.Client(transport=self.transport, follow_redirects=True)
        self.zot = zotero.Zotero(
            config.library_id, config.library_type, config.api_key, client=client
        )
        self.zot.endpoint = config.endpoint
        self.writes = 0
        self.missing_collections: list[dict] = []  # ours, to create (deterministic keys)
        self.retired: list[str] = []  # ours, under the top collection, no category any more
        self.progress: Callable[[int, int, str], None] | None = None
        try:
            self.state = json.loads(state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.state = {}

    def call(self, what: str, fn: Callable, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ze.UserNotAuthorisedError as exc:
            raise ZoteroError(
                f"Zotero refused the API key for {what} (403): check its access"
            ) from exc
        except (ze.PyZoteroError, httpx2.HTTPError, ValueError) as exc:
            message = self.config.redact(f"{type(exc).__name__}: {exc}".splitlines()[0])
            raise ZoteroError(f"Zotero: {what} failed: {message}") from exc

    def library_version(self) -> int:
        header = self.zot.request.headers.get("Last-Modified-Version") if self.zot.request else None
        return int(header) if header and header.isdigit() else int(self.state.get("version", 0))

    def save(self) -> None:
        self.state["version"] = self.library_version()
        write_text_atomic(self.state_path, json.dumps(self.state, indent=1, sort_keys=True))

    def write(self, objects: list[dict], what: str) -> dict:
        self.writes += 1
        fn = self.zot.create_collections if what == "collections" else self.zot.create_items
        return self.call(f"writing {what}", fn, objects)


def _desired(bib: Bibliography, config: ZoteroConfig, collection: str) -> Desired:
    """Deterministic keys for the collections and items the catalog wants."""
    library = f"{config.library_type}:{config.library_id}"
    top = object_key(library, "collection", collection)
    subs = {s.title: object_key(library, "collection", collection, s.title) for s in bib.sections}
    names = {s.title: s.name or s.title for s in bib.sections}
    items = {}
    for section in bib.sections:
        for record in section.records:
            data = to_item(record, [section.name or section.title])
            items[object_key(library, "item", record.id)] = {
                **data,
                "collections": [subs[section.title]],
            }
    return Desired(top, subs, items, names)


def _fetch_items(session: _Session, keys: list[str]) -> dict[str, dict]:
    zot, found = session.zot, {}
    for start in range(0, len(keys), WRITE_BATCH):
        batch = ",".join(keys[start : start + WRITE_BATCH])
        items = session.call("reading items", zot.items, itemKey=batch, limit=WRITE_BATCH,
                             includeTrashed=1)  # fmt: skip
        found.update({item["key"]: item["data"] for item in items})
    return found


def _remote_everything(session: _Session, desired: Desired, name: str) -> tuple[Desired, dict]:
    """The full read: our collections (found by name and parent) and every item in them."""
    zot = session.zot
    remote = session.call("reading collections", lambda: zot.everything(zot.collections(limit=100)))
    by_place = {
        (c["data"]["name"], c["data"].get("parentCollection") or None): c["key"] for c in remote
    }
    top = by_place.get((name, None), desired.top)
    subs = {
        label: by_place.get((desired.names[label], top), key)
        for label, key in desired.subcollections.items()
    }
    desired = desired.moved_to(top, subs)
    existing = {c["key"] for c in remote}
    session.retired = sorted(
        c["key"] for c in remote
        if c["data"].get("parentCollection") == top and c["key"] not in subs.values()
    )  # fmt: skip
    found: dict[str, dict] = {}
    for key in [top, *subs.values(), *session.retired]:
        if key in existing:
            page = lambda key=key: zot.everything(zot.collection_items(key, limit=100))  # noqa: E731
            found.update({i["key"]: i["data"] for i in session.call("reading items", page)})
    found.update(_fetch_items(session, [k for k in desired.items if k not in found]))
    session.missing_collections = [
        {"key": key, "version": 0, "name": label, "parentCollection": parent}
        for label, key, parent in [
            (name, top, False),
            *[(desired.names[lbl], k, top) for lbl, k in subs.items()],
        ]
        if key not in existing
    ]
    return desired, found


def _remote_since(session: _Session, desired: Desired) -> tuple[Desired, Desired, dict] | None:
    """(the wants filed where the last sync put them, the part of them to plan, remote items),
    or None when a full read is needed.

    Three requests (items, collections and deletions since the stored library
    version), then only the items that changed are read and planned; the rest
    are as this tool last wrote them.
    """
    state, zot = session.state, session.zot
    known = state.get("collections") or {}
    if not state.get("version") or set(known.get("subs", {})) != set(desired.subcollections):
        return None
    desired = desired.moved_to(known["top"], known["subs"])
    since = state["version"]
    changed = session.call("reading versions", zot.item_versions, since=since)
    collections = session.call("reading versions", zot.collection_versions, since=since)
    deleted = session.call("reading deletions", zot.deleted, since=since)
    if collections or deleted.get("collections"):
        return None
    written = state.get("items", {})
    wanted = {k: _digest(d) for k, d in desired.items.items()}
    check = set(changed) | set(deleted.get("items", [])) | (set(written) ^ set(wanted))
    check |= {k for k in wanted.keys() & written.keys() if written[k] != wanted[k]}
    session.missing_collections = []
    subset = {k: d for k, d in desired.items.items() if k in check}
    todo = Desired(desired.top, desired.subcollections, subset, desired.names)
    return desired, todo, _fetch_items(session, sorted(check))


def _collection_keys(desired: Desired) -> dict:
    return {"top": desired.top, "subs": dict(sorted(desired.subcollections.items()))}


def _valid_fields(session: _Session, item_types: set[str]) -> dict[str, set[str]]:
    cached = session.state.setdefault("fields", {})
    for item_type in sorted(item_types - cached.keys()):
        fields = session.call("reading the item schema", session.zot.item_type_fields, item_type)
        cached[item_type] = sorted(f["field"] for f in fields)
    return {t: set(cached[t]) for t in item_types}


WRITING = ("create", "update", "file", "unfile", "trash")


def _write_items(
    session: _Session, actions: list[Action], desired: Desired, report: SyncReport
) -> list[Action]:
    """Write in batches of 50; returns the actions refused as stale (412), to re-plan."""
    stale: list[Action] = []
    written = session.state.setdefault("items", {})
    for start in range(0, len(actions), WRITE_BATCH):
        batch = actions[start : start + WRITE_BATCH]
        if session.progress:
            session.progress(start, len(actions), "writing items")
        result = session.write([a.data for a in batch], "items")
        for index, action in enumerate(batch):
            failure = result.get("failed", {}).get(str(index))
            if failure is None:
                report.done[action.kind] = report.done.get(action.kind, 0) + 1
                if action.key in desired.items:
                    written[action.key] = _digest(desired.items[action.key])
                else:
                    written.pop(action.key, None)
            elif failure.get("code") == 412:
                stale.append(action)
            else:
                message = session.config.redact(str(failure.get("message", "")))
                report.failed.append((action.key, action.title, message))
        session.save()
    return stale


def _apply(session: _Session, actions: list[Action], desired: Desired, report: SyncReport) -> None:
    if session.missing_collections:
        result = session.write(session.missing_collections, "collections")
        for index, failure in result.get("failed", {}).items():
            title = session.missing_collections[int(index)]["name"]
            report.failed.append((failure.get("key", ""), title, str(failure.get("message"))))
        report.collections_created = len(result.get("successful", {}))
    writes = [a for a in actions if a.kind in WRITING]
    stale = _write_items(session, writes, desired, report)
    retired = [{"key": a.key} for a in actions if a.kind == "remove-collection"]
    if retired:
        session.writes += 1
        version = session.library_version()
        session.call("removing collections", session.zot.delete_collection, retired, version)
        report.done["remove-collection"] = len(retired)
    if not stale:
        return
    # Someone else changed these meanwhile: read them again and re-plan, once.
    fresh = _fetch_items(session, [a.key for a in stale])
    wanted = {a.key: desired.items[a.key] for a in stale if a.key in desired.items}
    subset = Desired(desired.top, desired.subcollections, wanted, desired.names)
    again = [a for a in plan(subset, fresh) if a.kind in WRITING]
    report.actions.extend(again)
    for action in _write_items(session, again, desired, report):
        report.failed.append((action.key, action.title, "edited by someone else twice (412)"))


def sync(
    bib: Bibliography,
    config: ZoteroConfig,
    collection: str,
    *,
    dry_run: bool = False,
    prune: bool = False,
    state_dir: Path | None = None,
    transport: httpx2.BaseTransport | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> SyncReport:
    """Mirror `bib` into `collection` of the configured library; safe to re-run or interrupt."""
    state_dir = state_dir or default_dir() / "zotero"
    where = f"{config.endpoint}|{config.library_type}|{config.library_id}|{collection}"
    name = hashlib.sha256(where.encode()).hexdigest()[:16]
    session = _Session(config, state_dir / f"{name}.json", transport)
    session.progress = progress
    desired = _desired(bib, config, collection)
    # Compare and send only what the item type allows, so an unsendable field never
    # looks like a difference.
    valid = _valid_fields(session, {d["itemType"] for d in desired.items.values()})
    desired.items = {k: restrict(d, valid[d["itemType"]]) for k, d in desired.items.items()}
    changes = _remote_since(session, desired)
    if changes is None:
        desired, remote = _remote_everything(session, desired, collection)
        todo = desired
    else:
        desired, todo, remote = changes
    actions = plan(todo, remote, prune=prune, retired=session.retired)
    report = SyncReport(actions=actions)
    if not dry_run:
        _apply(session, actions, desired, report)
        session.state["collections"] = _collection_keys(desired)
        session.save()
    report.requests = session.transport.stats.requests
    report.writes = session.writes
    return report


def run(
    catalog_path: str,
    lock_path: str,
    *,
    collection: str | None = None,
    dry_run: bool = False,
    prune: bool = False,
    environ: dict[str, str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> SyncReport:
    """The facade the CLI calls: configuration from the environment, records from the lock."""
    config = ZoteroConfig.from_env(environ)
    catalog = catalog_mod.load(catalog_path)
    bib, _unresolved = bibliography(catalog, lock_mod.read(lock_path))
    return sync(bib, config, collection or catalog.title, dry_run=dry_run, prune=prune,
                progress=progress)  # fmt: skip
