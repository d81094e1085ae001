"""A connection to one Zotero library: configuration, the pyzotero client, the state file.

Every pyzotero call goes through `Session.call`, which turns pyzotero's and
httpx's exceptions into one `ZoteroError` whose message never holds the key.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
from pyzotero import zotero
from pyzotero import zotero_errors as ze

from bib.atomic import write_text_atomic
from bib.errors import BibError, InputError
from bib.http import HostPolicy, HttpClient

DEFAULT_ENDPOINT = "https://api.zotero.org"
LIBRARY_TYPES = ("group", "user")


def item_digest(data: dict) -> str:
    """What the state file remembers of an item this tool wrote, to notice a change cheaply."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


class ZoteroError(BibError):
    """The Zotero API refused or failed; the message never contains the API key."""

    exit_code = 1


@dataclass(frozen=True)
class ZoteroConfig:
    library_id: str
    library_type: str = "group"
    endpoint: str = DEFAULT_ENDPOINT
    api_key: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ZoteroConfig:
        env = os.environ if environ is None else environ
        missing = [n for n in ("ZOTERO_API_KEY", "ZOTERO_LIBRARY_ID") if not env.get(n)]
        if missing:
            raise InputError(f"set {' and '.join(missing)} in the environment to sync with Zotero")
        library_type = env.get("ZOTERO_LIBRARY_TYPE", "group")
        if library_type not in LIBRARY_TYPES:
            raise InputError(f"ZOTERO_LIBRARY_TYPE must be 'group' or 'user', not {library_type!r}")
        return cls(
            library_id=env["ZOTERO_LIBRARY_ID"],
            library_type=library_type,
            endpoint=env.get("ZOTERO_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/"),
            api_key=env["ZOTERO_API_KEY"],
        )

    def redact(self, text: str) -> str:
        return text.replace(self.api_key, "<ZOTERO_API_KEY>") if self.api_key else text


class Session:
    """One sync's pyzotero client (through our polite HTTP layer), state file and write count."""

    def __init__(
        self, config: ZoteroConfig, state_path: Path, transport: httpx2.BaseTransport | None
    ) -> None:
        self.config = config
        self.state_path = state_path
        host = urlsplit(config.endpoint).netloc
        self.http = HttpClient({host: HostPolicy(retries=4)}, transport=transport)
        self.zot = zotero.Zotero(
            config.library_id, config.library_type, config.api_key, client=self.http.httpx
        )
        self.zot.endpoint = config.endpoint
        self.writes = 0
        self.progress: Callable[[int, int, str], None] | None = None
        try:
            self.state = json.loads(state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.state = {}

    @property
    def requests(self) -> int:
        return self.http.stats.requests

    def call(self, what: str, fn: Callable, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ze.UserNotAuthorisedError as exc:
            raise ZoteroError(
                f"Zotero refused the API key for {what} (403): check its access"
            ) from exc
        except (ze.PyZoteroError, httpx2.HTTPError, ValueError) as exc:
            message = self.config.redact(f"{type(exc).__name__}: {exc}".splitlines()[0])
            raise ZoteroError(f"Zotero: {what} failed: {message}") from exc

    def library_version(self) -> int:
        header = self.zot.request.headers.get("Last-Modified-Version") if self.zot.request else None
        return int(header) if header and header.isdigit() else int(self.state.get("version", 0))

    def save(self) -> None:
        self.state["version"] = self.library_version()
        write_text_atomic(self.state_path, json.dumps(self.state, indent=1, sort_keys=True))

    def write(self, objects: list[dict], what: str) -> dict:
        self.writes += 1
        fn = self.zot.create_collections if what == "collections" else self.zot.create_items
        return self.call(f"writing {what}", fn, objects)

    def fetch_items(self, keys: list[str], batch: int) -> dict[str, dict]:
        """key -> item data for `keys`, trashed items included, `batch` keys per request."""
        found: dict[str, dict] = {}
        for start in range(0, len(keys), batch):
            chunk = ",".join(keys[start : start + batch])
            items = self.call("reading items", self.zot.items, itemKey=chunk, limit=batch,
                              includeTrashed=1)  # fmt: skip
            found.update({item["key"]: item["data"] for item in items})
        return found
