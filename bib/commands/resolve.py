"""`bib resolve`: resolve the project's new, changed or failed entries into its lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bib.cache import ResponseCache
from bib.dirs import cache_dir
from bib.http import HttpClient
from bib.progress import Progress
from bib.project import Project
from bib.resolve import ResolveReport, resolve
from bib.sources import DEFAULT_DEADLINE, Endpoints, polite_client


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
    deadline: float | None = DEFAULT_DEADLINE,
) -> ResolveReport:
    """Resolve and write the lock atomically; the function the CLI and tests call."""
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
            allow_downgrade=allow_downgrade, today=today, progress=progress,
        )  # fmt: skip
    finally:
        if own:
            client.close()
    project.write_lock(new_lock)
    return report
