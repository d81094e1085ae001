"""`bib zotero sync`: the project's bibliography mirrored into a Zotero library."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bib.project import Project
from exporters.zotero.session import ZoteroConfig
from exporters.zotero.sync import SyncReport, sync


def run(
    project: Project,
    *,
    collection: str | None = None,
    dry_run: bool = False,
    prune: bool = False,
    environ: Mapping[str, str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> SyncReport:
    """Credentials from the environment, records from the lock; the catalog title as collection."""
    config = ZoteroConfig.from_env(environ)
    return sync(
        project.bibliography, config, collection or project.catalog.title,
        dry_run=dry_run, prune=prune, progress=progress,
    )  # fmt: skip
