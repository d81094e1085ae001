"""Which links of an awesome list point at a paper, and which paper link to keep.

A bullet usually carries several links ([Paper], [Code], a stars badge, a blog).
The catalog keeps one, and the resolver can only use a link that names a paper,
so paper pages outrank PDFs, which outrank everything else; a bullet with no
paper link at all is a tool, a model or a blog post, not a paper.
"""

from __future__ import annotations

import re

# Rank 0: the link names the paper's identifier (what bib.ids reads best).
_IDENTIFIER_HOSTS = {"arxiv.org", "export.arxiv.org", "browse.arxiv.org", "doi.org", "dx.doi.org"}
# Rank 1: publishers' and proceedings' landing pages of one paper.
_PROCEEDINGS_HOSTS = {
    "openreview.net", "aclanthology.org", "aclweb.org", "proceedings.mlr.press",
    "proceedings.neurips.cc", "papers.nips.cc", "neurips.cc", "nips.cc", "usenix.org",
    "dl.acm.org", "ieeexplore.ieee.org", "link.springer.com", "openaccess.thecvf.com",
    "proceedings.mlsys.org", "mlsys.org", "vldb.org", "ojs.aaai.org", "aaai.org", "ijcai.org",
    "jmlr.org", "sciencedirect.com", "nature.com", "science.org", "ecva.net", "icml.cc",
    "iclr.cc", "semanticscholar.org", "biorxiv.org", "medrxiv.org", "researchgate.net",
    "dblp.org", "computer.org", "pnas.org", "cell.com", "mdpi.com", "frontiersin.org",
    "tandfonline.com", "wiley.com", "onlinelibrary.wiley.com", "academic.oup.com",
    "papers.ssrn.com", "ssrn.com", "hal.science", "aclanthology.info", "transacl.org",
    "isca-speech.org", "jair.org", "cv-foundation.org", "bmva.org", "paperswithcode.com",
    "ceur-ws.org", "escholarship.org", "sigops.org", "sigarch.org", "ndss-symposium.org",
}  # fmt: skip
# Pages of one paper on hosts that are otherwise code or model hubs.
_PAPER_PATHS = {"huggingface.co": re.compile(r"^/papers/\d{4}\.\d{4,5}")}
# A research lab's page of one publication (Microsoft Research, Meta AI, Google Research).
_PUBLICATION_PAGE = re.compile(r"/(?:research/)?publications?/[\w-]{8,}", re.IGNORECASE)
_CODE_HOSTS = {
    "github.com", "gitlab.com", "bitbucket.org", "huggingface.co", "hf.co", "modelscope.cn",
    "pypi.org", "colab.research.google.com", "kaggle.com", "gitee.com", "github.io",
    "raw.githubusercontent.com", "npmjs.com", "hub.docker.com",
}  # fmt: skip


_PATH = re.compile(r"^[^:]*://[^/?#]*([^?#]*)")
_WEB = re.compile(r"^https?://(?:[^\s/?#@]*@)?([^\s/?#:@]+)", re.IGNORECASE)


def host_of(url: str) -> str:
    """The host of an http(s) URL, lower-case and without `www.`; "" for anything else."""
    found = _WEB.match(url)
    return found.group(1).lower().removeprefix("www.") if found else ""


def _matches(host: str, hosts: set[str]) -> bool:
    """`host` is one of `hosts` or a subdomain of one (cdn.aaai.org, 2023.aclweb.org)."""
    if host in hosts:
        return True
    parts = host.split(".")
    return any(".".join(parts[i:]) in hosts for i in range(1, len(parts) - 1))


def is_web_url(url: str) -> bool:
    """An absolute http(s) URL: the only kind of link a catalog entry may keep."""
    return bool(host_of(url))


def rank(url: str) -> int | None:
    """0-2 for a paper link (lower is better), None for anything else."""
    host = host_of(url)
    if not host:
        return None
    path = _PATH.match(url).group(1)
    if host in _IDENTIFIER_HOSTS:
        return 0
    if _matches(host, _PROCEEDINGS_HOSTS):
        return 1
    pattern = _PAPER_PATHS.get(host)
    if pattern is not None and pattern.match(path):
        return 1
    if path.lower().endswith(".pdf") or _PUBLICATION_PAGE.search(path):
        return 2  # an author's or a lab's copy, even one kept in a code repository
    return None


def is_code_host(url: str) -> bool:
    return _matches(host_of(url), _CODE_HOSTS)


def best(urls: list[str]) -> str | None:
    """The paper link to keep: the best rank, the first among equals; None if none is a paper."""
    ranked = [(r, i, u) for i, u in enumerate(urls) if (r := rank(u)) is not None]
    return min(ranked)[2] if ranked else None
