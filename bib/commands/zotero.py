"""`bib zotero sync`: the project's bibliography mirrored into a Zotero library."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from bib.project import Project
from exporters.zotero.session import MissingCredentials, ZoteroConfig
from exporters.zotero.sync import SyncReport, plan_for_empty_library, sync


def run(
    project: Project,
    *,
    collection: str | None = None,
    dry_run: bool = False,
    prune: bool = False,
    environ: Mapping[str, str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> SyncReport:
    """Credentials from the environment, records from the lock; the catalog title as collection.

    A dry run without credentials plans against an empty library and sends no
    request, so the plan can be seen before a key exists; a key that is set but
    malformed is still an error.
    """
    env = os.environ if environ is None else environ
    name = collection or project.catalog.title
    try:
        config = ZoteroConfig.from_env(env)
    except MissingCredentials:
        if not dry_run:
            raise
        return plan_for_empty_library(
            project.bibliography, name,
            env.get("ZOTERO_LIBRARY_TYPE", "").strip() or "group",
            env.get("ZOTERO_LIBRARY_ID", "").strip(),
        )  # fmt: skip
    return sync(project.bibliography, config, name, dry_run=dry_run, prune=prune, progress=progress)
