"""Reading a Zotero library: the collections and items a sync has to compare with.

Two ways, each returning a `RemoteView`: a full read (any machine, any
state), and a cheap read of what changed since the version the state file
remembers, which returns None when only a full read can tell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from exporters.zotero.plan import Desired
from exporters.zotero.session import Session, item_digest

READ_BATCH = 50  # item keys per request (the API's limit for itemKey)


@dataclass(frozen=True)
class RemoteView:
    """What a sync plans against.

    `desired` is the catalog's wants filed under the collections that really
    exist; `todo` the part of it worth planning (all of it after a full read);
    `items` the remote items, by key.
    """

    desired: Desired
    todo: Desired
    items: dict[str, dict]
    missing_collections: list[dict] = field(default_factory=list)  # ours, to create
    retired: list[str] = field(default_factory=list)  # ours, no category uses them any more


def read_everything(session: Session, desired: Desired, name: str) -> RemoteView:
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
    retired = sorted(
        c["key"] for c in remote
        if c["data"].get("parentCollection") == top and c["key"] not in subs.values()
    )  # fmt: skip
    found: dict[str, dict] = {}
    for key in [top, *subs.values(), *retired]:
        if key in existing:
            page = lambda key=key: zot.everything(zot.collection_items(key, limit=100))  # noqa: E731
            found.update({i["key"]: i["data"] for i in session.call("reading items", page)})
    found.update(session.fetch_items([k for k in desired.items if k not in found], READ_BATCH))
    missing = [
        {"key": key, "version": 0, "name": label, "parentCollection": parent}
        for label, key, parent in [
            (name, top, False),
            *[(desired.names[lbl], k, top) for lbl, k in subs.items()],
        ]
        if key not in existing
    ]
    return RemoteView(desired, desired, found, missing, retired)


def read_since(session: Session, desired: Desired) -> RemoteView | None:
    """Only what changed since the last sync, or None when a full read is needed.

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
    wanted = {k: item_digest(d) for k, d in desired.items.items()}
    check = set(changed) | set(deleted.get("items", [])) | (set(written) ^ set(wanted))
    check |= {k for k in wanted.keys() & written.keys() if written[k] != wanted[k]}
    items = session.fetch_items(sorted(check), READ_BATCH)
    return RemoteView(desired, desired.only(check), items)
