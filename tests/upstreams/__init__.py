"""Loopback stand-ins for arXiv, Crossref, DBLP and Semantic Scholar, each speaking its real protocol."""

from tests.upstreams.arxiv import ArxivServer
from tests.upstreams.base import Fault, LoopbackServer, RecordedRequest, Response
from tests.upstreams.crossref import CrossrefServer
from tests.upstreams.dblp import DblpServer
from tests.upstreams.pypi import PypiServer
from tests.upstreams.semanticscholar import SemanticScholarServer

__all__ = [
    "ArxivServer",
    "CrossrefServer",
    "DblpServer",
    "Fault",
    "LoopbackServer",
    "PypiServer",
    "RecordedRequest",
    "Response",
    "SemanticScholarServer",
]
