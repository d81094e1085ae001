"""PyPI's JSON API (`/pypi/<project>/json`): software as the project itself publishes it.

A library on a reading list (DeepSpeed-MII) is cited by its authors as PyPI
records them, the year of its first release, and its source repository.
"""

from __future__ import annotations

from bib.fields import date_parts
from bib.http import HttpClient, UpstreamError
from bib.ids import normalize_pypi
from bib.record import Person, Record
from bib.sources.upstream import Upstream
from bib.sources.values import mapping, text

UPSTREAM = Upstream("pypi", "BIB_PYPI_URL", "https://pypi.org")
# The project's own links, best first, for the record's URL.
_URL_LABELS = ("Source", "Source Code", "Repository", "Code", "Homepage", "Home")


def project_to_record(document: dict, title: str) -> Record:
    """A project's JSON as a software record titled `title` (PyPI has no title, only a summary).

    Values of the wrong type are read as absent; `bib.fields.clean_record` judges the rest.
    """
    info = mapping(document.get("info"))
    author = text(info.get("author"))
    uploads = sorted(
        stamp
        for files in mapping(document.get("releases")).values()
        if isinstance(files, list)
        for upload in files
        if isinstance(upload, dict) and (stamp := text(upload.get("upload_time")))
    )
    links = {k: text(v) for k, v in mapping(info.get("project_urls")).items() if text(v)}
    url = next((links[label] for label in _URL_LABELS if label in links), None)
    return Record(
        id="",
        key="",
        type="software",
        title=title,
        authors=(Person(literal=author),) if author else (),
        issued=date_parts(uploads[0][:7].split("-")) if uploads else (),
        url=url or text(info.get("home_page")),
        source="pypi",
    )


def fetch_project(client: HttpClient, base_url: str, name: str, title: str) -> Record | None:
    """The project named `name`, or None if PyPI has none (404)."""
    try:
        response = client.get(f"{base_url.rstrip('/')}/pypi/{name}/json")
    except UpstreamError as exc:
        raise UpstreamError(f"PyPI: {exc}") from exc
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise UpstreamError(f"PyPI: HTTP {response.status_code} for project {name}")
    try:
        document = response.json()
    except ValueError as exc:
        raise UpstreamError(f"PyPI: the answer for project {name} is not JSON") from exc
    listed = normalize_pypi(text(mapping(mapping(document).get("info")).get("name")) or "")
    if listed != name:
        raise UpstreamError(f"PyPI: asked for project {name}, got {listed or 'no name'}")
    return project_to_record(document, title)
