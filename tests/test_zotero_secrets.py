"""The Zotero key never leaves the process except in its header, and Zotero's failures say
what they mean. The real CLI (click's CliRunner, and a subprocess) runs against the loopback
Zotero API; the key is looked for in stdout, stderr, the cache directory and output/."""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner, Result

from bib.cli import main
from bib.secrets import Secret, redact
from exporters.zotero.session import ZoteroConfig
from tests.conftest import ROOT
from tests.upstreams.zotero import ZoteroServer

KEY = "LoopbackZoteroKey0000001"  # 24 letters and digits, as Zotero's keys are
TOP = "Awesome LLM Serving Papers"
SYNC = ["zotero", "sync", "--catalog", str(ROOT / "sources.yaml"),
        "--lock", str(ROOT / "sources.lock.json")]  # fmt: skip
MASK = "<ZOTERO_API_KEY>"


@pytest.fixture
def server():
    with ZoteroServer(api_key=KEY) as running:
        yield running


def environment(server: ZoteroServer, cache: Path, key: str | None = KEY, **more) -> dict:
    """ZOTERO_* for `server`; None unsets a variable (also one set in the developer's shell)."""
    env = {"ZOTERO_API_KEY": key, "ZOTERO_LIBRARY_ID": "123", "ZOTERO_LIBRARY_TYPE": None,
           "ZOTERO_ENDPOINT": server.base_url, "BIB_CACHE_DIR": str(cache)}  # fmt: skip
    return {**env, **more}


def cli(env: dict, *options: str) -> Result:
    return CliRunner().invoke(main, [*SYNC, *options], env=env)


def files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in sorted(root.rglob("*")) if p.is_file()]


def assert_nowhere(secret: str, *texts: str, dirs: tuple[Path, ...] = ()) -> None:
    """`secret` is absent from every text and every file under `dirs` (the Zotero key is
    letters and digits, so every escaped or encoded spelling of it contains it verbatim)."""
    for text in texts:
        assert secret not in text
    for path in files_under(*dirs):
        assert secret.encode() not in path.read_bytes(), path


def one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# --- the shared helper ------------------------------------------------------------------


def test_redact_finds_the_key_in_every_form_an_error_can_give_it():
    plain = Secret("ZOTERO_API_KEY", KEY)
    header = b"Bearer " + KEY.encode() + b"\r"
    texts = [
        f"Illegal header value {header!r}",  # h11's LocalProtocolError: a bytes repr
        f"Authorization: Bearer {KEY}\r\nZotero-API-Key: {KEY}",  # header text
        f"GET https://api.zotero.org/groups/123/items?format=json&key={KEY}&v=3",  # a query
        f"https://api.zotero.org/keys/{KEY}",  # pyzotero's key_info URL
    ]
    for text in texts:
        assert KEY not in redact(text, [plain]) and MASK in redact(text, [plain])
    # A value with characters a URL, a repr and JSON each spell differently.
    odd = "Key/with +sp\u00e4ce\r\t"
    secret = Secret("ZOTERO_API_KEY", odd)
    spellings = [odd, repr(odd)[1:-1], repr(odd.encode())[2:-1], json.dumps(odd)[1:-1],
                 quote(odd, safe=""), re.sub("%..", lambda m: m.group().lower(), quote(odd, safe="")),
                 quote(odd, safe="").replace("%20", "+")]  # fmt: skip
    for spelling in spellings:
        assert redact(f"?key={spelling}&v=3", [secret]) == f"?key={MASK}&v=3", spelling


def test_a_secret_never_shows_itself():
    secret = Secret("ZOTERO_API_KEY", KEY)
    config = ZoteroConfig(library_id="123", api_key=secret)
    for shown in (str(secret), repr(secret), f"{secret}", f"{secret!r}", repr(config), [secret]):
        assert KEY not in str(shown)
    assert secret.reveal() == KEY
    with pytest.raises(TypeError):
        pickle.dumps(secret)


