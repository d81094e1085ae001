"""Mirror a bibliography into a Zotero collection: read the library, plan, apply with pyzotero.

A small state file in the user's cache directory remembers the library
version and what was written last, so a re-sync that finds nothing changed
costs three read requests (`since=` queries) and no write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from bib.dirs import cache_dir
from bib.record import Bibliography
from exporters.zotero.items import object_key, to_item
from exporters.zotero.plan import Action, Desired, plan
from exporters.zotero.remote import read_everything, read_since
from exporters.zotero.session import Session, ZoteroConfig, item_digest

WRITE_BATCH = 50  # the API's limit per write request
WRITING = ("create", "update", "file", "unfile", "trash")


@dataclass
class SyncReport:
    actions: list[Action] = field(default_factory=list)
    done: dict[str, int] = field(default_factory=dict)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # key, title, reason
    requests: int = 0
    writes: int = 0
    collections_created: int = 0
    against_empty_library: bool = False  # planned without credentials, no request sent

    @property
    def ok(self) -> bool:
        return not self.failed and not any(a.kind == "conflict" for a in self.actions)


def desired_state(bib: Bibliography, library: str, collection: str) -> Desired:
    """Deterministic keys for the collections and items the catalog wants in `library`
    ("group:123")."""
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


def _valid_fields(session: Session, item_types: set[str]) -> dict[str, set[str]]:
    """Field names per item type, read once from the server's schema and kept in the state file."""
    cached = session.state.setdefault("fields", {})
    for item_type in sorted(item_types - cached.keys()):
        fields = session.call("reading the item schema", session.zot.item_type_fields, item_type)
        cached[item_type] = sorted(f["field"] for f in fields)
    return {t: set(cached[t]) for t in item_types}


def _write_items(
    session: Session, actions: list[Action], desired: Desired, report: SyncReport
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
                    written[action.key] = item_digest(desired.items[action.key])
                else:
                    written.pop(action.key, None)
            elif failure.get("code") == 412:
                stale.append(action)
            else:
                message = session.config.redact(str(failure.get("message", "")))
                report.failed.append((action.key, action.title, message))
        session.save()
    return stale


def _apply(
    session: Session,
    actions: list[Action],
    desired: Desired,
    missing_collections: list[dict],
    report: SyncReport,
) -> None:
    if missing_collections:
        result = session.write(missing_collections, "collections")
        for index, failure in result.get("failed", {}).items():
            title = missing_collections[int(index)]["name"]
            message = session.config.redact(str(failure.get("message", "")))
            report.failed.append((failure.get("key", ""), title, message))
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
    fresh = session.fetch_items([a.key for a in stale], WRITE_BATCH)
    again = [a for a in plan(desired.only(a.key for a in stale), fresh) if a.kind in WRITING]
    report.actions.extend(again)
    for action in _write_items(session, again, desired, report):
        report.failed.append((action.key, action.title, "edited by someone else twice (412)"))


def _collections_to_create(missing: list[dict]) -> list[Action]:
    return [Action("create-collection", c["key"], c["name"]) for c in missing]


def plan_for_empty_library(
    bib: Bibliography, collection: str, library_type: str = "group", library_id: str = ""
) -> SyncReport:
    """The plan against a library with nothing in it, sending no request.

    For `--dry-run` without credentials: it shows what a first sync would
    create. The keys depend on the library, so without its id they are not
    the ones a real sync would use.
    """
    wanted = desired_state(bib, f"{library_type}:{library_id}", collection)
    missing = [{"key": wanted.top, "name": collection}]
    missing += [{"key": key, "name": wanted.names[label]}
                for label, key in wanted.subcollections.items()]  # fmt: skip
    actions = [*_collections_to_create(missing), *plan(wanted, {})]
    return SyncReport(actions=actions, against_empty_library=True)


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
    state_dir = state_dir or cache_dir() / "zotero"
    where = f"{config.endpoint}|{config.library_type}|{config.library_id}|{collection}"
    name = hashlib.sha256(where.encode()).hexdigest()[:16]
    session = Session(config, state_dir / f"{name}.json", transport)
    session.progress = progress
    wanted = desired_state(bib, f"{config.library_type}:{config.library_id}", collection)
    # Compare and send only what the item type allows, so an unsendable field never
    # looks like a difference.
    valid = _valid_fields(session, {d["itemType"] for d in wanted.items.values()})
    wanted = wanted.restricted(valid)
    view = read_since(session, wanted) or read_everything(session, wanted, collection)
    actions = plan(view.todo, view.items, prune=prune, retired=view.retired)
    report = SyncReport(actions=[*_collections_to_create(view.missing_collections), *actions])
    if not dry_run:
        _apply(session, actions, view.desired, view.missing_collections, report)
        session.state["collections"] = {
            "top": view.desired.top,
            "subs": dict(sorted(view.desired.subcollections.items())),
        }
        session.save()
    report.requests = session.requests
    report.writes = session.writes
    return report
