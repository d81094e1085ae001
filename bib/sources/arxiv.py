"""arXiv's Atom export API: many ids per request, one request every 3 s.

`max_results` is always sent equal to the batch size: without it arXiv
silently returns only 10 entries. An empty or error feed for an id we asked
for is a failure, never "no such paper".
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

from bib.fields import date_parts
from bib.http import HttpClient, UpstreamError
from bib.ids import normalize_arxiv, normalize_doi
from bib.record import Record
from bib.sources.names import split_name
from bib.sources.upstream import Upstream

UPSTREAM = Upstream(
    "arxiv", "BIB_ARXIV_URL", "https://export.arxiv.org/api/query", interval=3.0
)  # arXiv's API terms: no more than one request every three seconds

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
BATCH = 100  # ids per request: few requests, and the URL stays under 1.5 kB


@dataclass(frozen=True)
class ArxivPaper:
    """A preprint plus the pointers arXiv keeps to its published version."""

    record: Record
    version: str | None
    published_doi: str | None
    journal_ref: str | None


def _text(node: ET.Element | None) -> str:
    return " ".join((node.text or "").split()) if node is not None else ""


def _id_month(arxiv_id: str) -> tuple[int, ...]:
    """(year, month) encoded in a new-style id (YYMM.NNNNN), which arXiv assigns at submission."""
    if "/" in arxiv_id:
        return ()
    return (2000 + int(arxiv_id[:2]), int(arxiv_id[2:4]))


def parse_feed(body: bytes | str) -> list[ArxivPaper]:
    """Entries of an Atom feed; an error entry raises UpstreamError with arXiv's message."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise UpstreamError(f"arXiv: malformed Atom feed ({exc})") from exc
    if root.tag != f"{{{NS['atom']}}}feed":
        raise UpstreamError(f"arXiv: expected an Atom feed, got <{root.tag}>")
    papers = []
    for entry in root.findall("atom:entry", NS):
        entry_id = _text(entry.find("atom:id", NS))
        if "/api/errors" in entry_id:
            raise UpstreamError(f"arXiv: {_text(entry.find('atom:summary', NS)) or entry_id}")
        match = re.search(r"arxiv\.org/abs/(.+)$", entry_id)
        parsed = normalize_arxiv(match.group(1)) if match else None
        if parsed is None:
            raise UpstreamError(f"arXiv: entry id {entry_id!r} is not an arXiv id")
        arxiv_id, version = parsed
        published = _text(entry.find("atom:published", NS))
        issued = date_parts(published[:7].split("-")) or _id_month(arxiv_id)
        primary = entry.find("arxiv:primary_category", NS)
        doi = _text(entry.find("arxiv:doi", NS))
        record = Record(
            id="",
            key="",
            type="preprint",
            title=_text(entry.find("atom:title", NS)),
            authors=tuple(
                split_name(_text(a.find("atom:name", NS))) for a in entry.findall("atom:author", NS)
            ),
            issued=issued,
            arxiv_id=arxiv_id,
            arxiv_class=primary.get("term") if primary is not None else None,
            url=f"https://arxiv.org/abs/{arxiv_id}",
            source="arxiv",
        )
        papers.append(
            ArxivPaper(
                record=record,
                version=version,
                published_doi=normalize_doi(doi) if doi else None,
                journal_ref=_text(entry.find("arxiv:journal_ref", NS)) or None,
            )
        )
    return papers


def fetch_batches(
    client: HttpClient, base_url: str, ids: list[str]
) -> Iterator[dict[str, ArxivPaper]]:
    """id -> paper, one batch at a time, so callers can work during arXiv's 3-second gaps.

    An id arXiv does not return is simply absent: the caller reports that entry as
    failed (arXiv answers an unknown id with an empty feed, not with "no such paper").
    A batch that fails raises, naming the batch's size rather than all its ids.
    """
    wanted = list(dict.fromkeys(ids))
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        params = {"id_list": ",".join(batch), "max_results": str(len(batch))}
        try:
            response = client.get(base_url, params=params)
        except UpstreamError as exc:
            raise UpstreamError(f"arXiv: {exc}") from exc
        papers = parse_feed(response.content)  # an error feed raises with arXiv's message
        if response.status_code != 200:
            raise UpstreamError(f"arXiv: HTTP {response.status_code} for {len(batch)} ids")
        yield {paper.record.arxiv_id: paper for paper in papers if paper.record.arxiv_id in batch}
