"""`bib show ID|KEY`: one entry as the lock holds it, and as the BibTeX file writes it."""

from __future__ import annotations

import json

from bib.errors import InputError
from bib.project import Project
from exporters.bibtex import BIBTEX


def show(project: Project, wanted: str) -> str:
    """The locked record (JSON, as in the lock) and its BibTeX entry, for an id or a key."""
    record = next((r for r in project.bibliography.records if wanted in (r.id, r.key)), None)
    if record is None:
        raise InputError(f"no entry with id or citation key '{wanted}'",
                         path=str(project.catalog_path))  # fmt: skip
    locked = project.locked.get(record.id)
    state = "unresolved (the list's own record)" if record.id in project.unresolved else "resolved"
    if record.id in project.stale:
        state = "stale (the lock's record is for another paper)"
    lines = [f"{record.id} ({record.key}): {state}"]
    if locked is not None:
        lines += ["", json.dumps(locked.record.to_dict(), indent=2, ensure_ascii=False)]
    return "\n".join([*lines, "", BIBTEX.entry(record)])
