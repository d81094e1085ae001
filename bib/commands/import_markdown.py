"""`bib import-markdown`: an awesome list turned into a catalog file, or merged into one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bib import catalog
from bib.atomic import write_text_atomic
from bib.errors import InputError
from bib.markdown_import import Report, parse_document, read_text, to_yaml


@dataclass(frozen=True)
class ImportResult:
    """The import's report; `text` is the catalog when no output file was given."""

    report: Report
    text: str | None = None
    merge: object | None = None  # a bib.catalog_edit.MergeReport after --merge


def run(
    path: Path,
    output: Path | None,
    *,
    force: bool = False,
    merge: bool = False,
    exclude: tuple[str, ...] = (),
    keep_non_papers: bool = False,
) -> ImportResult:
    """Import the list at `path` (`-` for standard input).

    Without `output` the catalog is returned as text. An existing catalog holds the
    maintainer's curation, so it is replaced only with `force`, or updated in place
    with `merge`, which keeps every pin, alias, note and id.
    """
    text, name = read_text(path)
    imported = parse_document(text, name, exclude=exclude, keep_non_papers=keep_non_papers)
    if merge:
        if output is None:
            raise InputError("--merge needs the catalog to update (-o sources.yaml)")
        if not output.exists():
            raise InputError(f"{output} does not exist; import without --merge first")
        from bib.catalog_edit import merge_file

        report = merge_file(output, imported.catalog)
        return ImportResult(imported.report, merge=report)
    if output is None:
        return ImportResult(imported.report, text=to_yaml(imported.catalog))
    if output.exists() and not force:
        raise InputError(
            f"{output} exists; pass --merge to update it or --force to overwrite its curation"
        )
    yaml_text = to_yaml(imported.catalog)
    catalog.parse(yaml_text, str(output))  # what we write must load
    write_text_atomic(output, yaml_text)
    return ImportResult(imported.report)
