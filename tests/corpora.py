"""Readers for the recorded responses in ../shared/corpora (never copied into the repo)."""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class S2Interaction:
    """One recorded Semantic Scholar exchange; `body` is the response body as bytes."""

    cassette: Path
    method: str
    uri: str
    request_body: bytes
    status: int
    headers: dict[str, str]
    body: bytes


@functools.cache
def s2_interactions() -> tuple[S2Interaction, ...]:
    """Every recorded Semantic Scholar exchange, from both cassette dialects (read once).

    Most cassettes hold `response.body.string` and `status.code`; the older ones
    `response.content` and `status_code`. Bodies are plain JSON text.
    """
    folder = shared_path(CORPORA / "semanticscholar-semanticscholar")
    out = []
    for path in sorted(folder.rglob("*.yaml")):
        cassette = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        for item in cassette.get("interactions", []):
            request, response = item["request"], item["response"]
            if "body" in response:
                body, status = response["body"]["string"], response["status"]["code"]
            else:
                body, status = response["content"], response["status_code"]
            headers = {k.lower(): v[0] if isinstance(v, list) else v
                       for k, v in response.get("headers", {}).items()}  # fmt: skip
            sent = request.get("body") or ""
            out.append(S2Interaction(
                path, request["method"], request["uri"],
                sent if isinstance(sent, bytes) else sent.encode("utf-8"),
                status, headers, body if isinstance(body, bytes) else body.encode("utf-8"),
            ))  # fmt: skip
    return tuple(out)


def s2_papers() -> list[dict]:
    """Every full paper object recorded (batch answers and search pages asking many fields),
    plus the one of semanticscholar-zotero-validate, each once (by paperId)."""
    papers: dict[str, dict] = {}
    for item in s2_interactions():
        if item.status != 200:
            continue
        answer = json.loads(item.body)
        listed = answer if isinstance(answer, list) else answer.get("data", [answer])
        for paper in listed:
            if isinstance(paper, dict) and "externalIds" in paper and "title" in paper:
                papers.setdefault(paper["paperId"], paper)
    single = shared_path(CORPORA / "semanticscholar-zotero-validate" / "fixtures")
    paper = json.loads((single / "semanticscholar.json").read_text(encoding="utf-8"))
    papers.setdefault(paper["paperId"], paper)
    return list(papers.values())


__all__ = [
    "S2Interaction",
    "arxiv_responses",
    "crossref_interactions",
    "crossref_works",
    "s2_interactions",
    "s2_papers",
]
