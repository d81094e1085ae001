"""bibtexparser 2.x beside pyzotero 1.16.0 (which declares bibtexparser<2).

The override in pyproject.toml is only safe if every pyzotero call the project
makes avoids pyzotero's bibtexparser-1 code paths; this proves it over HTTP
against a loopback server answering with real Zotero API documents.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from urllib.parse import urlsplit

import bibtexparser
import pytest
from pyzotero import zotero

from tests.conftest import CORPORA, shared_path


def _documents() -> dict[str, bytes]:
    folder = shared_path(CORPORA / "zotero-pyzotero" / "api_responses")
    return {
        "/groups/123/items": (folder / "items_doc.json").read_bytes(),
        "/groups/123/collections": (folder / "collections_doc.json").read_bytes(),
        "/items/new": (folder / "item_template.json").read_bytes(),
    }


@pytest.fixture
def server():
    documents = _documents()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            body = documents.get(parts.path)
            if "format=bibtex" in parts.query:
                body = b"@article{a, title = {Orca}}\n"
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            bibtex = body.startswith(b"@")
            self.send_header(
                "Content-Type", "application/x-bibtex" if bibtex else "application/json"
            )
            self.send_header("Total-Results", str(len(json.loads(body)) if body[:1] == b"[" else 1))
            self.send_header("Last-Modified-Version", "1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_installed_versions_are_the_overridden_pair():
    assert version("pyzotero") == "1.16.0"
    assert int(version("bibtexparser").split(".")[0]) >= 2
    assert hasattr(bibtexparser, "parse_string")  # the v2 API the exporters use


def test_pyzotero_json_calls_work_with_bibtexparser_2(server):
    zot = zotero.Zotero("123", "group", "not-a-real-key")
    zot.endpoint = server
    items = zot.items(limit=5)
    assert items and all("key" in item and "data" in item for item in items)
    collections = zot.collections()
    assert collections and all("name" in c["data"] for c in collections)
    template = zot.item_template("conferencePaper")
    assert "title" in template


def test_pyzotero_bibtex_format_is_the_one_path_that_needs_bibtexparser_1(server):
    """Documented in the README: the project never asks pyzotero for format=bibtex."""
    zot = zotero.Zotero("123", "group", "not-a-real-key")
    zot.endpoint = server
    with pytest.raises(AttributeError, match="bparser"):
        zot.items(format="bibtex")


def test_the_shipped_overrides_file_is_the_projects_override():
    """`uv tool install --overrides overrides.txt .` must install what `uv sync` tests."""
    import tomllib

    from tests.conftest import ROOT

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = pyproject["tool"]["uv"]["override-dependencies"]
    shipped = [
        line.strip()
        for line in (ROOT / "overrides.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert shipped == wanted
