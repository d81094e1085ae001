"""`sources.lock.json`: the resolved records, committed so builds need no network.

The file is written with sorted keys and one field per line, so a changed
fact shows up as a one-line diff in review. It is read as untrusted input
(pull requests edit it): a duplicate JSON key, a value outside the schema of
`bib.lock_schema`, an impossible date or two entries with one citation key
is one error naming the file, the line and the JSON path.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import orjson

from bib.atomic import write_text_atomic
from bib.errors import LockError
from bib.fields import valid_date
from bib.lock_schema import LOCK_VERSION, SCHEMA
from bib.memo import recall, remember
from bib.record import Record


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


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON objects whose keys repeat are refused: json.loads would keep the last silently."""
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        repeated = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _DuplicateKey(repeated)
    return data


@cache
def _validator():
    """Compiled on first use: fastjsonschema turns the schema into Python code once per run."""
    return fastjsonschema.compile(SCHEMA)


def read(path: str | Path) -> dict[str, LockedEntry]:
    """id -> entry; a missing lock is an empty one (a project that never resolved)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except IsADirectoryError as exc:
        raise LockError("is a directory, not a lock file", path=str(path)) from exc
    except OSError as exc:
        raise LockError(f"cannot read lock: {exc.strerror}", path=str(path)) from exc
    return loads(raw, str(path))


def _line_of(text: str, entry_id: str | None) -> int | None:
    """The line where an entry starts, so an editor can jump to it."""
    if entry_id is None:
        return None
    match = re.search(r'^\s*"' + re.escape(entry_id) + r'"\s*:', text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _json_path(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        index = isinstance(part, int) or str(part).isdigit()
        out += f"[{part}]" if index else (f".{part}" if out else str(part))
    return out


def loads(text: str | bytes, path: str = "sources.lock.json") -> dict[str, LockedEntry]:
    """The entries of a lock's `text`; the same bytes checked before (`bib.memo`) are
    only decoded, not checked again."""
    known = recall("lock", text)
    if known is not None:
        # orjson refuses what the standard parser lets through (an escaped lone
        # surrogate); such a lock simply takes the checked path.
        with suppress(orjson.JSONDecodeError):
            entries = _entry_by_entry(text, known)
            return entries if entries is not None else _decoded(orjson.loads(text)["entries"])
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LockError("lock is not valid UTF-8", path=path) from exc
    entries = _checked(text, path)
    remember("lock", text, {"ids": _ids_digest(entries)})
    return entries


def _ids_digest(ids: Iterable[str]) -> str:
    return hashlib.sha256("\0".join(ids).encode("utf-8")).hexdigest()


_HEAD = b'{\n  "entries": {\n'
_TAIL = b'\n  },\n  "lock_version": '
_ENTRY_START = b'\n    "'


def _entry_by_entry(text: str | bytes, known: Any) -> dict[str, LockedEntry] | None:
    """A lock as `dumps` writes it, decoded one entry at a time, or None if it is not
    laid out that way (then the whole document is parsed).

    A 100,000-entry lock is 125 MB of JSON; parsed whole, its tree is several times
    that. Each entry starts on a line indented by exactly four spaces, deeper lines
    by more, so the entries can be cut apart; the ids found must be those the
    checked parse remembered, in order, or the cut is not trusted.
    """
    if not isinstance(known, dict) or "ids" not in known:
        return None
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    end = data.rfind(_TAIL)
    if not data.startswith(_HEAD) or end < 0:
        return None
    starts, at = [], len(_HEAD) - 1
    while at != -1 and at < end:
        starts.append(at + 1)
        at = data.find(_ENTRY_START, at + 1, end)
    entries: dict[str, Any] = {}
    try:
        for a, b in zip(starts, [*starts[1:], end + 1], strict=True):
            entries.update(orjson.loads(b"{" + data[a : b - 1].rstrip(b",") + b"}"))
    except orjson.JSONDecodeError:
        return None
    if _ids_digest(entries) != known["ids"]:
        return None
    return _decoded(entries)


def _decoded(entries: dict[str, Any]) -> dict[str, LockedEntry]:
    """Records from a lock that passed every check before.

    Each entry leaves the parsed data as it becomes a record, and each person is
    one object however many papers they wrote: both matter at 100,000 entries.
    """
    people: dict = {}
    decoded: dict[str, LockedEntry] = {}
    for entry_id in list(entries):
        item = entries.pop(entry_id)
        record = Record.from_dict(entry_id, item["key"], item["record"], people)
        decoded[entry_id] = LockedEntry(record, tuple(item.get("identifiers", ())))
    return decoded


def _checked(text: str, path: str) -> dict[str, LockedEntry]:
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise LockError(f"malformed JSON: {exc.msg}", path=path, line=exc.lineno) from exc
    except _DuplicateKey as exc:
        raise LockError(f"duplicate JSON key {exc.args[0]!r}", path=path) from exc
    if not isinstance(data, dict) or data.get("lock_version") != LOCK_VERSION:
        raise LockError(f"not a version {LOCK_VERSION} lock file", path=path)
    try:
        _validator()(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        parts = list(exc.path[1:])  # without fastjsonschema's leading "data"
        entry = parts[1] if len(parts) > 1 and parts[0] == "entries" else None
        where = _json_path(parts[2:] if entry else parts) or "the file"
        rule = exc.message.removeprefix(exc.name).strip()
        if exc.rule == "pattern":  # the regular expression helps nobody; the value does
            names = [p for p in parts if not str(p).isdigit()]
            rule = f"{exc.value!r:.80} is not a valid {names[-1] if names else 'value'}"
        line = _line_of(text, entry)
        raise LockError(f"{where} {rule}", path=path, line=line, entry=entry) from exc
    entries: dict[str, LockedEntry] = {}
    keys: dict[str, str] = {}
    for entry_id, item in data["entries"].items():
        record = Record.from_dict(entry_id, item["key"], item["record"])
        if valid_date(record.issued) != record.issued:
            raise LockError(f"record.issued {list(record.issued)} is not a real date", path=path,
                            line=_line_of(text, entry_id), entry=entry_id)  # fmt: skip
        # biber compares keys case-insensitively, so "Kwon2023" and "kwon2023" collide.
        other = keys.setdefault(record.key.lower(), entry_id)
        if other != entry_id:
            message = (
                f"citation key {record.key!r} is also the key of entry '{other}' (ignoring case)"
            )
            raise LockError(message, path=path, line=_line_of(text, entry_id), entry=entry_id)
        entries[entry_id] = LockedEntry(record, tuple(item.get("identifiers", ())))
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
