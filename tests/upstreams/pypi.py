"""A loopback PyPI JSON API: `GET /pypi/<project>/json` from `fixtures_dir/<project>.json`.

As pypi.org answers (checked 2026-12-02): the project's JSON with content type
application/json, and for an unknown project a 404 with an empty body.
Project names are matched in PEP 503's normalized form, as PyPI does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from bib.ids import normalize_pypi
from tests.upstreams.base import LoopbackServer, RecordedRequest, Response


class PypiServer(LoopbackServer):
    def __init__(self, fixtures_dir: Path) -> None:
        self.projects: dict[str, bytes] = {}
        for path in sorted(Path(fixtures_dir).glob("*.json")):
            body = path.read_bytes()
            name = normalize_pypi(json.loads(body)["info"]["name"])
            if path.stem != name:
                raise ValueError(f"{path}: file name does not match the project {name!r}")
            self.projects[name] = body
        super().__init__()

    def handle(self, request: RecordedRequest) -> Response:
        match = re.fullmatch(r"/pypi/([^/]+)/json/?", request.path)
        body = self.projects.get(normalize_pypi(match.group(1)) or "") if match else None
        if body is None:
            return Response(404)
        return Response(200, body, {"content-type": "application/json"})
