"""Property-based tests (Hypothesis): parsers fail in one line, writers cannot be broken.

- Any catalog text and any lock text either loads or raises the one-line
  error of its kind (CatalogError, LockError), never anything else.
- Any record, whatever its text fields hold, is written by the BibTeX and
  BibLaTeX exporters as exactly one entry with its key and fields, which
  bibtexparser reads back, with the text decoding to what was written.
"""

from __future__ import annotations

import json
import string
import unicodedata

import bibtexparser
import yaml
from bibtexparser.middlewares import LatexDecodingMiddleware
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from bib import catalog, lock
from bib.errors import CatalogError, LockError
from bib.record import Bibliography, Person, Record, Section
from bib.text import clean_text
from exporters import biblatex, bibtex, csl_json, markdown, text_of
from tests.conftest import ROOT

SEED_CATALOG = (ROOT / "sources.yaml").read_text(encoding="utf-8")
SEED_LOCK = json.loads((ROOT / "sources.lock.json").read_text(encoding="utf-8"))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text as hostile as a list or an upstream can send: TeX specials, BibTeX syntax, controls,
# bidi overrides, emoji, combining marks.
HOSTILE = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("{}@%\\#&$_^~,=\"'`()\n\t\r\x00\u202e\u200b ")),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=60,
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 3000) | st.floats(allow_nan=False) | HOSTILE,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(HOSTILE, inner, max_size=4),
    max_leaves=12,
)


def one_line(error: Exception) -> bool:
    return "\n" not in str(error) and "\r" not in str(error)


# --- catalog and lock parsing -------------------------------------------------------------


@FAST
@given(st.text(max_size=400))
def test_any_text_as_a_catalog_is_a_catalog_or_one_line(text):
    try:
        catalog.parse(text)
    except CatalogError as error:
        assert one_line(error)


@FAST
@given(st.integers(0, SEED_CATALOG.count("\n")), HOSTILE)
def test_the_real_catalog_with_a_hostile_line_inserted(line, insert):
    lines = SEED_CATALOG.splitlines(keepends=True)
    text = "".join([*lines[:line], insert + "\n", *lines[line:]])
    try:
        loaded = catalog.parse(text)
    except CatalogError as error:
        assert one_line(error)
    else:
        assert len(loaded.entries) >= 47


@FAST
@given(JSON)
def test_any_json_as_a_lock_is_a_lock_or_one_line(value):
    try:
        lock.loads(json.dumps(value))
    except LockError as error:
        assert one_line(error)


def _paths(value, prefix=()):
    """Every path into a JSON value, for replacing one part of the real lock."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


LOCK_PATHS = [p for p in _paths(SEED_LOCK["entries"]["vllm"]) if p]


@FAST
@given(st.sampled_from(LOCK_PATHS), JSON)
def test_the_real_lock_with_one_value_replaced(path, value):
    data = json.loads(json.dumps(SEED_LOCK))
    target = data["entries"]["vllm"]
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    try:
        entries = lock.loads(json.dumps(data, indent=2))
    except LockError as error:
        assert one_line(error)
    else:
        assert len(entries) == 47


# --- writers --------------------------------------------------------------------------------

# Keys are validated when the lock is read and when they are made; the writers check too.
KEYS = st.text(string.ascii_letters + string.digits, min_size=1, max_size=12)
TEXT = HOSTILE.filter(lambda t: clean_text(t) != "")
PEOPLE = st.lists(
    st.builds(Person, family=TEXT, given=st.none() | TEXT) | st.builds(Person, literal=TEXT),
    max_size=3,
).map(tuple)
RECORDS = st.builds(
    Record,
    id=st.just("x"),
    key=KEYS,
    type=st.sampled_from(["paper-conference", "article-journal", "preprint", "software", "misc"]),
    title=TEXT,
    authors=PEOPLE,
    issued=st.sampled_from([(), (2023,), (2024, 5), (2022, 11, 30)]),
    container_title=st.none() | TEXT,
    volume=st.none() | TEXT,
    pages=st.none() | TEXT,
    publisher=st.none() | TEXT,
    doi=st.none() | TEXT,
    arxiv_id=st.none() | TEXT,
    arxiv_class=st.none() | TEXT,
    url=st.none() | TEXT.map(lambda t: "https://example.org/" + t),
)


def bibliography(records: list[Record], title: str = "T", category: str = "C") -> Bibliography:
    unique = list({r.key.lower(): r for r in records}.values())
    return Bibliography(title, (Section(category, "c", tuple(unique)),))


@FAST
@given(st.lists(RECORDS, min_size=1, max_size=4), HOSTILE, HOSTILE)
def test_any_records_and_headers_give_one_entry_each(records, title, category):
    bib = bibliography(records, title, category)
    for exporter in (bibtex, biblatex):
        library = bibtexparser.parse_string(exporter.render(bib))
        assert library.failed_blocks == []
        assert [e.key for e in library.entries] == [r.key for r in bib.records]
        for entry, record in zip(library.entries, bib.records, strict=True):
            written = dict(exporter._fields(record))
            assert sorted(f.key for f in entry.fields) == sorted(written)


# Text whose TeX ligatures do not change it ("--" reads as an en dash, `` as a quote).
def _plain(letters: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Titles made of `letters`, digits, spaces and ASCII punctuation, without the
    sequences TeX reads as ligatures ("--" is an en dash, `` a quote)."""
    return st.text(
        alphabet=letters | st.sampled_from(string.digits + string.punctuation + " "),
        min_size=1,
        max_size=40,
    ).filter(lambda t: clean_text(t) == t and not any(s in t for s in ("--", "`", "'", "~")))


