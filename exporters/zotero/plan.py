"""The plan that turns a Zotero library's state into the catalog's.

The plan is pure (desired state + remote state -> actions), so `--dry-run`
and most tests need no server; `exporters.zotero.sync` fetches and applies it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from bib.ids import normalize_doi
from exporters.zotero.items import (
    MANAGED_FIELDS,
    MANAGED_TAG,
    arxiv_of,
    citation_key_of,
    restrict,
)


def _norm(value):
    """Comparable form: tags are a set (Zotero may reorder them), empty equals missing."""
    if not value:
        return ""
    if isinstance(value, list):
        if value and isinstance(value[0], dict) and "tag" in value[0]:
            value = sorted(v["tag"] for v in value)
        return json.dumps(value, sort_keys=True)
    return value


def differs(want: dict, have: dict) -> list[str]:
    """Managed fields whose values differ (missing and empty are the same)."""
    return [k for k in want if k in MANAGED_FIELDS and _norm(want[k]) != _norm(have.get(k))]


@dataclass(frozen=True)
class Action:
    """One step of a sync: create, update, file, unfile, trash, conflict or collection."""

    kind: str
    key: str
    title: str
    data: dict = field(default_factory=dict, compare=False)
    reason: str = ""


@dataclass(frozen=True)
class Desired:
    """What the catalog wants: collections by (name, parent) and items by key."""

    top: str
    subcollections: dict[str, str]  # category label -> collection key
    items: dict[str, dict]  # item key -> item data including "collections"
    names: dict[str, str] = field(default_factory=dict)  # category label -> collection name

    def moved_to(self, top: str, subcollections: dict[str, str]) -> Desired:
        """The same wants, filed under collections that already exist with other keys."""
        renumber = {self.top: top, **{self.subcollections[k]: v for k, v in subcollections.items()}}
        items = {key: {**data, "collections": [renumber[c] for c in data["collections"]]}
                 for key, data in self.items.items()}  # fmt: skip
        return replace(self, top=top, subcollections=subcollections, items=items)

    def only(self, keys: Iterable[str]) -> Desired:
        """The same collections, wanting only the items among `keys`."""
        keys = set(keys)
        return replace(self, items={k: d for k, d in self.items.items() if k in keys})

    def restricted(self, valid: dict[str, set[str]]) -> Desired:
        """Each item cut to the fields its type allows (`valid`: item type -> field names)."""
        items = {k: restrict(d, valid[d["itemType"]]) for k, d in self.items.items()}
        return replace(self, items=items)


def match(want_key: str, want: dict, remote: dict[str, dict]) -> tuple[str | None, str]:
    """The remote item this desired item is, by key, citation key, DOI, then arXiv id.

    Returns (key, "") or (None, "") for no match, or (None, reason) for a conflict:
    two remote items claiming the same paper are left alone, not guessed between.
    """
    if want_key in remote:
        return want_key, ""
    for name, probe in (
        ("citation key", citation_key_of),
        ("DOI", lambda d: normalize_doi(d.get("DOI", "") or "")),
        ("arXiv id", arxiv_of),
    ):
        value = probe(want)
        if not value:
            continue
        hits = [k for k, data in remote.items() if probe(data) == value]
        if len(hits) == 1:
            return hits[0], ""
        if len(hits) > 1:
            return None, f"{len(hits)} items share {name} {value}: {', '.join(sorted(hits))}"
    return None, ""


def plan(
    desired: Desired,
    remote: dict[str, dict],
    prune: bool = False,
    retired: Iterable[str] = (),
) -> list[Action]:
    """Actions that make `remote` (items in or near our collections) match `desired`.

    `retired` are sub-collections of ours that no category uses any more: their
    items are moved out, and the collections removed once nothing else is in them.
    """
    retired = set(retired)
    ours = {desired.top, *desired.subcollections.values(), *retired}
    actions: list[Action] = []
    claimed: set[str] = set()
    for key, want in desired.items.items():
        found, conflict = match(key, want, remote)
        if conflict:
            actions.append(Action("conflict", key, want["title"], reason=conflict))
            continue
        if found is None:
            actions.append(Action("create", key, want["title"], {**want, "key": key, "version": 0}))
            continue
        claimed.add(found)
        have = remote[found]
        keep = [c for c in have.get("collections", []) if c not in ours]
        collections = sorted({*keep, *want["collections"]})
        changed = differs(want, have)
        if changed:
            data = {**want, "collections": collections, "key": found, "version": have["version"]}
            actions.append(Action("update", found, want["title"], data, ", ".join(changed)))
        elif sorted(have.get("collections", [])) != collections:
            data = {"key": found, "version": have["version"], "collections": collections}
            actions.append(Action("file", found, want["title"], data))
    for key, have in sorted(remote.items()):
        managed = any(t.get("tag") == MANAGED_TAG for t in have.get("tags", []))
        filed = [c for c in have.get("collections", []) if c in ours]
        if key in claimed or not managed or not filed or have.get("deleted"):
            continue
        rest = [c for c in have.get("collections", []) if c not in ours]
        if prune:
            data = {"key": key, "version": have["version"], "collections": rest, "deleted": 1}
            actions.append(Action("trash", key, have.get("title", ""), data))
        else:
            data = {"key": key, "version": have["version"], "collections": rest}
            actions.append(Action("unfile", key, have.get("title", ""), data))
    occupied = {
        c for key, have in remote.items() for c in have.get("collections", [])
        if key not in claimed and not any(t.get("tag") == MANAGED_TAG for t in have.get("tags", []))
    }  # fmt: skip
    for key in sorted(retired - occupied):
        actions.append(Action("remove-collection", key, "", {"key": key}))
    return actions
