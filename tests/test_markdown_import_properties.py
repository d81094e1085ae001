"""Properties of the importer on any Markdown: one-line errors only, and a catalog that loads."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bib import catalog
from bib.errors import CatalogError
from bib.markdown_import import parse_document, to_yaml

# Markdown or HTML left in a title: a link, an image, emphasis, code, brackets, a tag.
LEFTOVER = re.compile(r"\]\(|!\[|\*\*|__|`|\[|\]|<[A-Za-z/!][^>]*>")

words = st.sampled_from(
    ["Fast", "serving", "LLM", "KV-Cache:", "of", "the", "Attention", "2024", "ICLR", "🔥", "Déjà",
     "(@MIT)", "|", "｜", "–", "—", "-", ":", "*", "_", "`x`", "<br>", "<b>", "</b>", "<img src=x>",
     "[", "]", "(", ")", "#", "\\", "&amp;", "Paper:", "et al.", "(Section 3)", "\t", "Ǆ", "İ"]
)  # fmt: skip
urls = st.sampled_from(
    ["https://arxiv.org/abs/2401.00001", "https://arxiv.org/pdf/2402.00002.pdf", "#anchor",
     "https://github.com/a/b", "./relative.md", "https://doi.org/10.1145/1234.5678", "",
     "javascript:alert(1)", "https://openreview.net/forum?id=x", "http://[::1", "mailto:a@b.c"]
)  # fmt: skip
phrase = st.lists(words | st.text(max_size=6), min_size=0, max_size=8).map(" ".join)
link = st.builds(lambda t, u: f"[{t}]({u})", phrase, urls)
inline = st.lists(phrase | link | st.builds(lambda t: f"**{t}**", phrase), max_size=5).map(" ".join)
line = st.one_of(
    st.builds(lambda n, t: "#" * n + " " + t, st.integers(1, 7), phrase),
    st.builds(
        lambda i, m, t: " " * i + m + " " + t,
        st.integers(0, 6),
        st.sampled_from(["-", "*", "+", "1.", "2)"]),
        inline,
    ),
    st.builds(lambda a, b: f"| {a} | {b} |", inline, inline),
    st.sampled_from(["| Title | Venue |", "|---|---|", "```", "~~~", "<details>", "> quote", ""]),
    inline,
    st.text(max_size=40),
)
documents = st.lists(line, max_size=30).map("\n".join)


def check(text: str) -> None:
    try:
        result = parse_document(text, "prop.md")
    except CatalogError as error:
        message = str(error)
        assert message.startswith("prop.md") and "\n" not in message
        return
    loaded = catalog.parse(to_yaml(result.catalog), "prop.yaml")  # ids unique, slugs unique
    assert result.report.entries == len(loaded.entries) > 0
    for entry in loaded.entries:
        assert entry.link is None or re.match(r"^https?://[^\s/?#]+", entry.link, re.IGNORECASE), (
            entry.link
        )
        assert entry.title and entry.title == entry.title.strip()
        assert not LEFTOVER.search(entry.title), entry.title
        assert not any(ord(c) < 32 for c in entry.title), entry.title


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_structured_markdown_gives_a_loadable_catalog_or_one_line_error(text):
    check(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_loadable_catalog_or_one_line_error(text):
    check(text)


def test_the_properties_can_fail():
    """The checker rejects what it must: a title with Markdown left in it."""
    bad = "# L\n## C\n- [Paper](https://arxiv.org/abs/2401.00001)\n"
    check(bad)  # a bare label link names nothing: an error, and a one-line one
    assert LEFTOVER.search("A [Paper](x) title") and LEFTOVER.search("<b>x</b>")
