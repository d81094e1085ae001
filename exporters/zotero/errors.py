"""What a failed Zotero request means, in one line a person can act on.

pyzotero 1.16 raises unevenly: a 404 is ResourceNotFoundError and a 5xx
HTTPError, both with a message whose first line is empty; a write answered
429 (after our transport's retries) reaches `response.json()` and raises
JSONDecodeError; a read answered 429 is retried three more times and raises
TooManyRetriesError. So the explanation is read from the status of the last
answer the server gave, not from pyzotero's exception.

No message here echoes a request header: a transport error is named by its
class, never by its text (h11's LocalProtocolError quotes the header value).
"""

from __future__ import annotations

import httpx2
from pyzotero import zotero_errors as ze

KEYS_PAGE = "https://www.zotero.org/settings/keys"


def _server_says(response: httpx2.Response) -> str:
    """The first line of the server's plain-text reason (Zotero answers errors as text)."""
    try:
        text = response.text
    except httpx2.HTTPError:
        return ""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:200]


def _transport(exc: httpx2.TransportError, endpoint: str) -> str:
    if isinstance(exc, httpx2.TimeoutException):
        return f"{endpoint} did not answer in time ({type(exc).__name__}); try later"
    if isinstance(exc, httpx2.ConnectError):
        return f"cannot connect to {endpoint} ({type(exc).__name__})"
    if isinstance(exc, httpx2.LocalProtocolError):
        return f"the request could not be sent ({type(exc).__name__})"
    return f"the connection to {endpoint} failed ({type(exc).__name__})"


def explain(
    what: str,
    exc: Exception,
    response: httpx2.Response | None,
    library: tuple[str, str],
    endpoint: str,
) -> str:
    """One line for `exc`, raised while `what`, given the last `response` (None: no answer).

    `library` is (type, id), e.g. ("group", "123"). The caller still redacts the
    result: a server's reason is quoted for the statuses that have no fixed meaning.
    """
    status = response.status_code if response is not None else None
    library_type, library_id = library
    name = f"{library_type} {library_id}"
    if isinstance(exc, httpx2.TransportError):
        return f"Zotero: {what} failed: {_transport(exc, endpoint)}"
    if status == 429 or isinstance(exc, ze.TooManyRetriesError | ze.TooManyRequestsError):
        return (
            f"Zotero: {what} failed: rate limited (HTTP 429), still after waiting as long "
            "as Zotero asked; try later"
        )
    if status is not None and status >= 500:
        return f"Zotero: {what} failed: Zotero is failing (HTTP {status}); try later"
    if status == 404 and response is not None:
        path = response.request.url.path
        if f"/{library_type}s/{library_id}/" in path:
            return (
                f"Zotero: {what} failed (HTTP 404): wrong library id or type (group/user): "
                f"{endpoint} has no {name} (ZOTERO_LIBRARY_ID, ZOTERO_LIBRARY_TYPE)"
            )
        return (
            f"Zotero: {what} failed (HTTP 404): {endpoint} has no {path}; "
            "is ZOTERO_ENDPOINT the Zotero Web API?"
        )
    if status in (401, 403) and response is not None:
        if _server_says(response) == "Invalid key":
            return (
                f"Zotero: {what} failed (HTTP 403 Invalid key): Zotero does not know "
                f"this ZOTERO_API_KEY; create one at {KEYS_PAGE}"
            )
        return (
            f"Zotero: {what} failed (HTTP {status}): the key cannot write to this library "
            f"({name}); give it write access at {KEYS_PAGE}"
        )
    if status is not None and status >= 400:
        reason = _server_says(response) if response is not None else ""
        return f"Zotero: {what} failed (HTTP {status}){': ' + reason if reason else ''}"
    if isinstance(exc, ValueError):
        return f"Zotero: {what} failed: the answer was not the JSON the API documents"
    reason = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return f"Zotero: {what} failed: {type(exc).__name__}{': ' + reason if reason else ''}"
