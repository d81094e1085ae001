"""`bib stats`: the counts of `bib.stats` as aligned tables with bars, for a terminal."""

from __future__ import annotations

from bib.project import Project
from bib.stats import Stats, summarize, totals_line

BAR = "█"
BAR_WIDTH = 40  # characters of the longest bar in `format_table`
LABEL_WIDTH = 40  # longer labels are cut, with an ellipsis, in `format_table`


def stats(project: Project) -> Stats:
    """The stats of the bibliography `bib build` would write."""
    return summarize(project.bibliography)


def bar_length(count: int, maximum: int, width: int = BAR_WIDTH) -> int:
    """Characters of a bar: proportional to the maximum, at least one for a non-zero count."""
    if count <= 0 or maximum <= 0:
        return 0
    return max(1, (count * width * 2 + maximum) // (maximum * 2))  # rounds half up


def _cut(label: str, width: int) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def format_table(stats: Stats) -> str:
    """A plain-text report: one aligned table per dimension, with bars of '█'."""
    tables = (
        ("Papers per category", stats.categories),
        ("Papers per year", stats.years),
        ("Papers per venue", stats.venues),
    )
    pairs = [(_cut(label, LABEL_WIDTH), count) for _title, rows in tables for label, count in rows]
    label_width = max((len(label) for label, _count in pairs), default=0)
    count_width = max((len(str(count)) for _label, count in pairs), default=1)
    lines = [f"{stats.title}: {totals_line(stats)}"]
    for heading, rows in tables:
        lines += ["", heading]
        maximum = max((count for _label, count in rows), default=0)
        for label, count in rows:
            bar = BAR * bar_length(count, maximum)
            row = f"  {_cut(label, LABEL_WIDTH):<{label_width}}  {count:>{count_width}}  {bar}"
            lines.append(row.rstrip())
    return "\n".join(lines) + "\n"
