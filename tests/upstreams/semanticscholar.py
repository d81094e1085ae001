"""A loopback Semantic Scholar Graph API: `POST /graph/v1/paper/batch` and `GET /paper/{id}`.

Bodies follow the recorded answers in ../shared/corpora/semanticscholar-semanticscholar
(the tests compare them byte for byte): papers as Python's `json.dumps` writes them
(`", "` separators, non-ASCII as `\\u` escapes) plus a newline, `paperId` first and then
the requested fields in the order the fixture holds them, a list in request order with
`null` for unknown ids; API errors as compact `{"error":"..."}` plus a newline (400 for
unknown fields, 404 for an unknown paper, checked before the fields); the gateway's
`{"message":"Forbidden"}` for a wrong `x-api-key` and its 429 body.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

from tests.upstreams.base import LoopbackServer, RecordedRequest, Response

Paper = dict[str, Any]

PREFIX = "/graph/v1"
MAX_IDS = 500
# Every paper field the Graph API documents; the fake serves those its fixtures hold.
FIELDS = frozenset((
    "paperId", "corpusId", "externalIds", "url", "title", "abstract", "venue", "publicationVenue",
    "year", "referenceCount", "citationCount", "influentialCitationCount", "isOpenAccess",
    "openAccessPdf", "fieldsOfStudy", "s2FieldsOfStudy", "publicationTypes", "publicationDate",
    "journal", "citationStyles", "authors", "citations", "references", "embedding", "tldr",
    "textAvailability",
))  # fmt: skip
# Prefixed ids the API documents, and the externalIds entry each one looks up.
ID_PREFIXES = {
    "corpusid": "CorpusId",
    "doi": "DOI",
    "arxiv": "ArXiv",
    "dblp": "DBLP",
    "mag": "MAG",
    "acl": "ACL",
    "pmid": "PubMed",
    "pmcid": "PubMedCentral",
}
_SHA = re.compile(r"^[0-9a-f]{40}$")
JSON = {"content-type": "application/json"}


class SemanticScholarServer(LoopbackServer):
    """api.semanticscholar.org over `fixtures_dir/<paperId>.json`, each a full paper object.

    A reconstructed paper whose `paperId` is unknown leaves it out and is named after one of
    its external ids instead, `<name>_<value with / as _>.json` (`ArXiv_2309.06180.json`,
    `DOI_10.1145_3600006.3613165.json`); its answers then carry no `paperId`.

    `api_keys` are the keys the gateway accepts; a request sending any other
    `x-api-key` gets its 403. A request without a key is served (the shared pool).
    """

    throttle_content_type: ClassVar[str] = "application/json"
    # The gateway's 429 body, as recorded (`message`, not `error`; the code as a string).
    throttle_body: ClassVar[bytes] = (
        b'{"message": "Too Many Requests. Please wait and try again or apply for a key for '
        b'higher rate limits. https://www.semanticscholar.org/product/api#api-key-form", '
        b'"code": "429"}'
    )
    forbidden_body: ClassVar[bytes] = b'{"message":"Forbidden"}'

    def __init__(self, fixtures_dir: Path, api_keys: frozenset[str] = frozenset()) -> None:
        self.api_keys = api_keys
        self.papers: dict[str, Paper] = {}
        self.index: dict[tuple[str, str], str] = {}
        for path in sorted(Path(fixtures_dir).glob("*.json")):
            paper = json.loads(path.read_text(encoding="utf-8"))
            pid = paper.get("paperId") or _named_after_external_id(path, paper)
            if path.stem != pid:
                raise ValueError(f"{path}: file name does not match the paperId {pid!r}")
            self.papers[pid] = paper
            external = paper.get("externalIds") or {}
            for prefix, name in ID_PREFIXES.items():
                if external.get(name) is not None:
                    self.index[(prefix, _fold(prefix, str(external[name])))] = pid
            if paper.get("corpusId") is not None:
                self.index[("corpusid", str(paper["corpusId"]))] = pid
        super().__init__()

    def handle(self, request: RecordedRequest) -> Response:
        key = request.headers.get("x-api-key")
        if key is not None and key not in self.api_keys:
            return Response(403, self.forbidden_body,
                            {**JSON, "x-amzn-errortype": "ForbiddenException"})  # fmt: skip
        path = request.path.removeprefix(PREFIX)
        if path == "/paper/batch" and request.method == "POST":
            return self._batch(request)
        if path.startswith("/paper/") and request.method == "GET":
            return self._paper(request, path.removeprefix("/paper/"))
        return _error(404, "Requested object not found")

    def lookup(self, paper_id: str) -> Paper | None:
        """The paper an id names: a paperId, a prefixed id (any case), or a bare DOI."""
        if _SHA.match(paper_id):
            return self.papers.get(paper_id)
        prefix, colon, value = paper_id.partition(":")
        if colon and prefix.lower() in ID_PREFIXES:
            kind = prefix.lower()
        elif paper_id.startswith("10."):  # the API takes a bare DOI too (recorded)
            kind, value = "doi", paper_id
        else:
            return None
        pid = self.index.get((kind, _fold(kind, value)))
        return self.papers.get(pid) if pid else None

    # -- routes --------------------------------------------------------------------------------

    def _paper(self, request: RecordedRequest, paper_id: str) -> Response:
        paper = self.lookup(paper_id)
        if paper is None:  # the recording: an unknown id is a 404 even with bad fields
            return _error(404, f"Paper with id {paper_id} not found")
        fields, bad = _fields(request.param("fields"))
        if bad:
            return _error(400, f"Unrecognized or unsupported fields: [{', '.join(bad)}]")
        return _ok(_select(paper, fields))

    def _batch(self, request: RecordedRequest) -> Response:
        fields, bad = _fields(request.param("fields"))
        if bad:
            return _error(400, f"Unrecognized or unsupported fields: [{', '.join(bad)}]")
        try:
            ids = json.loads(request.body)["ids"]
        except (ValueError, TypeError, KeyError):
            return _error(400, "Request body must be a JSON object with a list of ids")  # ours
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return _error(400, "ids must be a list of strings")  # wording ours
        if len(ids) > MAX_IDS:
            return _error(400, f"Cannot process more than {MAX_IDS} ids")  # wording ours
        return _ok([_select(p, fields) if (p := self.lookup(i)) else None for i in ids])


def _named_after_external_id(path: Path, paper: Paper) -> str:
    """The name of a paper without a paperId: its file's, if that names one of its external ids."""
    external = paper.get("externalIds") or {}
    names = [f"{name}_{str(value).replace('/', '_')}" for name, value in external.items()]
    if path.stem not in names:
        raise ValueError(f"{path}: a paper without a paperId is named after an id: {names}")
    return path.stem


def _fold(kind: str, value: str) -> str:
    """DOIs are case-insensitive; every other id is compared as given."""
    return value.lower() if kind == "doi" else value


def _fields(param: str | None) -> tuple[list[str], list[str]]:
    """(fields to send, unknown ones); without `fields` the API sends paperId and title."""
    asked = [f for f in (param or "title").split(",") if f]
    return asked, [f for f in asked if f.split(".")[0] not in FIELDS]


def _select(paper: Paper, fields: list[str]) -> Paper:
    """paperId, then the asked fields in the fixture's order; a field it lacks is left out."""
    wanted = {f.split(".")[0] for f in fields} | {"paperId"}
    first = {"paperId": paper["paperId"]} if "paperId" in paper else {}
    return first | {k: v for k, v in paper.items() if k in wanted and k != "paperId"}


def _ok(data: object) -> Response:
    return Response(200, (json.dumps(data) + "\n").encode("ascii"),
                    {**JSON, "access-control-allow-origin": "*"})  # fmt: skip


def _error(status: int, message: str) -> Response:
    body = json.dumps({"error": message}, separators=(",", ":")) + "\n"
    return Response(status, body.encode("ascii"), {**JSON, "access-control-allow-origin": "*"})
