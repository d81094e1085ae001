"""Identifiers: what a link or a pin says about which paper an entry is.

Resolution dispatches on an identifier's kind (`bib.resolve.HANDLERS`), as
manubot's cite module does, so the parsing of links lives here and nowhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

Kind = Literal["doi", "arxiv", "dblp", "url", "pypi"]

# Crossref's own recommendation for matching modern DOIs.
_DOI = re.compile(r"^10\.\d{4,9}/[-._;()/:<>A-Za-z0-9]+$")
_ARXIV_NEW = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
_ARXIV_OLD = re.compile(r"^([a-z-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?$")
_DBLP = re.compile(r"^(conf|journals|books|phd|series|reference|tr)/[\w.-]+/[\w.-]+$")


@dataclass(frozen=True, order=True)
class Identifier:
    kind: Kind
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


def normalize_doi(text: str) -> str | None:
    """A DOI in its canonical lower-case form, or None if `text` is not one.

    DOIs are case-insensitive by definition, so lower-casing makes equal DOIs
    compare equal in the lock and in duplicate checks.
    """
    candidate = text.strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:"):
        if candidate.lower().startswith(prefix):
            candidate = candidate[len(prefix) :]
    candidate = unquote(candidate)
    return candidate.lower() if _DOI.match(candidate) else None


def normalize_arxiv(text: str) -> tuple[str, str | None] | None:
    """(id without version, version or None), or None if `text` is not an arXiv id."""
    candidate = text.strip()
    if candidate.lower().startswith("arxiv:"):
        candidate = candidate[6:]
    match = _ARXIV_NEW.match(candidate)
    if match:
        # Four-digit sequence numbers ended with 1412; from 1501 they have five.
        yymm, number = match.group(1).split(".")
        if int(yymm[2:]) not in range(1, 13) or (len(number) == 5) != (yymm >= "1501"):
            return None
        return match.group(1), match.group(2)
    match = _ARXIV_OLD.match(candidate)
    return (match.group(1), match.group(2)) if match else None


# PEP 508 project names; compared in PEP 503's normalized form.
_PYPI = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")


def normalize_pypi(text: str) -> str | None:
    """A PyPI project name as PEP 503 normalizes it ("DeepSpeed_MII" -> "deepspeed-mii")."""
    name = text.strip()
    return re.sub(r"[-_.]+", "-", name).lower() if _PYPI.match(name) else None


def is_dblp_key(text: str) -> bool:
    return bool(_DBLP.match(text.strip()))


# The commonest link in any list, read without `urlsplit` (a tenth of a large build's
# bibliography); anything unusual about it (a query, %-escapes, a port) takes the
# general path, which gives the same answer.
_ARXIV_LINK = re.compile(
    r"https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/([\w./-]+?)(?:\.pdf)?/?", re.ASCII
)


def from_link(link: str) -> Identifier | None:
    """The identifier a link names, or None when the link identifies no paper.

    A URL identifier is returned only for landing pages of one paper (PMLR,
    USENIX, OpenReview, NeurIPS proceedings); GitHub repositories, project sites
    and authors' PDFs identify nothing and return None.
    """
    link = link.strip()
    if match := _ARXIV_LINK.fullmatch(link):
        parsed = normalize_arxiv(match.group(1))
        return Identifier("arxiv", parsed[0]) if parsed else None
    return _from_parts(link)


def _from_parts(link: str) -> Identifier | None:
    parts = urlsplit(link)
    host = parts.netloc.lower().removeprefix("www.")
    path = unquote(parts.path)
    if host in {"arxiv.org", "export.arxiv.org"}:
        match = re.match(r"^/(?:abs|pdf|html)/(.+?)(?:\.pdf)?/?$", path)
        if match and (parsed := normalize_arxiv(match.group(1))):
            return Identifier("arxiv", parsed[0])
        return None
    if host in {"doi.org", "dx.doi.org"}:
        doi = normalize_doi(path.lstrip("/"))
        return Identifier("doi", doi) if doi else None
    if host == "dl.acm.org":
        match = re.match(r"^/doi/(?:abs/|pdf/|full/|fullHtml/|epdf/)?(10\..+)$", path)
        doi = normalize_doi(match.group(1)) if match else None
        return Identifier("doi", doi) if doi else None
    if host == "dblp.org" or host == "dblp.uni-trier.de":
        match = re.match(r"^/rec/(.+?)(?:\.html|\.bib|\.xml)?$", path)
        if match and is_dblp_key(match.group(1)):
            return Identifier("dblp", match.group(1))
        return None
    if host == "proceedings.mlr.press" and re.match(r"^/v\d+/[\w-]+(\.html)?$", path):
        return Identifier("url", f"https://proceedings.mlr.press{path}")
    if host == "usenix.org" and re.match(r"^/conference/[\w-]+/presentation/[\w-]+$", path):
        return Identifier("url", f"https://www.usenix.org{path}")
    if host == "openreview.net" and parts.query.startswith("id="):
        return Identifier("url", f"https://openreview.net/forum?{parts.query}")
    if host in {"proceedings.neurips.cc", "papers.nips.cc"} and "/paper" in path:
        return Identifier("url", f"https://proceedings.neurips.cc{path}")
    return None
