"""A bullet's or a table cell's inline Markdown, flattened into runs of text, links and breaks.

markdown-it-py has already parsed emphasis, links, images and raw HTML into tokens;
what lists do with them is what varies: a title inside a link or before `<br>`,
badges as images inside links, `<a href>` instead of Markdown links, a URL typed
as plain text. This module turns all of those into one shape, `Piece`s, so the
entry reader never looks at Markdown syntax again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it.token import Token

_HTML_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9]*)([^>]*)>")
_ATTR = r"""\b{name}\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"""
_HREF = re.compile(_ATTR.format(name="href"), re.IGNORECASE)
_ALT = re.compile(_ATTR.format(name="alt"), re.IGNORECASE)
_SRC = re.compile(_ATTR.format(name="src"), re.IGNORECASE)
# A URL typed as text; a trailing full stop or bracket belongs to the sentence.
_BARE_URL = re.compile(r"https?://[^\s<>\[\]()\"'`|]+[^\s<>\[\]()\"'`|.,;:!?]")
_BOLD_TAGS = {"b", "strong"}
_ITALIC_TAGS = {"i", "em"}
_BREAK_TAGS = {"br", "p", "div", "li", "tr", "td", "hr"}


@dataclass(slots=True)
class Piece:
    """A run of one kind: `text`, `link` (text is its label, or an image's alt text), `image`
    (`href` is its source: badges carry venues) or `break`."""

    kind: str
    text: str = ""
    href: str = ""
    bold: bool = False
    italic: bool = False
    image: bool = False  # a link whose label is only an image: a badge


class _Flattener:
    def __init__(self) -> None:
        self.out: list[Piece] = []
        self.bold = 0
        self.italic = 0
        self.link: Piece | None = None
        self.images: list[Piece] = []

    def text(self, text: str) -> None:
        if not text:
            return
        if self.link is not None:
            self.link.text += text
            self.link.image = False
            return
        position = 0
        for match in _BARE_URL.finditer(text):
            self._plain(text[position : match.start()])
            self.out.append(Piece("link", "", match.group(), self.bold > 0, self.italic > 0))
            position = match.end()
        self._plain(text[position:])

    def _plain(self, text: str) -> None:
        if not text:
            return
        bold, italic = self.bold > 0, self.italic > 0
        last = self.out[-1] if self.out else None
        if last and last.kind == "text" and last.bold == bold and last.italic == italic:
            last.text += text
        else:
            self.out.append(Piece("text", text, bold=bold, italic=italic))

    def open_link(self, href: str) -> None:
        self.close_link()
        self.link = Piece("link", "", href.strip(), self.bold > 0, self.italic > 0, image=True)

    def close_link(self) -> None:
        if self.link is not None:
            if not self.link.text.strip():
                self.link.image = True
            self.out.append(self.link)
            self.out.extend(self.images)
            self.link = None
            self.images = []

    def image(self, alt: str, src: str) -> None:
        # Inside a link an image is its label (a badge); either way its source may name a venue.
        image = Piece("image", alt, src.strip())
        if self.link is None:
            self.out.append(image)
            return
        self.images.append(image)
        if not self.link.text.strip():
            self.link.text = alt
            self.link.image = True

    def brk(self) -> None:
        if self.link is not None:
            self.link.text += " "
        elif self.out and self.out[-1].kind != "break":
            self.out.append(Piece("break"))

    def html(self, markup: str) -> None:
        tag = _HTML_TAG.match(markup)
        if tag is None:
            return
        closing, name, attrs = tag.group(1) == "/", tag.group(2).lower(), tag.group(3)
        if name == "a":
            if closing:
                self.close_link()
            elif href := _HREF.search(attrs):
                self.open_link(_value(href))
        elif name in _BOLD_TAGS:
            self.bold += -1 if closing else 1
        elif name in _ITALIC_TAGS:
            self.italic += -1 if closing else 1
        elif name == "img":
            alt, src = _ALT.search(attrs), _SRC.search(attrs)
            self.image(_value(alt), _value(src))
        elif name in _BREAK_TAGS:
            self.brk()


def _value(match: re.Match[str] | None) -> str:
    return next((g for g in match.groups() if g is not None), "") if match else ""


def flatten(children: list[Token]) -> list[Piece]:
    """The pieces of one inline token's children, with emphasis and links resolved."""
    flat = _Flattener()
    for token in children:
        kind = token.type
        if kind in ("text", "code_inline"):
            flat.text(token.content)
        elif kind == "link_open":
            flat.open_link(str(token.attrs.get("href", "")))
        elif kind == "link_close":
            flat.close_link()
        elif kind == "strong_open":
            flat.bold += 1
        elif kind == "strong_close":
            flat.bold -= 1
        elif kind == "em_open":
            flat.italic += 1
        elif kind == "em_close":
            flat.italic -= 1
        elif kind == "image":
            flat.image(token.content, str(token.attrs.get("src", "")))
        elif kind in ("softbreak", "hardbreak"):
            flat.brk()
        elif kind == "html_inline":
            flat.html(token.content)
    flat.close_link()
    return flat.out


def plain_text(pieces: list[Piece]) -> str:
    """What a reader sees, breaks as spaces (for headings and descriptions)."""
    return " ".join(" ".join(p.text for p in pieces if p.kind in ("text", "link")).split())
