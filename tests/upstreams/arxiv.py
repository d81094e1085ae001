"""A loopback arXiv export API (`GET /api/query`), answering Atom feeds built from fixtures.

Each fixture is a real single-entry response for `id_list=<id>`; the server lifts its
`<entry>` verbatim into a fresh feed, so clients parse the bytes arXiv really sends.
Behaviour copied from export.arxiv.org (see the recorded responses in
../shared/corpora/arxiv-arxivpy): `max_results` defaults to 10 even for an `id_list`,
well-formed unknown ids give an empty feed, malformed ids give HTTP 400 with an error
feed, and `id_list` with `search_query` returns the listed papers that match the query.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar
from xml.sax.saxutils import escape, quoteattr

from tests.upstreams.base import LoopbackServer, RecordedRequest, Response

NS = {"atom": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom"}
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
DEFAULT_MAX_RESULTS = 10  # arXiv's own default, applied to id_list queries too

_NEW_ID = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
_OLD_ID = re.compile(r"^([a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7})(v\d+)?$")
_RAW_ENTRY = re.compile(r"<entry>.*?</entry>", re.S)
_FEED_HEAD = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
)
# One token of search_query: a parenthesis, a boolean operator, or [field:]word / [field:]"phrase".
_TOKEN = re.compile(
    r'\s*(?:([()])|(ANDNOT|AND|OR)(?=[\s(]|$)|(?:(\w+):)?(?:"([^"]*)"|([^\s()"]+)))'
)


def split_id(arxiv_id: str) -> tuple[str, str] | None:
    """(id without version, "vN" or ""), or None if arXiv would call the id malformed."""
    match = _NEW_ID.match(arxiv_id) or _OLD_ID.match(arxiv_id)
    return (match.group(1), match.group(2) or "") if match else None


def words(text: str) -> list[str]:
    """Lower-case ASCII words: arXiv's search ignores case and accents."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z0-9]+", ascii_text.lower())


@dataclass(frozen=True)
class ArxivEntry:
    """One fixture entry: its raw XML plus the fields a search_query can name."""

    arxiv_id: str
    version: str
    xml: str
    fields: dict[str, list[str]]
    published: str
    updated: str


class ArxivServer(LoopbackServer):
    """export.arxiv.org's query API over `fixtures_dir/<id with / as _>.xml`.

    A fixture named with a version suffix (`quant-ph_0201082v1.xml`) answers only
    requests for that version; one named without answers the bare id and its own version
    (only the bare id when its entry id names no version: a version number left unknown).
    """

    throttle_body: ClassVar[bytes] = b"Rate exceeded."
    # Well-formed XML that is no Atom feed (an RSS channel), under arXiv's Atom content type.
    wrong_shape_body: ClassVar[bytes] = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<rss version="2.0"><channel><title>arXiv</title></channel></rss>\n'
    )

    def __init__(self, fixtures_dir: Path) -> None:
        self.latest: dict[str, ArxivEntry] = {}
        self.versions: dict[tuple[str, str], ArxivEntry] = {}
        for path in sorted(Path(fixtures_dir).glob("*.xml")):
            entry = _load_fixture(path)
            if path.stem == entry.arxiv_id.replace("/", "_"):
                self.latest[entry.arxiv_id] = entry
            self.versions[(entry.arxiv_id, entry.version)] = entry
        super().__init__()

    def handle(self, request: RecordedRequest) -> Response:
        if request.path != "/api/query":
            return Response(404, b"Not Found", {"content-type": "text/plain"})
        search_query = request.param("search_query", "") or ""
        id_list = request.param("id_list", "") or ""
        try:
            start = _non_negative(request.param("start", "0"), "start")
            max_results = _non_negative(
                request.param("max_results", str(DEFAULT_MAX_RESULTS)), "max_results"
            )
            ids = [part.strip() for part in id_list.split(",") if part.strip()]
            for arxiv_id in ids:
                if split_id(arxiv_id) is None:
                    raise _ApiError(f"incorrect id format for {arxiv_id}")
            matcher = _parse_query(search_query) if search_query.strip() else None
        except _ApiError as error:
            return self._feed(400, _error_feed(str(error)))

        if ids:
            found = [e for e in map(self._lookup, ids) if e is not None]
        else:
            found = list(self.latest.values()) if matcher else []
            found = _sort(found, request.param("sortBy"), request.param("sortOrder"))
        if matcher is not None:
            found = [entry for entry in found if matcher(entry)]
        page = found[start : start + max_results]
        query = (
            f"search_query={search_query}&id_list={id_list}&start={start}&max_results={max_results}"
        )
        link = "https://arxiv.org/api/query?" + (
            f"search_query={search_query}&start={start}&max_results={max_results}&id_list={id_list}"
        )
        body = (
            _FEED_HEAD
            + f"  <id>https://arxiv.org/api/{_feed_hash(query)}</id>\n"
            + f"  <title>arXiv Query: {escape(query)}</title>\n"
            + f"  <updated>{_now()}</updated>\n"
            + f'  <link href={quoteattr(link)} type="application/atom+xml"/>\n'
            + f"  <opensearch:itemsPerPage>{max_results}</opensearch:itemsPerPage>\n"
            + f"  <opensearch:totalResults>{len(found)}</opensearch:totalResults>\n"
            + f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
            + "".join(f"  {entry.xml}\n" for entry in page)
            + "</feed>\n"
        )
        return self._feed(200, body)

    def _lookup(self, arxiv_id: str) -> ArxivEntry | None:
        base, version = split_id(arxiv_id) or ("", "")
        return self.versions.get((base, version)) if version else self.latest.get(base)

    @staticmethod
    def _feed(status: int, body: str) -> Response:
        return Response(status, body.encode("utf-8"), {"content-type": CONTENT_TYPE})


