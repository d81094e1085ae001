"""The PyPI client against a loopback PyPI serving a real answer (tests/fixtures/pypi)."""

from __future__ import annotations

import json

import pytest

from bib.http import HostPolicy, HttpClient, UpstreamError
from bib.ids import normalize_pypi
from bib.record import Person
from bib.sources import pypi
from tests.conftest import ROOT
from tests.upstreams.pypi import PypiServer

FIXTURES = ROOT / "tests" / "fixtures" / "pypi"


def client() -> HttpClient:
    return HttpClient({"127.0.0.1": HostPolicy(retries=0, timeout=5)})


def test_a_project_is_software_by_its_authors_first_release_and_repository():
    with PypiServer(FIXTURES) as server, client() as http:
        record = pypi.fetch_project(http, server.base_url, "deepspeed-mii", "DeepSpeed-MII")
    assert record is not None
    assert (record.type, record.title, record.source) == ("software", "DeepSpeed-MII", "pypi")
    assert record.authors == (Person(literal="DeepSpeed Team"),)
    assert record.issued == (2022, 10)  # 0.0.1, uploaded 2022-10-24
    assert record.url == "https://github.com/deepspeedai/DeepSpeed-MII"
    assert server.requests[0].path == "/pypi/deepspeed-mii/json"


def test_an_unknown_project_is_none_and_names_are_pep_503():
    assert normalize_pypi("DeepSpeed_MII") == "deepspeed-mii"
    assert normalize_pypi("not a name!") is None
    with PypiServer(FIXTURES) as server, client() as http:
        assert pypi.fetch_project(http, server.base_url, "no-such-project", "X") is None


@pytest.mark.parametrize(
    "body",
    [b"<html>maintenance</html>", b'{"info": "x", "releases": []}', b"[]"],
    ids=["html", "wrong-shape", "list"],
)
def test_hostile_answers_are_one_clean_error(tmp_path, body):
    with PypiServer(FIXTURES) as server, client() as http:
        server.inject(body=body)
        with pytest.raises(UpstreamError, match=r"^PyPI: "):
            pypi.fetch_project(http, server.base_url, "deepspeed-mii", "X")


def test_values_of_the_wrong_type_are_read_as_absent():
    document = json.loads((FIXTURES / "deepspeed-mii.json").read_text())
    document["info"].update(author=["not", "text"], project_urls="nope", home_page=3)
    document["releases"] = {"0.1": [{"upload_time": 7}], "0.2": "x"}
    record = pypi.project_to_record(document, "T")
    assert (record.authors, record.issued, record.url) == ((), (), "3")
