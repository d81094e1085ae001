"""Text to BibTeX field values that both BibTeX and biber read.

BibTeX is byte-oriented: it mis-sorts, mis-abbreviates and mis-cases raw UTF-8,
so non-ASCII letters become braced LaTeX accent commands (`{\\'e}`, `{\\L}`),
the form BibTeX treats as one "special character" and biber decodes back.
"""

from __future__ import annotations

import re

from pylatexenc.latexencode import UnicodeToLatexEncoder

_SPECIALS = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
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
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# Typographic characters a title should keep as TeX ligatures, not as text commands.
_TYPOGRAPHY = str.maketrans(
    {
        "\u2013": "--",
        "\u2014": "---",
        "\u2018": "`",
        "\u2019": "'",
        "\u201c": "``",
        "\u201d": "''",
        "\u00a0": "~",
    }
)
_ENCODER = UnicodeToLatexEncoder(
    non_ascii_only=True,
    replacement_latex_protection="braces-all",
    unknown_char_policy="keep",
    unknown_char_warning=False,
)


def escape(text: str) -> str:
    """Escape TeX specials and encode non-ASCII characters."""
    if not _NEEDS_WORK.search(text):
        return text
    text = text.translate(_SPECIALS)
    if text.isascii():
        return text
    text = text.translate(_TYPOGRAPHY)
    return _NON_ASCII.sub(lambda m: _ENCODER.unicode_to_latex(m.group()), text)


_WORD = re.compile(r"[^\W_]+(?:[-/][^\W_]+)*")


def _needs_protection(part: str) -> bool:
    """Acronyms and CamelCase names (LLM, vLLM, PagedAttention, W4A8KV4).

    A capital after the first letter is what a sentence-casing style would
    wrongly lower-case; a plain capitalized word ("Serving") is left alone.
    """
    return any(ch.isupper() for ch in part[1:])


def protect_title(title: str) -> str:
    """Escape a title and brace-protect the words whose case must survive.

    Each hyphenated part is judged on its own ("{IO}-Awareness"); a one-letter
    capital part next to a protected part joins it ("{S}-{LoRA}").
    """
    out: list[str] = []
    position = 0
    for match in _WORD.finditer(title):
        out.append(escape(title[position : match.start()]))
        word = match.group()
        pieces = re.split(r"([-/])", word)
        parts = pieces[::2]
        protect = [_needs_protection(p) for p in parts]
        if any(protect):
            protect = [
                flag or (len(p) == 1 and p.isupper())
                for p, flag in zip(parts, protect, strict=True)
            ]
        for index, piece in enumerate(pieces):
            if index % 2:
                out.append(piece)
            elif protect[index // 2]:
                out.append("{" + escape(piece) + "}")
            else:
                out.append(escape(piece))
        position = match.end()
    out.append(escape(title[position:]))
    return "".join(out)
