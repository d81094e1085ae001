"""Where this tool keeps what is not the project's: the user's cache directory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`$BIB_CACHE_DIR`, else the platform's user cache directory (XDG on Linux).

    Raw responses, the Zotero sync state and the build locks live here, never in
    the repository.
    """
    env = os.environ if environ is None else environ
    if env.get("BIB_CACHE_DIR"):
        return Path(env["BIB_CACHE_DIR"])
    return Path(platformdirs.user_cache_dir("llm-serving-bib", appauthor=False))
