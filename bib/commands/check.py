"""`bib check`: everything the list's CI should refuse, without a single network request.

Each check compares two things the repository holds (catalog, lock, output/)
so a pull request that edits one and forgets another fails with a message
that says which entry, and what to run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bib import output_set, outputs
from bib.ids import from_link
from bib.outputs import CATEGORY_DIR
from bib.project import Project
from bib.record import Bibliography


@dataclass(frozen=True)
class Problem:
    kind: str  # unresolved, stale, mismatch, duplicate, output
    subject: str  # the entry id or output path it is about
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}: {self.message}"


def check(
    project: Project,
    output_dir: Path = Path("output"),
    basename: str = outputs.DEFAULT_BASENAME,
) -> list[Problem]:
    locked = project.locked
    problems: list[Problem] = []

    for entry in project.entries:
        if entry.id in project.unresolved:
            problems.append(Problem("unresolved", entry.id, "no upstream resolved it yet; run "
                                    "`bib resolve`"))  # fmt: skip
            continue
        now, then = entry.identifier_texts, locked[entry.id].identifiers
        if now != then:
            was = ", ".join(then) or "no identifier"
            problems.append(Problem("stale", entry.id, f"the catalog now gives "
                                    f"{', '.join(now) or 'no identifier'}, the lock was resolved "
                                    f"from {was}; run `bib resolve`"))  # fmt: skip
        record = locked[entry.id].record
        if now == then and entry.id in project.stale:
            message = f"the lock holds {record.title!r}, not this entry's title or an alias"
            problems.append(Problem("stale", entry.id, message + "; run `bib resolve`"))
        link = from_link(entry.link) if entry.link else None
        if link and not entry.pins:
            held = {"doi": record.doi, "arxiv": record.arxiv_id}.get(link.kind)
            if link.kind in ("doi", "arxiv") and held and held != link.value:
                problems.append(Problem("mismatch", entry.id, f"the link names {link} but the "
                                        f"locked record is {link.kind}:{held}; pin the right "
                                        "identifier with a note"))  # fmt: skip
    for entry_id in project.orphans:
        problems.append(Problem("stale", entry_id, "in the lock but no longer in the catalog"))

    resolved = [e.id for e in project.entries if e.id in locked]
    for kind, value_of in (("DOI", lambda r: r.doi), ("arXiv id", lambda r: r.arxiv_id)):
        owners: dict[str, list[str]] = defaultdict(list)
        for entry_id in resolved:
            if value := value_of(locked[entry_id].record):
                owners[value].append(entry_id)
        for value, ids in sorted(owners.items()):
            if len(ids) > 1:
                problems.append(Problem("duplicate", ", ".join(ids), f"share {kind} {value}"))

    # Colliding citation keys cannot get this far: the lock refuses two entries with one
    # key (as biber does, case-insensitively) and new keys avoid every locked one.
    problems.extend(_output_drift(project.bibliography, output_dir, basename))
    return problems


def _unreadable(path: Path, text: str, entries: int) -> list[Problem]:
    """What a BibTeX reader (bibtexparser) makes of a .bib file: every entry, nothing else.

    The writers write text themselves; this is the independent reader that
    proves, on every `bib check`, that they wrote what they meant to.
    """
    import bibtexparser

    library = bibtexparser.parse_string(text)
    found = [f"{len(library.entries)} entries for {entries} papers"] * (
        len(library.entries) != entries
    )
    found += [f"{len(library.failed_blocks)} blocks BibTeX cannot read"] * bool(
        library.failed_blocks
    )
    return [Problem("output", str(path), f"a BibTeX reader finds {what}") for what in found]


def _output_drift(bib: Bibliography, output_dir: Path, basename: str) -> list[Problem]:
    plan = outputs.plan(bib, output_dir, basename=basename)
    problems = []
    for rel, text in sorted(plan.files.items()):
        path = output_dir / rel
        try:
            actual = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            problems.append(Problem("output", str(path), "missing; run `bib build`"))
            continue
        if actual != text:
            problems.append(Problem("output", str(path), "differs from what `bib build` writes"))
        elif path.suffix == ".bib" and CATEGORY_DIR not in rel.parts:
            problems += _unreadable(path, actual, len(bib.records))
    for path in plan.stale:
        problems.append(Problem("output", str(path), "no category writes this any more"))
    for path in output_set.leftovers(output_dir):
        problems.append(
            Problem("output", str(path), "left by an interrupted build; run `bib build`")
        )
    return problems