class _ApiError(ValueError):
    """A request arXiv answers with HTTP 400 and an error feed."""


def _load_fixture(path: Path) -> ArxivEntry:
    text = path.read_text(encoding="utf-8")
    entries = ET.fromstring(text.encode("utf-8")).findall("atom:entry", NS)
    raw = _RAW_ENTRY.findall(text)
    if len(entries) != 1 or len(raw) != 1:
        raise ValueError(f"{path}: an arXiv fixture is a feed with exactly one <entry>")
    entry = entries[0]
    abs_url = entry.findtext("atom:id", "", NS)
    parts = split_id(abs_url.partition("/abs/")[2])
    if parts is None:
        raise ValueError(f"{path}: entry id {abs_url!r} is not an arXiv id")
    base, version = parts
    # arXiv always names a version; a reconstructed fixture leaves it out where the version
    # number is unknown (tests/fixtures/README.md), and then answers only the bare id.
    if path.stem not in (base.replace("/", "_"), (base + version).replace("/", "_")):
        raise ValueError(f"{path}: file name does not match the entry id {base}{version}")

    def text_of(tag: str) -> str:
        return " ".join(e.text or "" for e in entry.findall(tag, NS))

    fields = {
        "ti": words(text_of("atom:title")),
        "au": words(text_of("atom:author/atom:name")),
        "abs": words(text_of("atom:summary")),
        "co": words(text_of("arxiv:comment")),
        "jr": words(text_of("arxiv:journal_ref")),
        "cat": words(" ".join(c.get("term", "") for c in entry.findall("atom:category", NS))),
        "id": words(base),
    }
    fields["all"] = [
        word for name in ("ti", "au", "abs", "co", "jr", "cat") for word in fields[name]
    ]
    return ArxivEntry(
        arxiv_id=base,
        version=version,
        xml=raw[0],
        fields=fields,
        published=entry.findtext("atom:published", "", NS),
        updated=entry.findtext("atom:updated", "", NS),
    )


def _non_negative(value: str | None, name: str) -> int:
    # Wording of these two messages is ours; arXiv answers such requests with a 400 feed too.
    if value is None or not value.strip().lstrip("-").isdigit():
        raise _ApiError(f"{name} must be an integer")
    if int(value) < 0:
        raise _ApiError(f"{name} must be non-negative")
    return int(value)


def _sort(entries: list[ArxivEntry], sort_by: str | None, order: str | None) -> list[ArxivEntry]:
    """sortBy=lastUpdatedDate|submittedDate; relevance keeps fixture order (no real ranking)."""
    attribute = {"lastUpdatedDate": "updated", "submittedDate": "published"}.get(sort_by or "")
    if attribute is None:
        return entries
    return sorted(entries, key=lambda e: getattr(e, attribute), reverse=order != "ascending")


