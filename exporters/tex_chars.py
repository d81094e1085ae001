"""Unicode characters as LaTeX that every engine typesets with no package loaded.

BibTeX is 8-bit and most documents are still compiled with pdflatex, so the
BibTeX file carries only ASCII: accented Latin letters become kernel accent
commands built from the Unicode decomposition (`é` = e + U+0301 -> `{\\'e}`,
`ő` = o + U+030B -> `{\\H{o}}`), the Latin letters that do not decompose have
kernel commands (`ł` -> `{\\l}`), typography becomes TeX's ligatures, and a
short table covers symbols and Greek (math mode). A character none of these
reach (emoji, CJK, symbols outside the fonts) has no form that compiles
everywhere: `tex()` returns None for it and the writer drops it, with a
warning naming the entry (`untypeset`).

A table rather than pylatexenc: pylatexenc answers "Ű" with `\\'{U}` (an acute,
not the double acute), and answers Cyrillic with macros that need fontenc T2A.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# fmt: off
# Combining mark -> accent command. Symbol-named commands take a bare letter (`\'e`);
# letter-named ones need braces (`\v{c}`), or TeX would read `\vc` as one name.
ACCENTS = {
    "\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=",
    "\u0307": ".", "\u0308": '"',
    "\u0306": "u", "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0323": "d",
    "\u0327": "c", "\u0328": "k", "\u0331": "b",
}
# Latin letters without a decomposition, and their LaTeX kernel commands.
LETTERS = {
    "\u0142": r"\l", "\u0141": r"\L", "\u00f8": r"\o", "\u00d8": r"\O", "\u00df": r"\ss",
    "\u00e6": r"\ae", "\u00c6": r"\AE", "\u0153": r"\oe", "\u0152": r"\OE", "\u0131": r"\i",
    "\u0237": r"\j", "\u0111": r"\dj", "\u0110": r"\DJ",
}
# Typography as TeX ligatures, and symbols the kernel (or math mode) provides.
SYMBOLS = {
    "\u2013": "--", "\u2014": "---", "\u2018": "`", "\u2019": "'", "\u201c": "``",
    "\u201d": "''", "\u00a0": "~", "\u2010": "-", "\u2011": "-", "\u2012": "-",
    "\u2212": "-", "\u2032": "'", "\u2009": " ", "\u202f": " ", "\u2002": " ",
    "\u2003": " ", "\u00ad": "", "\u00bf": "?`", "\u00a1": "!`",
    "\u2026": r"{\ldots}", "\u00a7": r"{\S}", "\u00b6": r"{\P}",
    "\u00a9": r"{\copyright}", "\u00a3": r"{\pounds}", "\u2020": r"{\dag}",
    "\u2021": r"{\ddag}", "\u00ab": r"{\guillemotleft}", "\u00bb": r"{\guillemotright}",
    "\u00d7": r"{$\times$}", "\u00b1": r"{$\pm$}", "\u00b7": r"{$\cdot$}",
    "\u2022": r"{$\bullet$}", "\u2264": r"{$\leq$}", "\u2265": r"{$\geq$}",
    "\u2248": r"{$\approx$}", "\u2260": r"{$\neq$}", "\u2192": r"{$\rightarrow$}",
    "\u2190": r"{$\leftarrow$}", "\u221e": r"{$\infty$}", "\u00b0": r"{$^\circ$}",
    "\u00b5": r"{$\mu$}",
}
# fmt: on
_GREEK = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
    "pi",
    "rho",
    "varsigma",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "chi",
    "psi",
    "omega",
]
for _offset, _name in enumerate(_GREEK):
    if _name != "omicron":  # no command: it is the Latin o
        SYMBOLS[chr(0x3B1 + _offset)] = f"{{$\\{_name}$}}"
# The capitals that differ from Latin letters (the others have no command of their own).
_CAPITALS = [
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Pi",
    "Sigma",
    "Upsilon",
    "Phi",
    "Psi",
    "Omega",
]
for _char, _name in zip(
    "\u0393\u0394\u0398\u039b\u039e\u03a0\u03a3\u03a5\u03a6\u03a8\u03a9", _CAPITALS, strict=True
):
    SYMBOLS[_char] = f"{{$\\{_name}$}}"


def _accented(base: str, marks: str) -> str | None:
    """`base` under `marks` (innermost first), or None if a mark has no command."""
    body = base if base.isascii() else LETTERS.get(base)
    if body is None:
        return None
    for mark in marks:
        command = ACCENTS.get(mark)
        if command is None:
            return None
        if command.isalpha() or len(body) > 1:
            body = f"\\{command}{{{body}}}"
        else:
            body = f"\\{command}{body}"
    return "{" + body + "}"


@lru_cache(maxsize=4096)
def tex(char: str) -> str | None:
    """One non-ASCII character as LaTeX that compiles with no package, or None."""
    if char in SYMBOLS:
        return SYMBOLS[char]
    if char in LETTERS:
        return "{" + LETTERS[char] + "}"
    decomposed = unicodedata.normalize("NFD", char)
    if len(decomposed) > 1:
        return _accented(decomposed[0], decomposed[1:])
    return _compatible(char)


def _compatible(char: str) -> str | None:
    """A compatibility character written as what it stands for: "²" as a kernel
    superscript, the ligature "ﬁ" and full-width letters as plain letters."""
    plain = unicodedata.normalize("NFKD", char)
    unsafe = set(plain) & set("\\{}&%$#_~^")
    if plain == char or not plain.isascii() or not plain.strip() or unsafe:
        return None
    name = unicodedata.name(char, "")
    for script in ("superscript", "subscript"):
        if script.upper() in name:
            return f"{{\\text{script}{{{plain}}}}}"
    return plain


def untypeset(text: str) -> list[str]:
    """The characters of `text` the BibTeX file cannot carry (and drops), in order, once each."""
    if text.isascii():
        return []
    return [c for c in dict.fromkeys(text) if not c.isascii() and tex(c) is None]
