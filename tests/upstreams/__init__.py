"""Loopback stand-ins for arXiv, Crossref and DBLP, speaking each upstream's real protocol."""

from tests.upstreams.arxiv import ArxivServer
from tests.upstreams.base import Fault, LoopbackServer, RecordedRequest, Response
from tests.upstreams.crossref import CrossrefServer
from tests.upstreams.dblp import DblpServer

__all__ = [
    "ArxivServer",
    "CrossrefServer",
    "DblpServer",
    "Fault",
    "LoopbackServer",
    "RecordedRequest",
    "Response",
]
