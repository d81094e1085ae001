"""Semantic Scholar's Graph API, batched: up to 500 papers per `POST /paper/batch`.

One request tells, for every preprint of a run, whether Semantic Scholar knows
a published version (its DOI, DBLP key, venue). Answers are checked field by
field: a value of the wrong type or shape is dropped, an answer that cannot be
lined up with the question is one UpstreamError. The optional API key travels
only in the `x-api-key` header, never in a message, a log or the cache.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import httpx2

from bib.errors import InputError
from bib.http import HttpClient, UpstreamError
from bib.ids import Identifier, is_dblp_key, normalize_arxiv, normalize_doi
from bib.sources.upstream import Upstream

# A new API key is granted one request per second; the unauthenticated pool is shared
# by everyone and answers 429 often, so a run never asks faster than that either.
UPSTREAM = Upstream(
    "semanticscholar",
    "BIB_SEMANTICSCHOLAR_URL",
    "https://api.semanticscholar.org/graph/v1",
    interval=1.0,
)
API_KEY_ENV = "SEMANTIC_SCHOLAR_API_KEY"
NAME = "Semantic Scholar"
BATCH = 500  # the documented maximum of ids per /paper/batch request
FIELDS = (
    "externalIds,title,venue,publicationVenue,year,publicationTypes,publicationDate,journal,authors"
)
# Ways of naming a paper that this client sends, by identifier kind.
PREFIXES = {"doi": "DOI:", "arxiv": "ARXIV:", "dblp": "DBLP:"}

_PAPER_ID = re.compile(r"^[0-9a-f]{40}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.", re.IGNORECASE)
_MAX_REASON = 200
_KEY = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII: what a header value can carry as is


@dataclass(frozen=True)
class S2Author:
    name: str
    author_id: str | None


@dataclass(frozen=True)
class S2Journal:
    name: str | None
    volume: str | None
    pages: str | None


@dataclass(frozen=True)
class S2Paper:
    """What Semantic Scholar says about one paper, every value checked."""

    paper_id: str | None  # Semantic Scholar's own id; None where an answer left it out
    title: str
    authors: tuple[S2Author, ...]
    year: int | None
    venue: str | None  # Semantic Scholar's venue name; None where it sends ""
    venue_type: str | None  # publicationVenue.type: "conference", "journal", ...
    publication_types: tuple[str, ...]
    publication_date: str | None  # YYYY-MM-DD
    journal: S2Journal | None
    doi: str | None  # lower case, as bib.ids normalizes DOIs
    arxiv_id: str | None
    dblp_key: str | None
    corpus_id: int | None

    @property
    def published_doi(self) -> str | None:
        """The DOI unless it is the one arXiv gives every preprint (10.48550/arXiv.*)."""
        return None if self.doi is None or _ARXIV_DOI.match(self.doi) else self.doi

    @property
    def published_dblp_key(self) -> str | None:
        """The DBLP key unless it names the CoRR (arXiv) record."""
        if self.dblp_key is None or self.dblp_key.startswith("journals/corr/"):
            return None
        return self.dblp_key


def api_key(environ: Mapping[str, str] | None = None) -> str | None:
    """`SEMANTIC_SCHOLAR_API_KEY`, if set; it is only ever sent as a header.

    A value no header can carry is refused here, without being repeated: the
    HTTP library's own error would quote it.
    """
    env = os.environ if environ is None else environ
    key = env.get(API_KEY_ENV) or None
    if key is not None and not _KEY.match(key):
        raise InputError(f"{API_KEY_ENV} holds characters an HTTP header cannot carry")
    return key


def paper_id(identifier: Identifier) -> str | None:
    """How Semantic Scholar names the paper `identifier` names (None: it cannot)."""
    prefix = PREFIXES.get(identifier.kind)
    return prefix + identifier.value if prefix else None


def fetch_papers(
    client: HttpClient, base_url: str, ids: Iterable[str], *, key: str | None = None
) -> dict[str, S2Paper]:
    """Asked id -> paper, for the ids Semantic Scholar knows (unknown ones are absent).

    `ids` are Semantic Scholar paper ids (`ARXIV:2309.06180`, `DOI:10.1145/...`,
    `DBLP:conf/sosp/KwonLZ0ZY0ZS23`, `CorpusId:215416146`); duplicates are asked
    once, and any number is split into requests of 500.
    """
    if key is not None and not _KEY.match(key):
        raise ValueError("the Semantic Scholar API key holds characters a header cannot carry")
    wanted = list(dict.fromkeys(ids))
    url = base_url.rstrip("/") + "/paper/batch"
    headers = {"x-api-key": key} if key else None
    found: dict[str, S2Paper] = {}
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        try:
            response = client.post_json(
                url, {"ids": batch}, params={"fields": FIELDS}, headers=headers
            )
        except UpstreamError as exc:  # retries ran out, or the connection failed
            if exc.response is None:
                raise UpstreamError(f"{NAME}: {exc}") from exc
            detail = str(exc).partition(f"HTTP {exc.response.status_code}")[2].strip(" ,")
            raise _status_error(exc.response, detail) from exc
        if response.status_code != 200:
            raise _status_error(response, "")
        found.update(parse_batch(response.content, batch))
    return found


def parse_batch(body: bytes | str, asked: list[str]) -> dict[str, S2Paper]:
    """A `/paper/batch` answer to the ids `asked`, as asked id -> paper.

    The answer is a list in request order with `null` for unknown ids; one of
    another length, or whose papers contradict the ids asked (another arXiv id
    or corpus id), cannot be lined up and raises.
    """
    try:
        answer = json.loads(body)
    except ValueError as exc:
        head = body[:40] if isinstance(body, str) else body[:40].decode("utf-8", "replace")
        raise UpstreamError(f"{NAME}: batch answer is not JSON (starts {head!r})") from exc
    if not isinstance(answer, list):
        raise UpstreamError(f"{NAME}: batch answer is a {type(answer).__name__}, not a list")
    if len(answer) != len(asked):
        raise UpstreamError(f"{NAME}: {len(answer)} papers returned for {len(asked)} ids asked")
    found = {}
    for question, entry in zip(asked, answer, strict=True):
        paper = parse_paper(entry)
        if paper is None:
            continue
        if not _answers(question, paper):
            raise UpstreamError(f"{NAME}: the paper returned for {question} is another paper")
        found[question] = paper
    return found


def parse_paper(entry: object) -> S2Paper | None:
    """One paper object, or None for `null` and for anything that is not a paper."""
    if not isinstance(entry, dict):
        return None
    pid = entry.get("paperId")
    if pid is not None and (not isinstance(pid, str) or not _PAPER_ID.match(pid)):
        return None
    if pid is None and not isinstance(entry.get("externalIds"), dict):
        return None  # neither id of its own nor anyone else's: nothing to line up
    external = entry.get("externalIds")
    external = external if isinstance(external, dict) else {}
    venue = entry.get("publicationVenue")
    journal = entry.get("journal")
    types = entry.get("publicationTypes")
    authors = entry.get("authors")
    return S2Paper(
        paper_id=pid,
        title=_text(entry.get("title")) or "",
        authors=tuple(
            S2Author(name, _text(a.get("authorId")))
            for a in (authors if isinstance(authors, list) else [])
            if isinstance(a, dict) and (name := _text(a.get("name")))
        ),
        year=_year(entry.get("year")),
        venue=_text(entry.get("venue")),
        venue_type=_text(venue.get("type")) if isinstance(venue, dict) else None,
        publication_types=tuple(
            t for t in (types if isinstance(types, list) else []) if isinstance(t, str) and t
        ),
        publication_date=_date(entry.get("publicationDate")),
        journal=S2Journal(
            _text(journal.get("name")), _text(journal.get("volume")), _text(journal.get("pages"))
        )
        if isinstance(journal, dict)
        else None,
        doi=_doi(external.get("DOI")),
        arxiv_id=_arxiv(external.get("ArXiv")),
        dblp_key=_dblp(external.get("DBLP")),
        corpus_id=_corpus_id(external.get("CorpusId")),
    )


def _answers(question: str, paper: S2Paper) -> bool:
    """False when the paper's own single-valued id contradicts the id asked for it."""
    prefix, _, value = question.partition(":")
    if prefix.upper() == "ARXIV" and paper.arxiv_id is not None:
        return paper.arxiv_id == (normalize_arxiv(value) or ("",))[0]
    if prefix.lower() == "corpusid" and paper.corpus_id is not None:
        return str(paper.corpus_id) == value
    return True


