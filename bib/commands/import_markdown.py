"""`bib import-markdown`: an awesome list turned into a catalog file."""

from __future__ import annotations

from pathlib import Path

from bib.errors import InputError
from bib.markdown_import import import_markdown


def import_to(path: Path, output: Path, *, force: bool = False) -> int:
    """Write the catalog of the list at `path` to `output`; the number of entries written.

    An existing catalog holds the maintainer's curation, so it is replaced only with `force`.
    """
    if output.exists() and not force:
        raise InputError(f"{output} exists; pass --force to overwrite its curation")
    text = import_markdown(path)
    output.write_text(text, encoding="utf-8")
    return text.count("  - id: ")
