"""Small text helpers shared by keys, slugs and title matching."""

from __future__ import annotations

import unicodedata

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


def ascii_fold(text: str) -> str:
    """Drop accents so that 'Déjà' and 'Deja' give the same slug or key."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return decomposed.encode("ascii", "ignore").decode("ascii")