def _latex_decoder() -> LatexNodes2Text:
    """pylatexenc's decoder, taught two kernel macros it lacks (LaTeX and biber know them)."""
    context = get_default_latex_context_db()
    braces = [MacroTextSpec("textbraceleft", "{"), MacroTextSpec("textbraceright", "}")]
    context.add_context_category("kernel-braces", macros=braces, prepend=True)
    return LatexNodes2Text(latex_context=context)


DECODE = [LatexDecodingMiddleware(decoder=_latex_decoder())]


def _decoded_title(exporter, title: str) -> str:
    record = Record(id="x", key="k", type="misc", title=title)
    library = bibtexparser.parse_string(
        exporter.render(bibliography([record])), append_middleware=DECODE
    )
    # pylatexenc reads \textasciicircum as a modifier letter; LaTeX prints "^".
    decoded = library.entries[0]["title"]
    return unicodedata.normalize("NFC", decoded.replace("\u02c6", "^"))


@FAST
@given(_plain(st.characters(codec="utf-8", categories=("L", "N"))))
def test_biblatex_titles_decode_back_to_what_was_written(title):
    """biber reads UTF-8: every letter of every script is kept as it is."""
    assume(title.strip())
    assert _decoded_title(biblatex, title) == unicodedata.normalize("NFC", title)


# Latin-1 letters and the accented letters of names in Latin Extended-A (Ł, Ś, Ž, Ő, ...).
# Left out: thorn and eth, whose commands exist only in the T1 font encoding (the writer
# drops them), the ordinals and the micro sign (written as the Greek mu it looks like).
NAME_LETTERS = st.characters(
    min_codepoint=0x41, max_codepoint=0xFF, categories=("L",), exclude_characters="ÞþÐðªºµ"
) | st.sampled_from("ŁłŚśŹźŻżĆćŃńĘęĄąČčŠšŽžŘřĚěŮůŐőŰűĞğŞşĀāĒēĪīŌōŪū")


@FAST
@given(_plain(NAME_LETTERS))
def test_bibtex_titles_decode_back_to_what_was_written(title):
    """BibTeX is 8-bit: accented letters become accent commands and decode back."""
    assume(title.strip())
    assert _decoded_title(bibtex, title) == unicodedata.normalize("NFC", title)


@FAST
@given(st.lists(RECORDS, min_size=1, max_size=4))
def test_csl_json_and_markdown_keep_their_shape(records):
    bib = bibliography(records)
    items = json.loads(csl_json.render(bib))
    assert [item["id"] for item in items] == [r.key for r in bib.records]
    text = markdown.render(bib)
    bullets = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(bullets) == len(bib.records)
    assert "javascript:" not in text.lower()


@FAST
@given(st.sampled_from(["javascript:alert(1)", "data:text/html,x", "JaVaScRiPt:x", "file:///x"]))
def test_no_writer_writes_a_link_that_is_not_http(url):
    record = Record(id="x", key="k", type="misc", title="T", url=url)
    bib = bibliography([record])
    assert all(url.lower() not in e.render(bib).lower() for e in (bibtex, biblatex, markdown))
    assert "URL" not in json.loads(csl_json.render(bib))[0]
    assert yaml.safe_load(yaml.safe_dump({"u": url}))  # the strategy itself is sound


@FAST
@given(st.lists(st.lists(RECORDS, max_size=3), min_size=1, max_size=4))
def test_every_format_split_in_sections_is_the_whole_file_and_each_section_alone(groups):
    """Files written as chunks shared between the whole file and the per-category files
    (empty sections included) hold what each should, checked independently of the writers:
    the standard JSON encoder for CSL-JSON, bibtexparser for the .bib files."""
    seen: set[str] = set()
    sections = []
    for n, records in enumerate(groups):
        unique = [r for r in records if r.key.lower() not in seen and not seen.add(r.key.lower())]
        sections.append(Section(f"C{n}", f"c{n}", tuple(unique)))
    bib = Bibliography("T", tuple(sections))

    def standard(records) -> str:
        items = [csl_json.item(r) for r in records]
        return json.dumps(items, indent=2, ensure_ascii=False, sort_keys=True) + "\n"

    whole, parts = csl_json.render_all(bib)
    assert text_of(whole) == standard(bib.records)
    assert {slug: text_of(p) for slug, p in parts.items()} == {
        s.slug: standard(s.records) for s in sections
    }
    for exporter in (bibtex, biblatex):
        whole, parts = exporter.render_all(bib)
        keys = [e.key for e in bibtexparser.parse_string(text_of(whole)).entries]
        assert keys == [r.key for r in bib.records]
        for section in sections:
            part = bibtexparser.parse_string(text_of(parts[section.slug]))
            assert [e.key for e in part.entries] == [r.key for r in section.records]
    whole, parts = markdown.render_all(bib)  # render() writes each bullet on its own path
    assert text_of(whole) == markdown.render(bib)
    for section in sections:
        assert parts[section.slug] == markdown.render(Bibliography("T", (section,)))


@FAST
@given(st.lists(RECORDS, min_size=1, max_size=4))
def test_csl_json_is_the_bytes_of_the_standard_encoder(records):
    """orjson writes it; these are the bytes Python's own encoder gives for the same items."""
    bib = bibliography(records)
    items = [csl_json.item(r) for r in bib.records]
    expected = json.dumps(items, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    assert csl_json.render(bib) == expected
    whole, parts = csl_json.render_all(bib)
    assert "".join(whole) == expected and ["".join(p) for p in parts.values()] == [expected]
