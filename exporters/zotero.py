"""Records as Zotero items, and the plan that turns a library's state into the catalog's.

The plan is pure (desired state + remote state -> actions), so `--dry-run`
and most tests need no server; `bib.zotero_sync` fetches and applies it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from bib.ids import normalize_arxiv, normalize_doi
from bib.record import Person, Record

# Zotero object keys: 8 characters from this alphabet (no 0, 1, O).
KEY_ALPHABET = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
MANAGED_TAG = "llm-serving-bib"  # marks items this tool created, so hand-added ones are left alone
ITEM_TYPES = {
    "paper-conference": "conferencePaper",
    "article-journal": "journalArticle",
    "preprint": "preprint",
    "software": "computerProgram",
    "misc": "document",
}
# The fields this tool writes; anything else on an item (notes, a person's edits to
# other fields) is never compared or sent.
MANAGED_FIELDS = (
    "itemType", "title", "creators", "date", "proceedingsTitle", "conferenceName",
    "publicationTitle", "volume", "issue", "pages", "series", "publisher", "place",
    "repository", "archiveID", "versionNumber", "company", "DOI", "url", "extra",
    "citationKey", "tags",
)  # fmt: skip


_ROLES = {"computerProgram": "programmer"}


def object_key(*parts: str) -> str:
    """A deterministic Zotero key: the same catalog id always gives the same item key,
    so a retried or repeated create can never make a second copy."""
    number = int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")
    chars = []
    for _ in range(8):
        number, digit = divmod(number, len(KEY_ALPHABET))
        chars.append(KEY_ALPHABET[digit])
    return "".join(chars)


def _creators(people: Iterable[Person], role: str) -> list[dict[str, str]]:
    out = []
    for person in people:
        if person.literal:
            out.append({"creatorType": role, "name": person.literal})
        else:
            out.append(
                {
                    "creatorType": role,
                    "firstName": person.given or "",
                    "lastName": person.family or "",
                }
            )
    return out


def to_item(record: Record, tags: Iterable[str]) -> dict:
    """The item data this tool wants in Zotero for one record (managed fields only)."""
    item_type = ITEM_TYPES[record.type]
    date = "-".join(f"{part:02d}" if i else str(part) for i, part in enumerate(record.issued))
    extra = [f"Citation Key: {record.key}"]
    if record.arxiv_id and record.type != "preprint":
        extra.append(f"arXiv: {record.arxiv_id}")
    data: dict = {
        "itemType": item_type,
        "title": record.title,
        "creators": _creators(
            record.authors, "programmer" if item_type == "computerProgram" else "author"
        ),
        "date": date,
        "url": record.url or "",
        "extra": "\n".join(extra),
        "citationKey": record.key,
        "tags": [{"tag": t} for t in sorted({*tags, MANAGED_TAG})],
    }
    if item_type == "conferencePaper":
        data.update(proceedingsTitle=record.container_title or "", publisher=record.publisher or "",
                    place=record.publisher_place or "", volume=record.volume or "",
                    pages=record.pages or "", series=record.collection_title or "")  # fmt: skip
    elif item_type == "journalArticle":
        data.update(publicationTitle=record.container_title or "", volume=record.volume or "",
                    issue=record.number or "", pages=record.pages or "")  # fmt: skip
    elif item_type == "preprint" and record.arxiv_id:
        data.update(repository="arXiv", archiveID=f"arXiv:{record.arxiv_id}")
    elif item_type == "computerProgram":
        data.update(versionNumber=record.version or "")
    if record.doi:
        data["DOI"] = record.doi
    return data


def restrict(data: dict, valid: set[str]) -> dict:
    """Only the fields valid for the item's type (plus the universal ones) are ever sent."""
    universal = {"itemType", "creators", "tags", "collections", "relations", "key", "version"}
    return {k: v for k, v in data.items() if k in universal or k in valid}


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


def citation_key_of(data: dict) -> str | None:
    if data.get("citationKey"):
        return data["citationKey"]
    for line in str(data.get("extra", "")).splitlines():
        if line.lower().startswith("citation key:"):
            return line.split(":", 1)[1].strip()
    return None


def arxiv_of(data: dict) -> str | None:
    texts = [
        data.get("archiveID", ""),
        data.get("url", ""),
        *str(data.get("extra", "")).splitlines(),
    ]
    for text in texts:
        tail = str(text).rsplit("/", 1)[-1].rsplit(":", 1)[-1].strip()
        parsed = normalize_arxiv(tail)
        if parsed and ("arxiv" in str(text).lower()):
            return parsed[0]
    return None


@dataclass(frozen=True)
class Action:
    """One step of a sync: create, update, file, unfile, trash, conflict or collection."""

    kind: str
    key: str
    title: str
    data: dict = field(default_factory=dict, compare=False)
    reason: str = ""


@dataclass
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
        return Desired(top, subcollections, items, self.names)


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
