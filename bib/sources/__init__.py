"""One module per upstream; each turns that upstream's responses into records.

Each module declares an `UPSTREAM` (name, base URL, environment variable,
spacing); `UPSTREAMS` lists them, so a new source is a new module and a row
here, and `polite_client` gives every one of them its own pace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bib.http import HostPolicy, HttpClient
from bib.sources import arxiv, crossref, dblp, pypi, semanticscholar
from bib.sources.upstream import Upstream

UPSTREAMS: dict[str, Upstream] = {
    u.name: u
    for u in (
        arxiv.UPSTREAM,
        crossref.UPSTREAM,
        dblp.UPSTREAM,
        semanticscholar.UPSTREAM,
        pypi.UPSTREAM,
    )
}


@dataclass(frozen=True)
class Endpoints:
    """Base URLs by upstream name (unnamed ones keep their default) and the contact address."""

    urls: Mapping[str, str] = field(default_factory=dict)
    mailto: str | None = None

    def __getitem__(self, name: str) -> str:
        return self.urls.get(name) or UPSTREAMS[name].default_url

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Endpoints:
        """`BIB_<NAME>_URL` for each upstream; `BIB_MAILTO` (or `CROSSREF_MAILTO`) as contact."""
        env = os.environ if environ is None else environ
        urls = {name: env[u.env].rstrip("/") for name, u in UPSTREAMS.items() if env.get(u.env)}
        return cls(urls, env.get("BIB_MAILTO") or env.get("CROSSREF_MAILTO") or None)


def polite_client(endpoints: Endpoints, *, deadline: float | None = None, **kwargs) -> HttpClient:
    """The client a real run uses: each upstream's host gets the spacing its module declares,
    and the whole run ends by `deadline` seconds from now (None: no deadline)."""
    policies = {
        urlsplit(endpoints[name]).netloc: HostPolicy(interval=upstream.interval)
        for name, upstream in UPSTREAMS.items()
    }
    return HttpClient(policies, mailto=endpoints.mailto, deadline=deadline, **kwargs)
