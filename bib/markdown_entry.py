"""One bullet or table row of an awesome list, read into a title, its links and a label.

Lists put the title in three places: the text of the first link (link-first,
`[Orca](url): A Distributed ...`), a bold run (`**Title** *Authors*`), or the text
before the links (title-first, `Title <br> NeurIPS 2022 [[Paper]](url)`). Around
it they put what is not the title: venue tags (`[ICLR 2024]`), nicknames
(`[FlexGen]`), emoji and badges, affiliations (`(@Microsoft)`, `– Google`), dates,
and link labels (`[Paper]`, `[Code]`). Those are cut off; a venue or affiliation
becomes the entry's label, a nickname its id.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from bib.markdown_inline import Piece
from bib.paper_links import is_web_url

# Words that make a link's text a label for the link, not a title: [Paper], [Code], [arXiv].
_LABEL_WORDS = frozenset(
    str.split(
        """paper papers pdf pdfs arxiv abs abstract code codes github gitlab project projects page
    pages homepage home website site web blog blogs post demo demos video videos slides slide
    poster talk dataset datasets data model models weights checkpoint checkpoints hf huggingface
    hugging face openreview doi link links url html acl anthology bib bibtex cite citation tweet
    twitter youtube docs doc documentation repo repository official unofficial implementation
    colab notebook leaderboard zhihu tutorial supp supplementary supplement review reviews ieee
    acm springer download preprint publication proceedings here source src star stars pytorch
    tensorflow jax mindspore paddle tech technical report english chinese notes note summary
    medium reddit api space spaces online overview press release io pub dl full text view read
    more details official site the and of on in a"""
    )
)
_VENUE_WORDS = frozenset(
    str.split(
        """iclr icml neurips nips acl emnlp naacl coling eacl aacl aaai ijcai cvpr iccv eccv wacv
    kdd www sigir sigmod vldb pvldb osdi sosp nsdi atc usenix eurosys asplos isca micro hpca dac
    iccad mlsys sc ppopp socc fast tacl tmlr jmlr tpami tnnls nature science arxiv colm icde
    fpga isscc icassp interspeech uai aistats colt cikm wsdm recsys mm findings icse fse ase
    issta pldi popl oopsla cgo mobisys mobicom sensys infocom sigcomm hotos hotnets ipdps ics
    hpdc middleware tocs cacm ieee acm tpds tc tos todaes jsac lrec ijcnlp conll icdm sdm ecml
    pkdd iclrw icmlw neuripsw nmi pmlr tkde tois tist cscw chi uist ubicomp imwut acmmm tog siggraph
    corr ssrn openreview"""
    )
)
# Words that qualify a venue ("ICML 2023 Oral", "Findings of ACL") but name none alone.
_VENUE_QUALIFIERS = frozenset(
    str.split("preprint workshop oral spotlight poster conference journal proceedings findings")
)
_STOPWORDS = frozenset(
    str.split(
        """a an the and or nor but for of in on at to with via by from as is are into over under
    without through using vs versus per toward towards beyond across its their our your not
    than that which when do does be can all"""
    )
)
_YEAR = re.compile(r"(?:^|[\s'’(\[,-])(?:19|20)?\d{2}(?:$|[\s)\],.])|\b(?:19|20)\d{2}\b")
_MONTHS = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?:19|20)\d{2}\b",
    re.IGNORECASE,
)
_BARS = re.compile(r"\s*[|\uff5c]\s*")
_LEADING_TAG = re.compile(r"^\s*[\[【]([^\[\]【】]{1,80})[\]】][\s:：-]*")
_LEAD_TAG = re.compile(r"^[^\w\[【]*[\[【]([^\[\]【】]{1,80})[\]】][\s:：-]*")
_TRAILING_TAG = re.compile(r"\s*[\[【]([^\[\]【】]{1,60})[\]】]$")
_TRAILING_PAREN = re.compile(r"\s*[(（]([^()（）]{1,100})[)）]\s*$")
_DASH_TAIL = re.compile(r"\s+(?:[–—]|--)\s+|\s*—\s*")
_HYPHEN_TAIL = re.compile(r"\s+-\s+")
_ET_AL = re.compile(r"[,.;]?\s*[^,.;]*\bet\.?\s+al\b.*$", re.IGNORECASE)
_AUTHOR_LIST = re.compile(r"^[A-Z][\w'-]+(?: [A-Z]\.)? [A-Z][\w'-]+,")
_SENTENCE = re.compile(r"(?<=[a-z0-9)\]?!])\.\s+(?=[A-Z])")
_MARKUP = re.compile(r"<[^<>]*>|!?\[|\]|\*\*+|__+|`+|~~")
_JUNK = re.compile(r"^[\s\W\d_]*$")  # only punctuation, digits and spaces (dates, bullets, bars)
_WORD = re.compile(r"[^\W\d_][\w'’.+-]*")
_DROP_CATEGORIES = {"So", "Cs", "Co", "Cn", "Cc", "Cf"}
# Variation selectors, the keycap mark and skin tones combine with emoji but are not "So".
_EMOJI_MARKS = frozenset("\ufe0e\ufe0f\u20e3\u200d") | frozenset(map(chr, range(0x1F3FB, 0x1F400)))
# Scripts and punctuation that hold no emoji (Latin, Greek to Greek Extended, CJK, Hangul).
_PLAIN = re.compile(
    "[\t\x20-\x7e\u00a0-\u02ff\u0370-\u1fff\u2010-\u2027\u2030-\u205e"
    "\u3000-\u303f\u3040-\u9fff\uac00-\ud7af\uff00-\uffef]*"
)
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_KEYCAP = re.compile("[0-9#*]\ufe0f?\u20e3")
_PAREN_DROP = re.compile(
    r"^@|\bsection\b|\bchapter\b|\bappendix\b|\bpart\s+\d|\bstars?\b|\bcode\b|\bpaper\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Candidate:
    """What one bullet or row says: `title` is empty when it names nothing."""

    title: str
    short: str
    links: tuple[str, ...]
    main: str | None
    label: str | None
    anchors: bool
    bold_only: bool
    text: str  # every word of the bullet, Markdown already resolved (not yet `clean`ed)


def strip_symbols(text: str) -> str:
    """Emoji, pictographs, private-use and control characters out; letters of every script in."""
    if _PLAIN.fullmatch(text):  # most text: no emoji to look up, one regex pass
        return _CONTROL.sub("", text)
    text = _KEYCAP.sub("", text)
    return "".join(
        c for c in text if unicodedata.category(c) not in _DROP_CATEGORIES and c not in _EMOJI_MARKS
    )


def _squash(text: str) -> str:
    return " ".join(text.split())


@functools.lru_cache(maxsize=4096)  # lists repeat [Paper], [Code], [pdf] on every line
def is_label_text(text: str) -> bool:
    """The text of a link that labels the link ([Paper], [Code], a badge) rather than a paper."""
    stripped = strip_symbols(text).strip(" []()【】{}<>:.-—|*_")
    if not stripped or is_web_url(stripped) or stripped.startswith("www."):
        return True
    words = re.findall(r"[^\W\d_]+|\d+", stripped.lower())
    known = _LABEL_WORDS | _VENUE_WORDS | _VENUE_QUALIFIERS
    return all(w in known or w.isdigit() for w in words)


def is_venue(text: str) -> bool:
    """A venue or date tag: `ICLR 2024`, `OSDI' 24`, `arXiv 2023`, `NeurIPS 2022 Oral`."""
    words = _WORD.findall(text.lower())
    if not words or len(words) > 6:
        return False
    known = any(w in _VENUE_WORDS for w in re.findall(r"[a-z]+", text.lower()))
    dated = bool(_YEAR.search(text)) or bool(_MONTHS.search(text))
    return (known and (dated or len(words) <= 3)) or (dated and len(words) <= 3)


def is_title_case(text: str) -> bool:
    """Most significant words capitalised, as paper titles are and tool descriptions are not.

    Used to keep a bullet that links a code host or nothing when its text is a paper's
    title ("Mooncake: A KVCache-centric Disaggregated Architecture for LLM Serving"),
    while "vllm: a high-throughput and memory-efficient inference engine" stays out.
    """
    words = [w for w in _WORD.findall(text) if w.lower() not in _STOPWORDS]
    if len(words) < 5:
        return False
    capital = sum(1 for w in words if not w.islower())
    return capital >= 0.8 * len(words)


class _Labels:
    """Label candidates, best first: a `| label` bar, a venue tag, an affiliation, a tail."""

    def __init__(self) -> None:
        self.found: dict[int, str] = {}

    def add(self, priority: int, text: str | None) -> None:
        text = _squash(strip_symbols(text or "")).strip(" ,;:|*_-–—")
        while len(text) > 1 and text[0] + text[-1] in ("[]", "()", "【】"):
            text = text[1:-1].strip()
        if text.count("(") != text.count(")") or text.count("[") != text.count("]"):
            text = text.strip("()[] ")
        if text and priority not in self.found:
            self.found[priority] = text

    def best(self) -> str | None:
        return self.found[min(self.found)] if self.found else None


def _cut_tails(title: str, labels: _Labels) -> str:
    """Drop what follows a title: affiliations, dates, `(Section 3)`, authors, venue tags."""
    while True:
        before = title
        ending = title[-1:]
        paren = _TRAILING_PAREN.search(title) if ending in (")", "）") else None
        if paren and paren.start() > 0:
            inner = paren.group(1).strip()
            if inner.startswith("@"):
                labels.add(3, inner[1:])
                title = title[: paren.start()]
            elif is_venue(inner) or _MONTHS.search(inner) or _PAREN_DROP.search(inner):
                labels.add(2 if is_venue(inner) else 5, inner)
                title = title[: paren.start()]
        tag = _TRAILING_TAG.search(title) if ending in ("]", "】") else None
        if tag and tag.start() > 0 and is_venue(tag.group(1)):
            labels.add(2, tag.group(1))
            title = title[: tag.start()]
        dash = _DASH_TAIL.search(title) if ("–" in title or "—" in title or "--" in title) else None
        if dash and dash.start() > 0 and len(title[: dash.start()].split()) >= 2:
            tail = title[dash.end() :]
            if len(tail.split()) <= 8:
                labels.add(4, tail)
            title = title[: dash.start()]
        hyphen = _HYPHEN_TAIL.search(title) if " - " in title else None
        if hyphen and len(title[: hyphen.start()].split()) >= 3:
            tail = title[hyphen.end() :]
            if is_venue(tail) or _MONTHS.search(tail) or _ET_AL.search(tail):
                labels.add(4, tail)
                title = title[: hyphen.start()]
        if "et" in title and (authors := _ET_AL.search(title)):
            title = (
                title[: authors.start()] if len(title[: authors.start()].split()) >= 2 else title
            )
        title = title.rstrip(" .,;:|-–—*_")
        if title == before:
            return title


def _cut_leading_tags(text: str, labels: _Labels) -> tuple[str, str | None]:
    """Remove `[ICLR 2024]`, `[FlexGen]` tags before a title: (rest, nickname)."""
    nickname = None
    while (tag := _LEADING_TAG.match(text)) and text[tag.end() :].strip():
        inner = tag.group(1).strip()
        if is_venue(inner):
            labels.add(2, inner)
        elif nickname is None and not _JUNK.match(inner):
            nickname = inner
        text = text[tag.end() :]
    return text, nickname


def clean(text: str) -> str:
    """No Markdown or HTML left, no emoji, single spaces."""
    return _squash(_MARKUP.sub(" ", strip_symbols(text))).strip(" .,;:|-–—")


def _lines(pieces: list[Piece]) -> list[list[Piece]]:
    lines: list[list[Piece]] = [[]]
    for piece in pieces:
        if piece.kind == "break":
            lines.append([])
        else:
            lines[-1].append(piece)
    return [line for line in lines if line]


def _is_junk(piece: Piece) -> bool:
    if piece.kind == "image":
        return True
    if piece.kind == "link":
        return piece.image or is_label_text(piece.text) or piece.href.startswith("#")
    if "[" in piece.text:
        return False
    text = strip_symbols(piece.text)
    return bool(_JUNK.match(text)) or is_label_text(text.strip().removesuffix(":"))


def _until_link(pieces: list[Piece], start: int, italic: bool | None = None) -> tuple[str, int]:
    """Text from `start` up to the next link (or a change to italics): (text, index after)."""
    parts, i = [], start
    while i < len(pieces) and pieces[i].kind == "text":
        if italic is not None and pieces[i].italic != italic:
            break
        parts.append(pieces[i].text)
        i += 1
    return "".join(parts), i


def _continues(head: str, rest: str) -> str | None:
    """How the text after a linked or bold name continues the title, if it does (seed quirks)."""
    rest = rest.strip()
    if not rest or head.rstrip().endswith("."):
        return None
    if rest.startswith((":", "：")):
        return f"{head.rstrip(':').strip()}: {rest[1:].strip()}"
    if head.rstrip().endswith(":"):
        return f"{head.rstrip(':').strip()}: {rest}"
    first = rest.split()[0]
    if (
        len(head.split()) <= 3
        and (first[0].isupper() or first in _STOPWORDS)
        and not _AUTHOR_LIST.match(rest)
        and is_title_case(f"{head} {rest}")
    ):
        return f"{head.strip()} {rest}"
    return None


def _strip_leading_tags(pieces: list[Piece], i: int, labels: _Labels) -> str | None:
    """Cut `[ICLR 2024]`, `[**FlexGen**]` tags (and emoji) off the text starting at piece `i`.

    A tag may span pieces when emphasis sits inside its brackets, so the text is cut
    character by character across them, keeping the emphasis of what follows.
    Returns the nickname, if a tag was one.
    """
    nickname = None
    while True:
        j = i
        while j < len(pieces) and pieces[j].kind == "text":
            j += 1
        joined = "".join(p.text for p in pieces[i:j])
        tag = _LEAD_TAG.match(joined)
        if tag is None or (not joined[tag.end() :].strip() and j >= len(pieces)):
            return nickname
        inner = strip_symbols(tag.group(1)).strip()
        if is_venue(inner):
            labels.add(2, inner)
        elif nickname is None and not _JUNK.match(inner):
            nickname = inner
        cut, k = tag.end(), i
        while cut > 0:
            taken = min(cut, len(pieces[k].text))
            pieces[k].text = pieces[k].text[taken:]
            cut, k = cut - taken, k + 1


def _read_line(line: list[Piece], labels: _Labels) -> tuple[str, str, str | None, str]:
    """(raw title, short name, main link, rest) of the first line that names something."""
    pieces = [Piece(p.kind, p.text, p.href, p.bold, p.italic, p.image) for p in line]
    nickname = None
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        if piece.kind == "text":
            nickname = _strip_leading_tags(pieces, i, labels) or nickname
        if _is_junk(piece):
            if piece.kind == "link" and is_venue(piece.text.strip("[]() ")):
                labels.add(2, piece.text)
            i += 1
            continue
        break
    if i >= len(pieces):
        return "", "", None, ""
    first = pieces[i]
    if first.kind == "link":
        head, main, (rest, _) = first.text, first.href, _until_link(pieces, i + 1, italic=False)
        mode = "link"
    elif first.bold and first.text.strip():
        head, main = first.text, None
        rest, _ = _until_link(pieces, i + 1, italic=False)
        mode = "bold"
    else:
        head, _ = _until_link(pieces, i, italic=first.italic)
        main, rest, mode = None, "", "plain"
    # `| label` ends the title; the label is the last bar's text, even past a [Code] link.
    bars = _BARS.split("".join(p.text for p in pieces[i:] if p.kind == "text"))
    if len(bars) > 1:
        labels.add(1, next((b for b in reversed(bars[1:]) if b.strip()), None))
        head_parts = _BARS.split(head, maxsplit=1)
        head, rest = head_parts[0], "" if len(head_parts) > 1 else _BARS.split(rest)[0]
    head, nick = _cut_leading_tags(strip_symbols(head), labels)
    nickname = nickname or nick
    if mode == "plain":
        sentences = _SENTENCE.split(head, maxsplit=1)
        if len(sentences) > 1 and len(sentences[0].split()) >= 3:
            head, tail = sentences
            if is_venue(tail.split(".")[-1] or tail):
                labels.add(3, tail.split(".")[-1])
        title, short = head, nickname or head
    else:
        joined = _continues(head, strip_symbols(rest))
        title = joined or head
        short = nickname or head
        if joined is None and rest.strip():
            _label_from_rest(rest, labels)
    return title, short, main, rest


def _badge_venue(piece: Piece) -> str | None:
    """The venue a shields.io badge names: `.../badge/Conference-SIGMOD_2026-blue`."""
    if is_venue(piece.text):
        return piece.text
    path = urlsplit(piece.href).path if "shields.io/badge/" in piece.href else ""
    if not path:
        return None
    fields = re.split(r"(?<!-)-(?!-)", unquote(path.split("/badge/", 1)[1]))
    for text in fields[:-1][::-1]:
        text = text.replace("--", "-").replace("__", "\0").replace("_", " ").replace("\0", "_")
        if is_venue(text):
            return text
    return None


def _label_from_rest(rest: str, labels: _Labels) -> None:
    """`[Title](url), ICLR 2024` or `(NeurIPS 2023)` after a title gives its venue."""
    text = strip_symbols(rest).strip()
    if text[:1] in ("-", "–", "—") and len(text.split()) <= 9:
        words = _WORD.findall(text)
        if words and not any(w.islower() for w in words):
            labels.add(3, text)  # `– Google / DeepMind (Apr 2022)`, not `- a tool that ...`
            return
    text = text.strip(" ,.;:-–—")
    for part in re.findall(r"[(\[]([^()\[\]]+)[)\]]", text) or [text]:
        if is_venue(part):
            labels.add(2, part)
            return
        if part.startswith("@"):
            labels.add(3, part[1:])
            return


def read(pieces: list[Piece], extra_links: tuple[str, ...] = ()) -> Candidate:
    """Read one bullet (or row): title, short name for the id, links, label."""
    links = [p.href for p in pieces if p.kind == "link"]
    http = [u for u in (*links, *extra_links) if is_web_url(u)]
    anchors = any(u.startswith("#") for u in links)
    text_pieces = [p for p in pieces if p.kind == "text" and p.text.strip()]
    bold_only = bool(text_pieces) and all(p.bold for p in text_pieces) and not http
    labels = _Labels()
    for piece in pieces:
        if piece.kind == "image" and (venue := _badge_venue(piece)):
            labels.add(2, venue)
            break
    for piece in pieces:
        if (
            piece.kind == "link"
            and is_label_text(piece.text)
            and is_venue(piece.text.strip("[]() "))
        ):
            labels.add(2, piece.text)  # `Title [[NeurIPS 2022]](url)`
            break
    title = short = ""
    main = None
    lines = _lines(pieces)
    for number, line in enumerate(lines):
        title, short, main, _ = _read_line(line, labels)
        if clean(title):
            for later in lines[number + 1 :]:
                lead, _ = _until_link(later, 0)
                if lead.strip() and is_venue(strip_symbols(lead).strip(" ,.;:|-")):
                    labels.add(3, lead)
                    break
            break
    title = clean(_cut_tails(_squash(strip_symbols(title)), labels))
    short = clean(_cut_tails(_squash(strip_symbols(short)), _Labels())) or title
    plain = " ".join(p.text for p in pieces if p.kind == "text")
    return Candidate(
        title=title,
        short=short,
        links=tuple(http),
        main=main if main and is_web_url(main) else None,
        label=labels.best(),
        anchors=anchors,
        bold_only=bold_only,
        text=plain,
    )