# --- the key as a Windows .env file leaves it --------------------------------------------


@pytest.mark.parametrize(
    "tail", ["\r", "\r\n", "\t", " \r\n"], ids=["CR", "CRLF", "TAB", "SP-CRLF"]
)
def test_a_key_ending_in_white_space_is_stripped_and_syncs(server, tmp_path, tail):
    cache = tmp_path / "cache"
    result = cli(environment(server, cache, KEY + tail, ZOTERO_LIBRARY_ID="123" + tail))
    assert result.exit_code == 0, result.output
    assert "did: 47 create" in result.stdout
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {KEY}"}
    assert_nowhere(KEY, result.stdout, result.stderr, dirs=(cache, ROOT / "output"))
    assert files_under(cache / "zotero")  # the state file was written, and holds no key


@pytest.mark.parametrize(
    "bad",
    [KEY[:12] + "\r" + KEY[12:], KEY[:-1], KEY + "X", KEY[:10] + " " + KEY[11:],
     KEY[:-1] + "\u00e9", "Bearer " + KEY],
    ids=["inner-CR", "23-chars", "25-chars", "space", "non-ASCII", "with-scheme"],
)  # fmt: skip
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_malformed_key_is_one_line_exit_2_and_no_request(server, tmp_path, bad, dry_run):
    result = cli(environment(server, tmp_path, bad), *(["--dry-run"] if dry_run else []))
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "ZOTERO_API_KEY is not a Zotero API key (24 letters and digits)" in line
    assert server.requests == []
    assert_nowhere(bad.strip(), result.stdout, result.stderr, dirs=(tmp_path,))
    assert_nowhere(KEY[:12], result.stdout, result.stderr)


def test_in_a_subprocess_the_key_reaches_no_stream_and_no_file(server, tmp_path):
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOTERO_")}
    env |= {k: v for k, v in environment(server, cache, KEY + "\r\n").items() if v}

    def bib(*options: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", "from bib.cli import main; main()", "--verbose", *SYNC,
             *options],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    dry, real = bib("--dry-run"), bib()
    assert dry.returncode == 0 and "would: 47 create" in dry.stdout, dry.stderr
    assert real.returncode == 0 and "did: 47 create" in real.stdout, real.stderr
    env["ZOTERO_API_KEY"] = "NotTheRightKey1234567890\r\n"
    wrong = bib()
    assert wrong.returncode == 1 and "403 Invalid key" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    streams = [p.stdout + p.stderr for p in (dry, real, wrong)]
    assert_nowhere(KEY, *streams, dirs=(cache, ROOT / "output"))
    assert_nowhere("NotTheRightKey1234567890", *streams, dirs=(cache, ROOT / "output"))


# --- what Zotero's refusals mean -----------------------------------------------------------


def test_403_write_access_denied_says_the_key_cannot_write(tmp_path):
    with ZoteroServer(api_key=KEY, write_access=False) as server:
        result = cli(environment(server, tmp_path))
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "HTTP 403" in line and "the key cannot write to this library (group 123)" in line
    assert_nowhere(KEY, result.output)


@pytest.mark.parametrize(
    "library", [{"ZOTERO_LIBRARY_ID": "999"}, {"ZOTERO_LIBRARY_TYPE": "user"}], ids=["id", "type"]
)
def test_404_says_wrong_library_id_or_type(server, tmp_path, library):
    result = cli(environment(server, tmp_path, **library))
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "HTTP 404" in line and "wrong library id or type (group/user)" in line
    assert "HTTPError" not in line and "ResourceNotFoundError" not in line
    assert_nowhere(KEY, result.output)