def _status_error(response: httpx2.Response, when: str) -> UpstreamError:
    """One line naming the status and Semantic Scholar's reason, from its error body.

    Errors come as `{"error": ...}` from the API and `{"message": ...}` from its
    gateway (403, 429); anything else gives the HTTP reason phrase. The reason is
    squeezed onto one line and cut short: it is the upstream's text, not ours.
    """
    reason = ""
    try:
        data = json.loads(response.content)
    except ValueError:
        data = None
    if isinstance(data, dict):
        reason = next((v for k in ("error", "message") if isinstance(v := data.get(k), str)), "")
    reason = _squeeze(reason) or response.reason_phrase or "no reason given"
    when = f" {when}" if when else ""
    return UpstreamError(f"{NAME}: HTTP {response.status_code}{when}: {reason}")


def _squeeze(text: str) -> str:
    printable = "".join(c if c.isprintable() else " " for c in text)
    line = " ".join(printable.split())
    return line if len(line) <= _MAX_REASON else line[: _MAX_REASON - 1] + "…"


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def _year(value: object) -> int | None:
    return value if type(value) is int and 1000 <= value <= 9999 else None


def _date(value: object) -> str | None:
    return value if isinstance(value, str) and _DATE.match(value) else None


def _doi(value: object) -> str | None:
    return normalize_doi(value) if isinstance(value, str) else None


def _arxiv(value: object) -> str | None:
    parsed = normalize_arxiv(value) if isinstance(value, str) else None
    return parsed[0] if parsed else None


def _dblp(value: object) -> str | None:
    if isinstance(value, str) and value.strip() == value and is_dblp_key(value):
        return value
    return None


def _corpus_id(value: object) -> int | None:
    return value if type(value) is int and value > 0 else None
