"""API keys from the environment: a value that never shows itself, and redaction.

Why a module of its own: every sink or upstream that takes a key (Zotero's
`ZOTERO_API_KEY`, Semantic Scholar's `x-api-key`) must keep it out of every
message, and an exception's text carries a key in more forms than a plain
`str.replace` finds: h11 names an illegal header as bytes (`b'Bearer abc\\r'`),
httpx shows URLs percent-encoded, a JSON body escapes control characters.
`redact` knows all of them, so callers need not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "<{name}>"


class Secret:
    """A key read from the environment variable `name`.

    `str`, `repr` and f-strings show `<NAME>`, never the value, so a Secret
    that slips into a message, a log line or a dataclass repr gives nothing
    away; `reveal()` is the one, greppable, way to the value.
    """

    __slots__ = ("_value", "name")

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return MASK.format(name=self.name)

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self):
        raise TypeError(f"{self!r} is a secret and is not pickled")

    def forms(self) -> list[str]:
        """Every spelling of the value an error text may hold, longest first.

        Plain; Python's str and bytes escapes (what an exception's repr of a
        header shows); JSON's; percent-encoding with upper- and lower-case hex,
        and with `+` for spaces (a URL's query, `?key=...`).
        """
        value = self._value
        if not value:
            return []
        encoded = quote(value, safe="")
        forms = {
            value,
            repr(value)[1:-1],
            repr(value.encode("utf-8"))[2:-1],
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
            encoded,
            _lower_hex(encoded),
            quote_plus(value, safe=""),
            _lower_hex(quote_plus(value, safe="")),
        }
        return sorted(forms, key=lambda form: (-len(form), form))


def _lower_hex(encoded: str) -> str:
    """`%2F` -> `%2f`: percent-encoding is case-insensitive, and servers echo either."""
    parts = encoded.split("%")
    return parts[0] + "".join("%" + p[:2].lower() + p[2:] for p in parts[1:])


def redact(text: str, secrets: Iterable[Secret]) -> str:
    """`text` with every form of every secret replaced by `<NAME>`.

    One pass over the text, longest form first, so a mask is never itself
    rewritten and a longer form is not half-replaced by a shorter one.
    """
    masks = {form: repr(secret) for secret in secrets for form in secret.forms()}
    if not masks:
        return text
    forms = sorted(masks, key=lambda form: (-len(form), form))
    pattern = re.compile("|".join(re.escape(form) for form in forms))
    return pattern.sub(lambda found: masks[found.group()], text)
