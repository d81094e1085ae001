"""Readers for the recorded responses in ../shared/corpora (never copied into the repo)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import yaml

from tests.conftest import CORPORA, shared_path


def arxiv_responses() -> list[tuple[Path, int, bytes]]:
    """(file, status, UTF-8 body) of every recorded arXiv API response."""
    folder = shared_path(CORPORA / "arxiv-arxivpy" / "fixtures")
    out = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out.append((path, data["status_code"], data["body"].encode("latin-1")))
    return out


def _body(response: dict) -> bytes:
    body = response.get("body", {}).get("string", b"")
    raw = body if isinstance(body, bytes) else body.encode("utf-8")
    encoding = {k.lower(): v for k, v in response.get("headers", {}).items()}.get(
        "content-encoding", [""]
    )
    if "gzip" in encoding:
        raw = gzip.decompress(raw)
    return raw


def crossref_interactions() -> Iterator[tuple[Path, str, int, dict, bytes]]:
    """(cassette, request URI, status, headers, decoded body) of every recorded Crossref call."""
    folder = shared_path(CORPORA / "crossref-habanero" / "cassettes")
    for path in sorted(folder.rglob("*.yaml")):
        cassette = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        for item in cassette.get("interactions", []):
            response = item["response"]
            headers = {k.lower(): v[0] if isinstance(v, list) else v
                       for k, v in response.get("headers", {}).items()}  # fmt: skip
            yield path, item["request"]["uri"], response["status"]["code"], headers, _body(response)


def crossref_works() -> list[dict]:
    """Every work message recorded from /works (single works and the items of lists)."""
    works = []
    for _, uri, status, headers, body in crossref_interactions():
        if status != 200 or "/works" not in uri or "json" not in headers.get("content-type", ""):
            continue
        message = json.loads(body).get("message", {})
        if message.get("items") is not None:
            works.extend(message["items"])
        elif "DOI" in message:
            works.append(message)
    return works


__all__ = ["arxiv_responses", "crossref_interactions", "crossref_works"]
