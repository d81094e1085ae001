"""A connection to one Zotero library: configuration, the pyzotero client, the state file.

Every pyzotero call goes through `Session.call`, which turns pyzotero's and
httpx's exceptions into one `ZoteroError` whose message never holds the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
from pyzotero import zotero
from pyzotero import zotero_errors as ze

from bib.atomic import write_text_atomic
from bib.errors import BibError, InputError
from bib.http import HostPolicy, HttpClient
from bib.secrets import Secret, redact
from exporters.zotero.errors import explain

DEFAULT_ENDPOINT = "https://api.zotero.org"
LIBRARY_TYPES = ("group", "user")
CREDENTIALS = ("ZOTERO_API_KEY", "ZOTERO_LIBRARY_ID")
RETRIES = 4  # of a 429 or 5xx, by our transport, before pyzotero sees the answer


def item_digest(data: dict) -> str:
    """What the state file remembers of an item this tool wrote, to notice a change cheaply."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


class ZoteroError(BibError):
    """The Zotero API refused or failed; the message never contains the API key."""

    exit_code = 1


class MissingCredentials(InputError):
    """ZOTERO_API_KEY or ZOTERO_LIBRARY_ID is not set (a dry run can do without them)."""


# Zotero_Keys::generate in zotero/dataserver: randomString(24, 'mixed'), i.e. 24 of
# [a-zA-Z0-9]; the server's "Authorization: Bearer" parser accepts only [a-z0-9]+ too.
KEY_FORMAT = re.compile(r"[A-Za-z0-9]{24}")


def _env(env: Mapping[str, str], name: str, default: str = "") -> str:
    """A variable with surrounding white space removed: a `.env` file written on
    Windows ends every value in CR, which would otherwise go out in a header."""
    return env.get(name, default).strip()


def _check(key: Secret, library_id: str, library_type: str) -> None:
    """Refuse a malformed value before any request carries it; an unset one is left to
    the caller (a dry run can do without credentials). The key is never echoed."""
    value = key.reveal()
    if value and not KEY_FORMAT.fullmatch(value):
        odd = sum(not (c.isascii() and c.isalnum()) for c in value)
        detail = f", {odd} of them not a letter or digit" if odd else ""
        raise InputError(
            f"{key.name} is not a Zotero API key (24 letters and digits): "
            f"it has {len(value)} characters{detail}"
        )
    if library_id and not library_id.isdigit():
        raise InputError("ZOTERO_LIBRARY_ID must be the number of the group (or user)")
    if library_type not in LIBRARY_TYPES:
        raise InputError(f"ZOTERO_LIBRARY_TYPE must be 'group' or 'user', not {library_type!r}")


@dataclass(frozen=True)
class ZoteroConfig:
    """One library and the key to it. A malformed key cannot make a config, so no request
    ever carries one, and no error shows one (h11 quotes a bad header value as bytes)."""

    library_id: str
    api_key: Secret
    library_type: str = "group"
    endpoint: str = DEFAULT_ENDPOINT

    def __post_init__(self) -> None:
        if not self.api_key or not self.library_id:
            raise MissingCredentials("a Zotero sync needs an API key and a library id")
        _check(self.api_key, self.library_id, self.library_type)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ZoteroConfig:
        """Every value stripped (see `_env`); what is set is checked before what is missing."""
        env = os.environ if environ is None else environ
        key = Secret("ZOTERO_API_KEY", _env(env, "ZOTERO_API_KEY"))
        library_id = _env(env, "ZOTERO_LIBRARY_ID")
        library_type = _env(env, "ZOTERO_LIBRARY_TYPE") or "group"
        _check(key, library_id, library_type)
        missing = [n for n in CREDENTIALS if not _env(env, n)]
        if missing:
            raise MissingCredentials(
                f"set {' and '.join(missing)} in the environment to sync with Zotero"
            )
        endpoint = _env(env, "ZOTERO_ENDPOINT") or DEFAULT_ENDPOINT
        return cls(library_id, key, library_type, endpoint.rstrip("/"))

    def redact(self, text: str) -> str:
        return redact(text, [self.api_key])


class Session:
    """One sync's pyzotero client (through our polite HTTP layer), state file and write count."""

    def __init__(
        self, config: ZoteroConfig, state_path: Path, transport: httpx2.BaseTransport | None
    ) -> None:
        self.config = config
        self.state_path = state_path
        host = urlsplit(config.endpoint).netloc
        self.http = HttpClient({host: HostPolicy(retries=RETRIES)}, transport=transport)
        # pyzotero raises differently for each status (an empty first line for a 404 or a
        # 5xx, JSONDecodeError for a write refused with 429), so `call` explains a failure
        # from the last answer the server gave, seen here.
        self.last_response: httpx2.Response | None = None
        self.http.httpx.event_hooks["response"].append(self._seen)
        self.zot = zotero.Zotero(
            config.library_id, config.library_type, config.api_key.reveal(),
            client=self.http.httpx,
        )  # fmt: skip
        self.zot.endpoint = config.endpoint
        self.writes = 0
        self.progress: Callable[[int, int, str], None] | None = None
        try:
            self.state = json.loads(state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.state = {}

    def _seen(self, response: httpx2.Response) -> None:
        self.last_response = response

    @property
    def requests(self) -> int:
        return self.http.stats.requests

    def call(self, what: str, fn: Callable, *args, **kwargs):
        """`fn(*args, **kwargs)`; any failure becomes one ZoteroError saying what it means.

        Raised `from None`: the original exception may hold the key (h11 puts the
        whole Authorization header in its message), so it is not chained.
        """
        self.last_response = None
        try:
            return fn(*args, **kwargs)
        except (ze.PyZoteroError, httpx2.HTTPError, ValueError) as exc:
            library = (self.config.library_type, self.config.library_id)
            message = self.config.redact(
                explain(what, exc, self.last_response, library, self.config.endpoint)
            )
        raise ZoteroError(message) from None

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
