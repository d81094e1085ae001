"""`bib add` and `bib remove`: the maintainer's everyday edits, catalog, lock and output/ in step.

An entry is added as the list would give it (title and link), so the guard of
`bib.resolve` holds: the title is the one the upstream gives for the identifier,
read before the entry is written, and the resolution that follows must match it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bib import catalog_edit, lock
from bib.atomic import write_text_atomic
from bib.catalog import slugify
from bib.commands.build import BuildReport, build_files
from bib.commands.resolve import run as resolve
from bib.errors import InputError
from bib.http import HttpClient, UpstreamError
from bib.ids import Identifier, from_link, normalize_arxiv, normalize_doi
from bib.match import normalize_title
from bib.project import Project
from bib.resolve import Outcome
from bib.sources import Endpoints, arxiv, crossref, polite_client


@dataclass
class AddReport:
    entry_id: str
    key: str  # the citation key, frozen in the lock from now on
    title: str
    outcome: Outcome


def identify(reference: str) -> Identifier | None:
    """What `bib add` was given: an arXiv id, a DOI, a link, or (None) a title."""
    text = reference.strip()
    if re.match(r"^https?://", text):
        found = from_link(text)
        if found is None:
            raise InputError(f"{text} names no paper this tool can read (give its title instead)")
        return found
    if parsed := normalize_arxiv(text):
        return Identifier("arxiv", parsed[0])
    if doi := normalize_doi(text):
        return Identifier("doi", doi)
    return None


def upstream_title(ident: Identifier, endpoints: Endpoints, client: HttpClient) -> str:
    """The title the upstream gives the paper, to write into the catalog as the list's."""
    try:
        if ident.kind == "arxiv":
            for batch in arxiv.fetch_batches(client, endpoints["arxiv"], [ident.value]):
                if ident.value in batch:
                    return batch[ident.value].record.title
        elif ident.kind == "doi":
            found = crossref.fetch_dois(client, endpoints["crossref"], [ident.value])
            if ident.value in found:
                return found[ident.value].title
    except UpstreamError as exc:
        message = f"cannot learn the title of {ident}: {exc} (give it with --title)"
        raise InputError(message) from exc
    raise InputError(f"no upstream knows {ident} (give the title with --title)")


def add(
    project: Project,
    reference: str,
    category: str | None = None,
    *,
    new_category: str | None = None,
    title: str | None = None,
    entry_id: str | None = None,
    output_dir: Path = Path("output"),
    endpoints: Endpoints | None = None,
    client: HttpClient | None = None,
) -> AddReport:
    """Append the paper to a category, resolve it, and build output/.

    The category is `category` (a slug), a `new_category` (a name), or the
    catalog's only one. Nothing is written until the title is known and the
    paper is known not to be in the catalog already.
    """
    name, group = _category(project, category, new_category)
    ident = identify(reference)
    endpoints = endpoints or Endpoints.from_env()
    _refuse_duplicate(project, ident, title)
    if title is None:
        if ident is None:
            title = reference.strip()
        else:
            http = client or polite_client(endpoints)
            try:
                title = upstream_title(ident, endpoints, http)
            finally:
                if client is None:
                    http.close()
        _refuse_duplicate(project, None, title)
    used = {e.id for e in project.entries}
    entry_id = entry_id or _fresh_id(slugify(title.split(":")[0]) or "paper", used)
    if entry_id in used:
        where = str(project.catalog_path)
        raise InputError(f"id '{entry_id}' is already in the catalog", path=where)
    entry: dict[str, str] = {"id": entry_id, "title": title}
    if ident is not None:
        entry["link"] = _link(ident, reference)
    text = project.catalog_path.read_text(encoding="utf-8")
    edited = catalog_edit.append_entry(text, entry, name, group=group,
                                       path=str(project.catalog_path))  # fmt: skip
    write_text_atomic(project.catalog_path, edited)
    added = Project.load(project.catalog_path, project.lock_path, project.venues)
    report = resolve(added, only={entry_id}, endpoints=endpoints, client=client)
    build_files(project.catalog_path, project.lock_path, output_dir, venues=project.venues)
    key = lock.read(project.lock_path)[entry_id].key
    return AddReport(entry_id, key, title, report.outcomes[entry_id])


def _category(project: Project, slug: str | None, new_name: str | None) -> tuple[str, str | None]:
    """The (name, group) the paper goes to."""
    categories = project.catalog.categories
    where = str(project.catalog_path)
    if new_name is not None:
        if slug is not None:
            raise InputError("give --category or --new-category, not both")
        if any(c.name == new_name and c.group is None for c in categories):
            raise InputError(f"category '{new_name}' exists (use --category)", path=where)
        return new_name, None
    if slug is None and len(categories) == 1:
        return categories[0].name, categories[0].group
    target = next((c for c in categories if c.slug == slug), None)
    if target is None:
        known = ", ".join(c.slug for c in categories)
        asked = f"no category '{slug}'" if slug else "which category? give --category"
        raise InputError(f"{asked} (known: {known})", path=where)
    return target.name, target.group


def _refuse_duplicate(project: Project, ident: Identifier | None, title: str | None) -> None:
    """The same paper twice in a list is an edit mistake: refuse it, naming the entry there."""
    for entry in project.entries:
        held = set(entry.identifier_texts)
        if entry.id in project.locked:
            record = project.locked[entry.id].record
            known = (("doi", record.doi), ("arxiv", record.arxiv_id))
            held.update(f"{kind}:{value}" for kind, value in known if value)
        same = ident is not None and str(ident) in held
        if title is not None and not same:
            same = normalize_title(title) in {normalize_title(t)
                                              for t in (entry.title, *entry.aliases)}  # fmt: skip
        if same:
            raise InputError(f"already in the catalog as '{entry.id}'",
                             path=str(project.catalog_path))  # fmt: skip


def remove(project: Project, entry_id: str, *, output_dir: Path = Path("output")) -> BuildReport:
    """Take the entry out of the catalog and the lock, and build output/ without it."""
    text = project.catalog_path.read_text(encoding="utf-8")
    edited = catalog_edit.remove_entry(text, entry_id, path=str(project.catalog_path))
    write_text_atomic(project.catalog_path, edited)
    if entry_id in project.locked:
        lock.write(project.lock_path, {k: v for k, v in project.locked.items() if k != entry_id})
    return build_files(project.catalog_path, project.lock_path, output_dir, venues=project.venues)


def _link(ident: Identifier, reference: str) -> str:
    if re.match(r"^https?://", reference.strip()):
        return reference.strip()
    if ident.kind == "arxiv":
        return f"https://arxiv.org/abs/{ident.value}"
    return f"https://doi.org/{ident.value}"


def _fresh_id(base: str, used: set[str]) -> str:
    if base not in used:
        return base
    return next(f"{base}-{n}" for n in range(2, len(used) + 3) if f"{base}-{n}" not in used)