def test_404_outside_the_library_says_the_endpoint_is_not_the_api(server, tmp_path):
    result = cli(environment(server, tmp_path, ZOTERO_ENDPOINT=server.base_url + "/v3"))
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "has no /v3/itemTypeFields; is ZOTERO_ENDPOINT the Zotero Web API?" in line
    assert "wrong library" not in line


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_beyond_retries_says_zotero_is_failing(server, tmp_path, status):
    for _ in range(5):  # our transport's 4 retries and the first try; Retry-After: 0 keeps
        server.inject(status=status, headers={"retry-after": "0"})  # the test fast
    result = cli(environment(server, tmp_path))
    assert result.exit_code == 1
    line = one_error_line(result)
    assert f"Zotero is failing (HTTP {status}); try later" in line
    assert "HTTPError" not in line and not line.endswith(": ")
    assert len(server.requests) == 5


@pytest.mark.parametrize(
    ("status", "meaning"),
    [(503, "Zotero is failing (HTTP 503); try later"), (429, "rate limited (HTTP 429)")],
)
def test_a_write_refused_beyond_retries_says_what_it_means(server, tmp_path, status, meaning):
    """pyzotero raises HTTPError with an empty message for the 503, and JSONDecodeError
    for the 429 (it parses the refusal as the write's report)."""
    assert cli(environment(server, tmp_path / "dry"), "--dry-run").exit_code == 0
    reads = len(server.requests)  # what a sync reads before its first write
    server.reset()
    for _ in range(reads):
        server.inject()  # answered as the server would
    if status == 429:
        server.rate_limit(retry_after=0, times=5)
    else:
        for _ in range(5):
            server.inject(status=status, headers={"retry-after": "0"})
    result = cli(environment(server, tmp_path / "real"))
    assert result.exit_code == 1
    assert f"writing collections failed: {meaning}" in one_error_line(result)
    assert server.requests[reads].method == "POST" and not server.collections


def test_429_beyond_retries_says_rate_limited(server, tmp_path):
    server.rate_limit(retry_after=0, times=40)  # pyzotero retries a read 3 times over ours
    result = cli(environment(server, tmp_path))
    assert result.exit_code == 1
    assert "rate limited (HTTP 429)" in one_error_line(result)


def test_a_reason_quoting_the_key_in_a_url_is_shown_redacted(server, tmp_path):
    echo = f"Invalid request https://api.zotero.org/groups/123/items?key={KEY}&format=json"
    server.inject(status=400, headers={"content-type": "text/plain"}, body=echo)
    result = cli(environment(server, tmp_path))
    assert result.exit_code == 1
    line = one_error_line(result)
    assert f"(HTTP 400): Invalid request https://api.zotero.org/groups/123/items?key={MASK}" in line
    assert_nowhere(KEY, result.output)


# --- a dry run needs no credentials ----------------------------------------------------------


def test_dry_run_without_credentials_plans_an_empty_library_and_sends_nothing(server, tmp_path):
    result = cli(environment(server, tmp_path, key=None, ZOTERO_LIBRARY_ID=None), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "no Zotero credentials: planned against an empty library" in result.stdout
    assert "would: 47 create, 11 create-collection; 0 requests, 0 writes" in result.stdout
    assert f"  {TOP}" in result.stdout  # the top collection, by name
    assert server.requests == []
    refused = cli(environment(server, tmp_path, key=None, ZOTERO_LIBRARY_ID=None))
    assert refused.exit_code == 2
    assert "set ZOTERO_API_KEY and ZOTERO_LIBRARY_ID" in one_error_line(refused)


def test_dry_run_with_the_library_id_alone_plans_the_keys_a_real_sync_uses(server, tmp_path):
    """Object keys derive from the library, so given its id the offline plan is the one a
    credentialed dry run prints for an empty library, key for key."""
    offline = cli(environment(server, tmp_path, key=None), "--dry-run")
    assert server.requests == []
    online = cli(environment(server, tmp_path), "--dry-run")
    assert offline.exit_code == online.exit_code == 0
    plan = [line for line in online.stdout.splitlines() if line.startswith("create")]
    assert len(plan) == 47 + 11
    assert [line for line in offline.stdout.splitlines() if line.startswith("create")] == plan
