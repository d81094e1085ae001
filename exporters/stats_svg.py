"""The bibliography as a picture: papers per category, per year and per venue.

A standalone SVG written by hand (no plotting library), the same bytes for the
same bibliography: no timestamps, no generated ids, a fixed width, and the
system font stack. Each chart is a set of horizontal bars, scaled to the
chart's largest count, each labelled with its count. Bars are
`<rect class="bar">`, their labels `<text class="label">` and their counts
`<text class="count">`. Layout depends on attributes only (the `<style>` sets
colours), so a viewer that ignores CSS still draws it right. A label too long
for its column is cut with an ellipsis and given in full in the bar's `<title>`
tooltip.

Text widths are estimated (an SVG cannot measure text without a renderer), on
the generous side so that labels never run into the bars.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape as xml_escape

from bib.record import Bibliography
from bib.stats import Counts, Stats, summarize, top, totals_line

WIDTH = 900
MARGIN = 24
TOP_VENUES = 12
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
TITLE_SIZE = 20
HEADING_SIZE = 15
TEXT_SIZE = 13
ROW = 22  # vertical distance between bars
BAR_HEIGHT = 16
MIN_BAR = 2  # pixels: a count of one among hundreds still shows
CHAR_WIDTH = 0.62  # of the font size: a generous average for a sans-serif
LABEL_GAP = 8  # between a label and its bar
COUNT_ROOM = 40  # to the right of the longest bar, for its count
LABEL_MIN, LABEL_MAX = 80, 320  # bounds of the label column, in pixels
COLOURS = ("#4e79a7", "#f28e2b", "#59a14f")  # one per chart (Tableau 10)

# Characters XML 1.0 forbids, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPACE = re.compile(r"\s+")


def escape(text: str) -> str:
    """Text safe in XML character data and in double-quoted attribute values."""
    return xml_escape(_NOT_XML.sub("", _SPACE.sub(" ", text).strip()), {'"': "&quot;"})


def text_width(text: str, size: float = TEXT_SIZE) -> float:
    return len(text) * size * CHAR_WIDTH


def fit(text: str, width: float, size: float = TEXT_SIZE) -> str:
    """`text`, cut with an ellipsis if its estimated width exceeds `width` pixels."""
    if text_width(text, size) <= width:
        return text
    keep = max(1, int(width / (size * CHAR_WIDTH)) - 1)
    return text[:keep].rstrip() + "…"


def _num(value: float) -> str:
    """A coordinate with at most one decimal, and none when it is whole."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def charts(stats: Stats) -> tuple[tuple[str, Counts], ...]:
    return (
        ("Papers per category", stats.categories),
        ("Papers per year", stats.years),
        (f"Papers per venue (top {TOP_VENUES})", top(stats.venues, TOP_VENUES))
        if len(stats.venues) > TOP_VENUES
        else ("Papers per venue", stats.venues),
    )


def render_stats(stats: Stats) -> str:
    sections = charts(stats)
    labels = [label for _heading, rows in sections for label, _count in rows]
    label_width = min(LABEL_MAX, max([LABEL_MIN, *(text_width(label) for label in labels)]))
    bar_x = MARGIN + label_width + LABEL_GAP
    bar_room = WIDTH - MARGIN - COUNT_ROOM - bar_x

    body: list[str] = []
    y = MARGIN + TITLE_SIZE
    title = escape(fit(stats.title, WIDTH - 2 * MARGIN, TITLE_SIZE))
    body.append(
        f'<text class="title" x="{MARGIN}" y="{y}" font-size="{TITLE_SIZE}" font-weight="700">'
        f"{title}</text>"
    )
    y += 22
    totals = escape(fit(totals_line(stats), WIDTH - 2 * MARGIN))
    body.append(f'<text class="totals" x="{MARGIN}" y="{y}">{totals}</text>')
    y += 16
    for index, (heading, rows) in enumerate(sections):
        y += 20 + HEADING_SIZE
        body.append(
            f'<text class="heading" x="{MARGIN}" y="{y}" font-size="{HEADING_SIZE}" '
            f'font-weight="600">{escape(heading)}</text>'
        )
        y += 10
        maximum = max((count for _label, count in rows), default=0)
        colour = COLOURS[index % len(COLOURS)]
        body.append('<g class="chart">')
        for label, count in rows:
            width = max(MIN_BAR, bar_room * count / maximum) if count > 0 else 0
            middle = y + BAR_HEIGHT / 2
            baseline = _num(middle + TEXT_SIZE * 0.35)
            shown = fit(label, label_width)
            tooltip = escape(f"{label}: {count}")
            body += [
                f'<text class="label" x="{_num(bar_x - LABEL_GAP)}" y="{baseline}" '
                f'text-anchor="end">{escape(shown)}</text>',
                f'<rect class="bar" x="{_num(bar_x)}" y="{y}" width="{_num(width)}" '
                f'height="{BAR_HEIGHT}" rx="2" fill="{colour}"><title>{tooltip}</title></rect>',
                f'<text class="count" x="{_num(bar_x + width + 6)}" y="{baseline}">{count}</text>',
            ]
            y += ROW
        body.append("</g>")
    height = y + MARGIN

    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" font-family="{escape(FONT)}" '
        f'font-size="{TEXT_SIZE}">',
        f"<title>{escape(f'{stats.title}: {totals_line(stats)}')}</title>",
        "<desc>Bar charts of the bibliography: papers per category, per year and per venue.</desc>",
        "<style>",
        ".title, .heading { fill: #1a1a1a; }",
        ".totals { fill: #555555; }",
        ".label { fill: #333333; }",
        ".count { fill: #333333; font-variant-numeric: tabular-nums; }",
        "</style>",
        f'<rect class="background" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + "\n".join([*head, *body, "</svg>"]) + "\n"


def render(bibliography: Bibliography) -> str:
    return render_stats(summarize(bibliography))
