"""`sources.lock.json`: the resolved records, committed so builds need no network.

The file is written with sorted keys and one field per line, so a changed
fact shows up as a one-line diff in review.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bib.atomic import write_text_atomic
from bib.errors import LockError
from bib.record import Record

LOCK_VERSION = 1


@dataclass(frozen=True)
class LockedEntry:
    """A resolved record with the identifiers it was resolved from.

    `identifiers` lets a later run see that the catalog now points elsewhere
    (a new pin, a corrected link) and the entry must be resolved again.
    """

    record: Record
    identifiers: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.record.key


def read(path: str | Path) -> dict[str, LockedEntry]:
    """id -> entry; a missing lock is an empty one (a project that never resolved)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise LockError(f"cannot read lock: {exc}", path=str(path)) from exc
    return loads(text, str(path))


def loads(text: str, path: str = "sources.lock.json") -> dict[str, LockedEntry]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LockError(f"malformed JSON: {exc.msg}", path=path, line=exc.lineno) from exc
    if not isinstance(data, dict) or data.get("lock_version") != LOCK_VERSION:
        raise LockError(f"not a version {LOCK_VERSION} lock file", path=path)
    entries: dict[str, LockedEntry] = {}
    for entry_id, item in data.get("entries", {}).items():
        try:
            record = Record.from_dict(entry_id, item["key"], item["record"])
            identifiers = tuple(item.get("identifiers", ()))
        except (KeyError, TypeError, ValueError) as exc:
            raise LockError(f"bad locked entry: {exc}", path=path, entry=entry_id) from exc
        entries[entry_id] = LockedEntry(record, identifiers)
    return entries


def dumps(entries: dict[str, LockedEntry]) -> str:
    data = {
        "lock_version": LOCK_VERSION,
        "entries": {
            entry_id: {
                "key": entry.key,
                "identifiers": list(entry.identifiers),
                "record": entry.record.to_dict(),
            }
            for entry_id, entry in entries.items()
        },
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(path: str | Path, entries: dict[str, LockedEntry]) -> None:
    write_text_atomic(Path(path), dumps(entries))
