"""Records as Zotero items: the fields this tool owns, and how an item says which paper it is."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from bib.ids import normalize_arxiv
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
