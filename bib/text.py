"""Small text helpers shared by keys, slugs and title matching."""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls, zero-width and bidirectional formatting characters: invisible, and
# able to reorder or hide what a reader (or a terminal) sees.
INVISIBLE = (  # ... and lone surrogates, which no UTF-8 file can hold
    r"\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ud800-\udfff"
)
_INVISIBLE = re.compile(f"[{INVISIBLE}]")
_SPACE = re.compile(r"\s+")

# Letters that Unicode does not decompose into ASCII base + accent.
_FOLD = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Ø": "O",
        "ø": "o",
        "Đ": "D",
        "đ": "d",
        "ß": "ss",
        "Æ": "AE",
        "æ": "ae",
        "Œ": "OE",
        "œ": "oe",
        "Þ": "Th",
        "þ": "th",
        "\u0131": "i",
    }
)


def clean_text(text: str) -> str:
    """Invisible characters removed, every run of white space one space, ends stripped.

    White space first becomes spaces, so a tab or newline between two words still
    separates them once the other control characters are gone.
    """
    return _SPACE.sub(" ", _INVISIBLE.sub("", _SPACE.sub(" ", text))).strip()


def has_invisible(text: str) -> bool:
    return bool(_INVISIBLE.search(text))


def shown(text: str) -> str:
    """`text` safe to print on one line: each invisible character as its escape (\\n, \\u202e)."""
    return _INVISIBLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def ascii_fold(text: str) -> str:
    """Drop accents so that 'Déjà' and 'Deja' give the same slug or key."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return decomposed.encode("ascii", "ignore").decode("ascii")
