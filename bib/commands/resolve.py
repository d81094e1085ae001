"""`bib resolve`: resolve the project's new, changed or failed entries into its lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection

from bib.cache import ResponseCache
from bib.dirs import cache_dir
from bib.errors import InputError
from bib.http import HttpClient
from bib.progress import Progress
from bib.project import Project
from bib.resolve import ResolveReport, resolve, to_resolve
from bib.sources import Endpoints, polite_client, semanticscholar

# A run that fails in every way still ends: a minute, plus a second for each entry asked
# about (DBLP, the slowest upstream, answers one request a second).
DEADLINE_BASE = 60.0
DEADLINE_PER_ENTRY = 1.0


def deadline_for(entries: int) -> float:
    return DEADLINE_BASE + DEADLINE_PER_ENTRY * entries


def run(
    project: Project,
    *,
    refresh: bool = False,
    offline: bool = False,
    allow_downgrade: bool = False,
    endpoints: Endpoints | None = None,
    client: HttpClient | None = None,
    today: dt.date | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    only: Collection[str] | None = None,
    limit: int | None = None,
    deadline: float | None = None,
) -> ResolveReport:
    """Resolve and write the lock atomically; the function the CLI and tests call.

    Without a `deadline`, the run gets one that grows with its work (`deadline_for`).
    Ids in `only` that the catalog lacks are an error, not a silent no-op.
    """
    unknown = sorted(set(only or ()) - {e.id for e in project.entries})
    if unknown:
        raise InputError(f"not in {project.catalog_path}: {', '.join(unknown)}")
    if deadline is None:
        todo = to_resolve(project.catalog, project.locked, refresh=refresh, only=only, limit=limit)
        deadline = deadline_for(0 if offline else len(todo))
    endpoints = endpoints or Endpoints.from_env()
    own = client is None
    # --refresh means "ask again", so it neither reads nor trusts the response cache.
    client = client or polite_client(
        endpoints, cache=None if refresh else ResponseCache(cache_dir()), deadline=deadline
    )
    if isinstance(progress, Progress):
        progress.follow(lambda: client.stats.requests)
    try:
        new_lock, report = resolve(
            project.catalog, project.locked, client, endpoints, refresh=refresh, offline=offline,
            allow_downgrade=allow_downgrade, only=only, limit=limit, today=today,
            s2_key=semanticscholar.api_key(), progress=progress,
        )  # fmt: skip
    finally:
        if own:
            client.close()
    project.write_lock(new_lock)
    return report
