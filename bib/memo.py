"""What this machine already checked: catalogs and locks it validated, by their exact bytes.

Validating a 10,000-entry lock against its schema, or walking a catalog's YAML
node tree for line numbers, costs more than everything else a build does, and
`make bib` reads the same files again and again. So after a file passed every
check, its digest is remembered in the user's cache; the same bytes, read by
the same code, are not checked twice. The key covers the checking code too (the
source of the modules that parse and validate), so a changed rule checks
everything again. A file that failed is never remembered.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import suppress
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from bib.atomic import write_text_atomic
from bib.dirs import cache_dir

# The modules whose rules decide what passes; their source is part of every key.
_RULES = ("catalog.py", "fields.py", "ids.py", "lock.py", "lock_schema.py", "record.py", "text.py")


@cache
def _rules_digest() -> bytes:
    digest = hashlib.sha256()
    for name in _RULES:
        digest.update(resources.files("bib").joinpath(name).read_bytes())
    return digest.digest()


@cache
def code_digest() -> str:
    """The digest of this tool's own code and data: a build by other code is another build."""
    import bib
    import exporters

    digest = hashlib.sha256()
    for package in (bib, exporters):
        root = Path(package.__file__).parent
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".yaml")):
            digest.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def _path(kind: str, text: str | bytes) -> Path:
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    digest = hashlib.sha256(_rules_digest() + data).hexdigest()
    return cache_dir() / "checked" / f"{kind}-{digest}.json"


def recall(kind: str, text: str | bytes) -> Any | None:
    """What was stored for exactly this `text` of this `kind` after it passed, or None."""
    if os.environ.get("BIB_NO_MEMO"):
        return None
    try:
        return json.loads(_path(kind, text).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def remember(kind: str, text: str, value: Any) -> None:
    """Store `value` (plain JSON data) for `text`; a cache that cannot be written is no error."""
    with suppress(OSError):
        write_text_atomic(_path(kind, text), json.dumps(value, ensure_ascii=False))
