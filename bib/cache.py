"""Raw upstream responses, kept in the user's cache directory (never in the repository).

A run that fails half-way, or a `--refresh` soon after, then re-reads what it
already fetched instead of asking arXiv, Crossref or DBLP again.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import httpx2

from bib.atomic import write_text_atomic

DEFAULT_MAX_AGE = 7 * 24 * 3600


class ResponseCache:
    """Successful answers by URL, parameters and (for a JSON POST query) body, one JSON file each.

    A POST body enters the key only as a digest, and request headers never enter
    the file at all: an API key sent as a header cannot end up in the cache.
    """

    def __init__(self, directory: Path, max_age: float = DEFAULT_MAX_AGE) -> None:
        self.directory = directory
        self.max_age = max_age
        self.hits = 0

    def _path(self, url: str, params: dict | None, body: bytes | None = None) -> Path:
        key: list = [url, sorted((params or {}).items())]
        if body is not None:  # GET keys stay as they were, so existing cache files still hit
            key.append(hashlib.sha256(body).hexdigest())
        canonical = json.dumps(key, default=str)
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        return self.directory / digest[:2] / f"{digest}.json"

    def get(
        self, url: str, params: dict | None, body: bytes | None = None
    ) -> httpx2.Response | None:
        path = self._path(url, params, body)
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if time.time() - stored.get("stored", 0) > self.max_age:
            return None
        self.hits += 1
        request = httpx2.Request("GET" if body is None else "POST", url, params=params)
        return httpx2.Response(
            stored["status"], headers=stored["headers"], content=stored["body"].encode("utf-8"),
            request=request,
        )  # fmt: skip

    def put(
        self, url: str, params: dict | None, response: httpx2.Response, body: bytes | None = None
    ) -> None:
        if response.status_code != 200:
            return
        headers = {k: v for k, v in response.headers.items() if k.lower() == "content-type"}
        record = {"url": url, "params": params, "status": 200, "headers": headers,
                  "body": response.text, "stored": time.time()}  # fmt: skip
        write_text_atomic(self._path(url, params, body), json.dumps(record, ensure_ascii=False))