Matcher = Callable[[ArxivEntry], bool]
Token = tuple[str, str, str]  # (kind, field, text)
_FIELDS = frozenset({"ti", "au", "abs", "co", "jr", "cat", "id", "all"})
_CLOSE: Token = ("paren", "", ")")


def _parse_query(query: str) -> Matcher:
    """search_query -> predicate. Terms are field:word or field:"phrase" (bare words search
    all:), combined left to right by AND, OR, ANDNOT, with parentheses for grouping."""
    tokens: list[Token] = []
    position = 0
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None or match.end() == position:
            if query[position:].strip():
                raise _ApiError(f"cannot parse search_query at {query[position:]!r}")
            break
        position = match.end()
        paren, operator, field, phrase, word = match.groups()
        if paren:
            tokens.append(("paren", "", paren))
        elif operator:
            tokens.append(("op", "", operator))
        else:
            name = (field or "all").lower()
            tokens.append(("term", name if name in _FIELDS else "all", phrase or word or ""))
    predicate, rest = _expression(tokens)
    if rest:
        raise _ApiError(f"unbalanced parentheses in search_query {query!r}")
    return predicate


def _expression(tokens: list[Token]) -> tuple[Matcher, list[Token]]:
    left, tokens = _operand(tokens)
    while tokens and tokens[0] != _CLOSE:
        operator = tokens[0][2] if tokens[0][0] == "op" else "AND"  # juxtaposition means AND
        if tokens[0][0] == "op":
            tokens = tokens[1:]
        right, tokens = _operand(tokens)
        left = _combine(operator, left, right)
    return left, tokens


def _operand(tokens: list[Token]) -> tuple[Matcher, list[Token]]:
    if not tokens:
        raise _ApiError("search_query ends where a term was expected")
    kind, field, text = tokens[0]
    if kind == "paren" and text == "(":
        inner, rest = _expression(tokens[1:])
        if not rest or rest[0] != _CLOSE:
            raise _ApiError("unbalanced parentheses in search_query")
        return inner, rest[1:]
    if kind != "term":
        raise _ApiError(f"unexpected {text!r} in search_query")
    wanted = words(text)
    return (lambda entry: _contains(entry.fields[field], wanted)), tokens[1:]


def _combine(operator: str, left: Matcher, right: Matcher) -> Matcher:
    if operator == "OR":
        return lambda entry: left(entry) or right(entry)
    if operator == "ANDNOT":
        return lambda entry: left(entry) and not right(entry)
    return lambda entry: left(entry) and right(entry)


def _contains(haystack: list[str], phrase: list[str]) -> bool:
    """True if the words of `phrase` occur consecutively in `haystack`."""
    if not phrase:
        return False
    size = len(phrase)
    return any(haystack[i : i + size] == phrase for i in range(len(haystack) - size + 1))


def _error_feed(message: str) -> str:
    anchor = "https://arxiv.org/api/errors#" + message.replace(" ", "_")
    now = _now()
    return (
        _FEED_HEAD
        + "  <id>https://arxiv.org/</id>\n"
        + "  <title>arXiv Search Results</title>\n"
        + f"  <updated>{now}</updated>\n"
        + "  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n"
        + "  <opensearch:totalResults>1</opensearch:totalResults>\n"
        + "  <opensearch:startIndex>0</opensearch:startIndex>\n"
        + "  <entry>\n"
        + f"    <id>{escape(anchor)}</id>\n"
        + "    <title>Error</title>\n"
        + f"    <updated>{now}</updated>\n"
        + f'    <link href={quoteattr(anchor)} rel="alternate" type="text/html"/>\n'
        + f"    <summary>{escape(message)}</summary>\n"
        + "    <author>\n      <name>arXiv api core</name>\n    </author>\n"
        + "  </entry>\n"
        + "</feed>\n"
    )


def _feed_hash(query: str) -> str:
    """arXiv's feed ids look like base64 of a SHA-1 without padding."""
    return base64.b64encode(hashlib.sha1(query.encode()).digest()).decode().rstrip("=")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
