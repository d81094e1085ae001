"""Every loopback upstream serving the committed fixtures, and the BIB_*_URL that point at them.

Used by tests that run the CLI as a user would, and by `.ci/install-check` (run as a
module, it serves until killed and writes the environment to a file).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.upstreams.arxiv import ArxivServer
from tests.upstreams.base import LoopbackServer
from tests.upstreams.crossref import CrossrefServer
from tests.upstreams.dblp import DblpServer
from tests.upstreams.pypi import PypiServer
from tests.upstreams.semanticscholar import SemanticScholarServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@contextmanager
def upstreams(fixtures: Path = FIXTURES) -> Iterator[dict[str, LoopbackServer]]:
    """Every upstream `bib` asks, serving `fixtures`, by name (for fault injection)."""
    with ExitStack() as stack:
        yield {
            "arxiv": stack.enter_context(ArxivServer(fixtures / "arxiv")),
            "crossref": stack.enter_context(CrossrefServer(fixtures / "crossref")),
            "dblp": stack.enter_context(DblpServer(fixtures / "dblp")),
            "semanticscholar": stack.enter_context(
                SemanticScholarServer(fixtures / "semanticscholar")
            ),
            "pypi": stack.enter_context(PypiServer(fixtures / "pypi")),
        }


def environment(servers: dict[str, LoopbackServer]) -> dict[str, str]:
    """The BIB_*_URL variables that send each upstream request of `bib` to `servers`."""
    return {
        "BIB_ARXIV_URL": servers["arxiv"].base_url + "/api/query",
        "BIB_CROSSREF_URL": servers["crossref"].base_url,
        "BIB_DBLP_URL": servers["dblp"].base_url,
        "BIB_SEMANTICSCHOLAR_URL": servers["semanticscholar"].base_url + "/graph/v1",
        "BIB_PYPI_URL": servers["pypi"].base_url,
    }


@contextmanager
def serving(fixtures: Path = FIXTURES) -> Iterator[dict[str, str]]:
    """The environment that sends every upstream request of `bib` to loopback servers."""
    with upstreams(fixtures) as servers:
        yield environment(servers)


if __name__ == "__main__":
    with serving() as env:
        Path(sys.argv[1]).write_text("".join(f"export {k}={v}\n" for k, v in env.items()))
        while True:
            time.sleep(60)
