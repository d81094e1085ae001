"""Text to BibTeX field values that both BibTeX and biber read.

BibTeX is byte-oriented: it mis-sorts, mis-abbreviates and mis-cases raw UTF-8,
so non-ASCII letters become braced LaTeX accent commands (`{\\'e}`, `{\\L}`),
the form BibTeX treats as one "special character" and biber decodes back
(`exporters.tex_chars` holds the table).
biber reads UTF-8, so the BibLaTeX exporter keeps Unicode as it is and only
escapes the TeX specials (`escape_specials`, `protect_title(..., keep_unicode=True)`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from exporters.tex_chars import tex

_SPECIALS = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        # Not \{ and \}: BibTeX counts every brace, escaped or not, so a lone
        # "\{" would leave the field open and swallow the rest of the file.
        "{": r"\textbraceleft{}",
        "}": r"\textbraceright{}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
)
_NEEDS_WORK = re.compile(r"[\\{}&%$#_~^]|[^\x00-\x7f]")
_SPECIAL_CHARS = re.compile(r"[\\{}&%$#_~^]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


@lru_cache(maxsize=1 << 16)
def escape(text: str) -> str:
    """Escape TeX specials and write non-ASCII characters as kernel LaTeX (`bib.tex_chars`).

    ASCII without specials, most of any bibliography, passes untouched; the rest
    is cached, since names, venues and publishers repeat. Characters no kernel
    command reaches are dropped (`tex_chars.untypeset` names them for a warning).
    """
    if not _NEEDS_WORK.search(text):
        return text
    text = unicodedata.normalize("NFC", text).translate(_SPECIALS)
    if text.isascii():
        return text
    return _NON_ASCII.sub(lambda match: "".join(tex(c) or "" for c in match.group()), text)


@lru_cache(maxsize=1 << 16)
def escape_specials(text: str) -> str:
    """Escape TeX specials only; every other character, Unicode included, is kept."""
    if not _SPECIAL_CHARS.search(text):
        return text
    return text.translate(_SPECIALS)


# Words and the gaps between them; hyphens and slashes are gaps, so "IO-Awareness" is two words.
_TOKENS = re.compile(r"([^\W_]+)")


def _needs_protection(word: str) -> bool:
    """Acronyms and CamelCase names (LLM, vLLM, PagedAttention, W4A8KV4).

    A capital after the first letter is what a sentence-casing style would
    wrongly lower-case; a plain capitalized word ("Serving") is left alone.
    """
    rest = word[1:]
    return rest != rest.lower()


@lru_cache(maxsize=1 << 16)
def _protected(title: str) -> tuple[tuple[str, bool, bool], ...]:
    """(token, is a word, must be braced) for every token, shared by both dialects.

    Each part of a hyphenated word is judged on its own ("{IO}-Awareness"); a
    one-letter capital joined by a hyphen to a protected part is protected too
    ("{S}-{LoRA}"), or a sentence-casing style would print "s-LoRA".
    """
    tokens = _TOKENS.split(title)  # gap, word, gap, word, ..., gap
    protect = [i % 2 == 1 and _needs_protection(t) for i, t in enumerate(tokens)]
    for i in range(1, len(tokens), 2):
        word = tokens[i]
        if not protect[i] and len(word) == 1 and word.isupper():
            joined_left = i >= 2 and tokens[i - 1] in ("-", "/") and protect[i - 2]
            joined_right = i + 2 < len(tokens) and tokens[i + 1] in ("-", "/") and protect[i + 2]
            protect[i] = joined_left or joined_right
    return tuple((t, i % 2 == 1, protect[i]) for i, t in enumerate(tokens) if t)


@lru_cache(maxsize=1 << 16)
def protect_title(title: str, *, keep_unicode: bool = False) -> str:
    """Escape a title and brace-protect the words whose case must survive (`_protected`).

    With `keep_unicode` (for biber) non-ASCII text stays as it is and only the
    TeX specials are escaped.
    """
    encode = escape_specials if keep_unicode else escape
    out = []
    for token, is_word, protect in _protected(title):
        text = token if token.isascii() and (is_word or token == " ") else encode(token)
        out.append("{" + text + "}" if protect else text)
    return "".join(out)
