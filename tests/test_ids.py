"""Identifiers read from links and pins."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bib.ids import Identifier, _from_parts, from_link, normalize_arxiv, normalize_doi


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://arxiv.org/abs/2311.15566", Identifier("arxiv", "2311.15566")),
        ("https://arxiv.org/abs/2406.14066v1", Identifier("arxiv", "2406.14066")),
        ("https://arxiv.org/pdf/2312.16733.pdf", Identifier("arxiv", "2312.16733")),
        ("https://arxiv.org/pdf/2309.10285v1.pdf", Identifier("arxiv", "2309.10285")),
        ("https://arxiv.org/html/2404.07947v1", Identifier("arxiv", "2404.07947")),
        ("http://export.arxiv.org/abs/quant-ph/0201082v1", Identifier("arxiv", "quant-ph/0201082")),
        ("https://doi.org/10.1145/3600006.3613165", Identifier("doi", "10.1145/3600006.3613165")),
        (
            "https://dl.acm.org/doi/pdf/10.1145/3552326.3587438",
            Identifier("doi", "10.1145/3552326.3587438"),
        ),
        (
            "https://dl.acm.org/doi/10.1145/3620665.3640422",
            Identifier("doi", "10.1145/3620665.3640422"),
        ),
        ("https://dblp.org/rec/conf/osdi/YuJKKC22.html", Identifier("dblp", "conf/osdi/YuJKKC22")),
        (
            "https://proceedings.mlr.press/v202/liu23am.html",
            Identifier("url", "https://proceedings.mlr.press/v202/liu23am.html"),
        ),
        (
            "https://www.usenix.org/conference/osdi22/presentation/yu",
            Identifier("url", "https://www.usenix.org/conference/osdi22/presentation/yu"),
        ),
        (
            "https://openreview.net/forum?id=BAakY1hNKS",
            Identifier("url", "https://openreview.net/forum?id=BAakY1hNKS"),
        ),
        (
            "https://proceedings.neurips.cc/paper_files/paper/2022/hash/67d57c32e20fd0a7a302cb81d36e40d5-Abstract-Conference.html",
            Identifier(
                "url",
                "https://proceedings.neurips.cc/paper_files/paper/2022/hash/67d57c32e20fd0a7a302cb81d36e40d5-Abstract-Conference.html",
            ),
        ),
    ],
)
def test_links_that_identify_a_paper(link, expected):
    assert from_link(link) == expected


@pytest.mark.parametrize(
    "link",
    [
        "https://github.com/kvcache-ai/Mooncake/tree/main?tab=readme-ov-file",
        "https://vllm.ai/",
        "https://www.cs.cmu.edu/~zhihaoj2/papers/specinfer.pdf",
        "https://arxiv.org/abs/not-an-id",
        "https://dl.acm.org/doi/pdf/notadoi",
    ],
)
def test_links_that_identify_nothing(link):
    assert from_link(link) is None


def test_doi_normalization():
    assert (
        normalize_doi("https://doi.org/10.1109/SC41404.2022.00051") == "10.1109/sc41404.2022.00051"
    )
    assert normalize_doi("doi:10.18653/v1/2024.acl-long.678") == "10.18653/v1/2024.acl-long.678"
    assert normalize_doi("10.1145") is None


def test_arxiv_normalization_knows_the_id_schemes():
    assert normalize_arxiv("2309.06180v2") == ("2309.06180", "v2")
    assert normalize_arxiv("arXiv:1412.6980") == ("1412.6980", None)
    assert normalize_arxiv("2309.6180") is None  # five digits since 1501
    assert normalize_arxiv("1412.69801") is None  # four digits until 1412
    assert normalize_arxiv("2313.00001") is None  # no month 13
    assert normalize_arxiv("hep-th/9901001") == ("hep-th/9901001", None)


_LINK_PARTS = st.tuples(
    st.sampled_from(["http://", "https://", "HTTPS://"]),
    st.sampled_from(["", "www.", "export.", "www.export."]),
    st.sampled_from(["arxiv.org", "ArXiv.org", "arxiv.org:443"]),
    st.sampled_from(["/abs/", "/pdf/", "/html/", "/list/"]),
    st.one_of(
        st.from_regex(r"[0-9]{4}\.[0-9]{4,5}(v[0-9]{1,2})?", fullmatch=True),
        st.from_regex(r"[a-z-]{4,9}(\.[A-Z]{2})?/[0-9]{7}(v[0-9])?", fullmatch=True),
        st.text(st.sampled_from("0123456789./-_%aZv"), max_size=14),
    ),
    st.sampled_from(["", ".pdf", "/", ".pdf/", "?x=1", "#v2", "%20"]),
)


@settings(max_examples=400, deadline=None)
@given(_LINK_PARTS)
def test_the_arxiv_fast_path_answers_as_the_general_one(parts):
    """`from_link` reads common arXiv links with one regular expression; whatever the link,
    it must answer as the general reading (`urlsplit`) does."""
    link = "".join(parts)
    assert from_link(link) == _from_parts(link)
