"""The awesome-list importer: the seed list, then each shape real lists use, on small snippets."""

from __future__ import annotations

import textwrap

import pytest
import yaml
from click.testing import CliRunner

from bib import catalog
from bib.cli import main
from bib.errors import CatalogError
from bib.markdown_import import parse, parse_document, to_yaml
from tests.conftest import ROOT

SEED_NON_PAPERS = {"vllm", "mooncake", "attacc", "qserve", "deepspeed-mii"}


def doc(text: str, **options):
    return parse_document(textwrap.dedent(text), "list.md", **options)


def papers(result) -> list[dict]:
    return [p for c in result.catalog["categories"] for p in c["papers"]]


def only(text: str, **options) -> dict:
    (paper,) = papers(doc(text, **options))
    return paper


# --- the seed list ------------------------------------------------------------------------


def test_seed_list_gives_47_entries_in_10_categories(seed):
    data = parse(seed.read_text(encoding="utf-8"), str(seed), keep_non_papers=True)
    names = [c["name"] for c in data["categories"]]
    assert names == [
        "Scheduling", "Memory/KVCache", "Disaggregated", "Resource-Constrained",
        "Heterogeneous", "Sparsity", "Speculative", "Multiple LLM", "Agent", "Misc",
    ]  # fmt: skip
    assert [c.get("group") for c in data["categories"]] == ["LLM Serving"] * 9 + [None]
    entries = [p for c in data["categories"] for p in c["papers"]]
    assert len(entries) == 47
    assert len({p["id"] for p in entries}) == 47
    assert entries[0] == {
        "id": "orca",
        "title": "Orca: A Distributed Serving System for Transformer-Based Generative Models",
        "link": "https://www.usenix.org/conference/osdi22/presentation/yu",
        "label": "OSDI 22",
    }
    # "Other list" links to other lists, not papers.
    assert not any("github.com/AmberLJC" in p.get("link", "") for p in entries)


def test_seed_import_matches_committed_catalog(seed):
    """sources.yaml is the importer's output plus curation: the list's own fields never drift.

    The seed links five entries to GitHub or a project site (vLLM, Mooncake, AttAcc,
    QServe, DeepSpeed-MII); its maintainer keeps them, so the catalog is imported with
    --keep-non-papers (by default such bullets are tools: see the next test).
    """
    imported = parse(seed.read_text(encoding="utf-8"), keep_non_papers=True)
    committed = catalog.load(ROOT / "sources.yaml")
    listed = [
        (p["id"], p["title"], p.get("link"), p.get("label"), c["name"])
        for c in imported["categories"]
        for p in c["papers"]
    ]
    assert listed == [(e.id, e.title, e.link, e.label, e.category) for e in committed.entries]


def test_seed_by_default_skips_the_bullets_that_link_no_paper(seed):
    result = parse_document(seed.read_text(encoding="utf-8"), str(seed))
    ids = {p["id"] for p in papers(result)}
    assert len(ids) == 42 and not ids & SEED_NON_PAPERS
    assert "ianus" in ids  # no link at all, but its text is a paper title
    assert result.report.skipped == {"non-paper": 5, "excluded": 6}


# --- link-first bullets (the seed's shape) ------------------------------------------------


@pytest.mark.parametrize(
    ("bullet", "title", "label"),
    [
        ("[ExeGPT:](https://arxiv.org/abs/2404.07947) Constraint-Aware X| ASPLOS' 24",
         "ExeGPT: Constraint-Aware X", "ASPLOS' 24"),
        ("[DeepSpeed Inference](https://arxiv.org/abs/2207.00032) : Enabling Things.  ",
         "DeepSpeed Inference: Enabling Things", None),
        ("[Tool](https://arxiv.org/abs/2401.00001): Model Implementations (MII) ｜ Microsoft",
         "Tool: Model Implementations (MII)", "Microsoft"),
        ("[SPPO](https://arxiv.org/abs/2401.00001):Efficient Long Training", "SPPO: Efficient Long Training", None),
        ("[Ring Attention](https://arxiv.org/abs/2310.01889) with Blockwise Transformers for Near-Infinite Context | UCB",
         "Ring Attention with Blockwise Transformers for Near-Infinite Context", "UCB"),
        ("[A Whole Title: In The Link](https://arxiv.org/abs/2401.00001) - a tool that does things",
         "A Whole Title: In The Link", None),
        ("[AReaL](https://arxiv.org/abs/2505.24298): Asynchronous RL | [Code](https://github.com/a/b) | Ant",
         "AReaL: Asynchronous RL", "Ant"),
    ],
)  # fmt: skip
def test_link_first_bullets(bullet, title, label):
    paper = only(f"# L\n## C\n- {bullet}\n")
    assert paper["title"] == title
    assert paper.get("label") == label


def test_bullet_without_link_is_kept_when_its_text_is_a_paper_title():
    result = doc("""\
        # L
        ## C
        - IANUS: Integrated Accelerator Based on NPU-PIM Unified Memory System | ASPLOS'24
        - remember to update this list every week
        """)
    assert papers(result) == [{
        "id": "ianus",
        "title": "IANUS: Integrated Accelerator Based on NPU-PIM Unified Memory System",
        "label": "ASPLOS'24",
    }]  # fmt: skip
    assert result.report.skipped["no-link"] == 1


# --- title-first, bold, emoji, badges, HTML -----------------------------------------------


def test_title_first_with_br_venue_and_link_labels():
    paper = only("""\
        # L
        ## Quantization
        - SlimQuant: Tiny Weights for Big Models <br> ICLR 2024 [[Paper]](https://arxiv.org/abs/2402.01234) [[Code]](https://github.com/slim/quant)
        """)  # fmt: skip
    assert paper == {
        "id": "slimquant",
        "title": "SlimQuant: Tiny Weights for Big Models",
        "link": "https://arxiv.org/abs/2402.01234",
        "label": "ICLR 2024",
    }


def test_bold_linked_title_with_italic_authors_and_star_badge():
    paper = only("""\
        # L
        ## Eviction
        1. [**Drop Half the Cache.**](https://arxiv.org/abs/2403.00002) *Ada Lovelace, Alan Turing.* Arxiv 2024. [![GitHub Repo stars](https://img.shields.io/github/stars/x/y)](https://github.com/x/y)
        """)  # fmt: skip
    assert paper["title"] == "Drop Half the Cache"
    assert paper["link"] == "https://arxiv.org/abs/2403.00002"


def test_bold_title_then_authors_and_pdf_link():
    paper = only("""\
        # L
        ## C
        - **Paged Memory for Inference: A Study** *B. Author* NeurIPS 2023 [[pdf]](https://proceedings.neurips.cc/paper/2023/x.pdf)
        """)  # fmt: skip
    assert paper["title"] == "Paged Memory for Inference: A Study"
    assert paper["link"] == "https://proceedings.neurips.cc/paper/2023/x.pdf"


def test_emoji_venue_tag_nickname_and_affiliation_are_cut_from_the_title():
    paper = only("""\
        # L
        ## C
        - 🔥🔥 [ICLR 2024] [**FastPipe**] FastPipe: Pipelines Without Bubbles (@Example University) [[pdf]](https://arxiv.org/pdf/2401.00003.pdf)
        """)  # fmt: skip
    assert paper["title"] == "FastPipe: Pipelines Without Bubbles"
    assert paper["id"] == "fastpipe"
    assert paper["label"] == "ICLR 2024"


def test_badge_venue_and_html_title_cell_in_a_table():
    result = doc("""\
        # L
        ## Scheduling
        |Paper|Type|Code|
        | -- | -- | -- |
        | [![Publish](https://img.shields.io/badge/Conference-SIGMOD_2026-blue)]() <br> PrefixBatch: Batching by Prefix [[Link](https://dl.acm.org/doi/pdf/10.1145/3800000)] <br> *A. Author* | sched | |
        """)  # fmt: skip
    assert papers(result) == [{
        "id": "prefixbatch",
        "title": "PrefixBatch: Batching by Prefix",
        "link": "https://dl.acm.org/doi/pdf/10.1145/3800000",
        "label": "SIGMOD 2026",
    }]  # fmt: skip


def test_inline_html_links_images_and_breaks():
    paper = only("""\
        # L
        ## C
        - <img src="logo.png" alt="logo"> <a href="https://arxiv.org/abs/2404.00004"><b>Quiet Attention: Less Is More</b></a><br/>Findings of ACL 2024
        """)  # fmt: skip
    assert paper == {
        "id": "quiet-attention",
        "title": "Quiet Attention: Less Is More",
        "link": "https://arxiv.org/abs/2404.00004",
        "label": "Findings of ACL 2024",
    }


@pytest.mark.parametrize(
    ("bullet", "title", "label"),
    [
        ("[PaLM-Like: Scaling Things](https://arxiv.org/abs/2204.00001) – Big Lab / Other Lab (Apr 2022)",
         "PaLM-Like: Scaling Things", "Big Lab / Other Lab (Apr 2022)"),
        ("[The Herd of Models](https://arxiv.org/abs/2407.00002) (Section 3)", "The Herd of Models", None),
        ("Mixing Experts Well [Dec 2023] [Repo](https://github.com/a/b) [Paper](https://arxiv.org/abs/2401.00005)",
         "Mixing Experts Well", "Dec 2023"),
        ("Routing Tokens Sparsely [[NeurIPS 2022]](https://openreview.net/forum?id=abc)",
         "Routing Tokens Sparsely", "NeurIPS 2022"),
        ("Paper: [Periodic Positions for Long Context](https://arxiv.org/abs/2605.00006)",
         "Periodic Positions for Long Context", None),
        ("[Fast Things (NeurIPS'23)](https://arxiv.org/abs/2301.00007)", "Fast Things", "NeurIPS'23"),
    ],
)  # fmt: skip
def test_titles_lose_tails_tags_and_link_labels(bullet, title, label):
    paper = only(f"# L\n## C\n- {bullet}\n")
    assert (paper["title"], paper.get("label")) == (title, label)


# --- tables -------------------------------------------------------------------------------


def test_table_rows_are_entries_with_columns_found_by_header_name():
    result = doc("""\
        ## Vision
        | Title | Venue | Date | Code |
        |:---|:---:|:---:|:---:|
        | [**Seeing Tokens: A Study**](https://arxiv.org/pdf/2401.00008.pdf) | CVPR | 2024-01-02 | [Github](https://github.com/s/t) |
        | ![Star](https://img.shields.io/github/stars/u/v.svg) <br> [Hearing Tokens](https://arxiv.org/abs/2402.00009) | arXiv | 2024-02-03 | - |
        | | | | |
        | [Announcing Our Model](https://example.com/blog/model) | Blog | 2024-03-01 | - |
        """)  # fmt: skip
    assert papers(result) == [
        {"id": "seeing-tokens", "title": "Seeing Tokens: A Study",
         "link": "https://arxiv.org/pdf/2401.00008.pdf", "label": "CVPR"},
        {"id": "hearing-tokens", "title": "Hearing Tokens",
         "link": "https://arxiv.org/abs/2402.00009", "label": "arXiv"},
    ]  # fmt: skip
    assert result.report.skipped == {"empty": 1, "non-paper": 1}


def test_table_with_date_title_paper_code_columns_and_nickname_tags():
    paper = only("""\
        # L
        ## Batching
        |Date|Title|Paper|Code|
        |:---:|:---:|:---:|:---:|
        |2023.12|🔥[**SpotLight**] SpotLight: Serving on Cheap Machines(@cmu.edu etc)|[[pdf]](https://arxiv.org/pdf/2311.00010.pdf)|[[SpotLight]](https://github.com/h/s)|
        """)  # fmt: skip
    assert paper == {
        "id": "spotlight",
        "title": "SpotLight: Serving on Cheap Machines",
        "link": "https://arxiv.org/pdf/2311.00010.pdf",
        "label": "cmu.edu etc",
    }


def test_table_without_a_title_column_is_reported():
    result = doc("# L\n## C\n- [A Real Paper Title](https://arxiv.org/abs/2401.00011)\n\n"
                 "| Size | Params |\n|---|---|\n| 7B | 7 |\n")  # fmt: skip
    assert result.report.skipped["table-without-title"] == 1


# --- structure: numbered, nested, pseudo-headings, sections ---------------------------------


def test_numbered_lists_are_entries():
    result = doc("""\
        # L
        ## C
        1. [First Paper Title](https://arxiv.org/abs/2401.00012)

        2. [Second Paper Title](https://arxiv.org/abs/2401.00013)
        """)
    assert [p["title"] for p in papers(result)] == ["First Paper Title", "Second Paper Title"]


def test_nested_bullets_make_sub_categories_not_entries():
    result = doc("""\
        # L
        ## Frameworks
        - **Post-Training**
          - [RLKit: Reinforcement Learning for LLMs](https://arxiv.org/abs/2401.00014)
          - [Tuner: Fine-Tuning at Scale](https://arxiv.org/abs/2401.00015)
        - Serving engines
          - [Engine: A Serving System](https://arxiv.org/abs/2401.00016)
        """)
    cats = result.catalog["categories"]
    assert [(c["name"], c.get("group"), len(c["papers"])) for c in cats] == [
        ("Post-Training", "Frameworks", 2),
        ("Serving engines", "Frameworks", 1),
    ]


def test_title_whose_links_are_its_sub_bullets_is_one_entry():
    paper = only("""\
        # L
        ## C
        - Sparse Attention Done Right
          - [Paper](https://arxiv.org/abs/2401.00017)
          - [Code](https://github.com/a/b)
        """)
    assert paper == {
        "id": "sparse-attention-done-right",
        "title": "Sparse Attention Done Right",
        "link": "https://arxiv.org/abs/2401.00017",
    }


def test_bold_paragraph_is_a_sub_category_but_a_year_or_status_is_not():
    result = doc("""\
        # L
        ## Compression
        **Quantization**
        - [Q Paper Title](https://arxiv.org/abs/2401.00018)

        ## Models
        **2024**
        - [M Paper Title](https://arxiv.org/abs/2401.00019)

        **arXiv**
        - [N Paper Title](https://arxiv.org/abs/2401.00020)
        """)
    assert [
        (c["name"], c.get("group"), len(c["papers"])) for c in result.catalog["categories"]
    ] == [
        ("Quantization", "Compression", 1),
        ("Models", None, 2),
    ]


def test_same_sub_heading_in_two_groups_gets_group_qualified_slugs():
    result = doc("""\
        # L
        ## LLM
        ### Training
        - [One Paper Title](https://arxiv.org/abs/2401.00021)
        ## Vision
        ### Training
        - [Two Paper Title](https://arxiv.org/abs/2401.00022)
        """)
    assert [c["slug"] for c in result.catalog["categories"]] == ["llm-training", "vision-training"]
    loaded = catalog.parse(to_yaml(result.catalog))
    assert [c.label for c in loaded.categories] == ["LLM / Training", "Vision / Training"]


def test_no_top_level_title_uses_the_file_name():
    result = parse_document("## C\n- [A Paper Title](https://arxiv.org/abs/2401.00023)\n",
                            "lists/awesome-things.md")  # fmt: skip
    assert result.catalog["title"] == "awesome-things"
    html = parse_document('<h1 align="center">Awesome Things</h1>\n\n## C\n'
                          "- [A Paper Title](https://arxiv.org/abs/2401.00023)\n")  # fmt: skip
    assert html.catalog["title"] == "Awesome Things"


def test_toc_anchors_housekeeping_sections_code_blocks_and_empty_bullets_are_skipped():
    result = doc("""\
        # L
        - [Quantization](#quantization)
          - [Weights](#weights)
        ## 📖 Contents
        - [Serving](#serving)
        ## Serving
        -
        - [A Paper Title](https://arxiv.org/abs/2401.00024)
        ```markdown
        - [Not An Entry](https://arxiv.org/abs/2401.00025)
        ```
        ## Contributing
        - [Open a pull request](https://github.com/a/b/pulls)
        ## Citation
        ## Star History
        ## License
        - MIT
        """)
    assert [c["name"] for c in result.catalog["categories"]] == ["Serving"]
    assert [p["title"] for p in papers(result)] == ["A Paper Title"]
    assert result.report.skipped == {"toc": 3, "empty": 1, "code-block": 1, "excluded": 2}


def test_non_papers_are_skipped_and_counted_unless_kept():
    text = """\
        # L
        ## C
        - [vroom](https://github.com/v/vroom): a fast inference engine for LLMs
        - [Our Blog Post on Serving](https://example.com/blog/serving)
        - [Model Card](https://huggingface.co/org/model)
        - [A Paper Title](https://arxiv.org/abs/2401.00026) [[Code]](https://github.com/p/q)
        """
    result = doc(text)
    assert [p["link"] for p in papers(result)] == ["https://arxiv.org/abs/2401.00026"]
    assert result.report.skipped == {"non-paper": 3}
    kept = doc(text, keep_non_papers=True)
    assert len(papers(kept)) == 4 and kept.report.skipped == {}


def test_the_paper_link_wins_over_code_and_project_links():
    paper = only("""\
        # L
        ## C
        - Fast Decoding Tricks [[Project]](https://fast.github.io/) [[Code]](https://github.com/f/d) [[OpenReview]](https://openreview.net/forum?id=xyz) [[arXiv]](https://arxiv.org/abs/2401.00027)
        """)  # fmt: skip
    assert paper["link"] == "https://arxiv.org/abs/2401.00027"


def test_exclude_skips_a_section_and_its_sub_sections():
    result = doc("""\
        # L
        ## Papers
        - [A Paper Title](https://arxiv.org/abs/2401.00028)
        ## Datasets
        ### Images
        - [B Paper Title](https://arxiv.org/abs/2401.00029)
        """, exclude=["datasets"])  # fmt: skip
    assert [p["title"] for p in papers(result)] == ["A Paper Title"]
    assert result.report.skipped == {"excluded": 1}


def test_repeated_paper_is_listed_once():
    result = doc("""\
        # L
        ## A
        - [Shared Paper Title](https://arxiv.org/abs/2401.00030)
        ## B
        - [Shared Paper Title](https://arxiv.org/abs/2401.00030)
        """)
    assert len(papers(result)) == 1 and result.report.skipped == {"duplicate": 1}


def test_ids_are_unique_slugs_capped_in_length():
    result = doc("""\
        # L
        ## C
        - [X](https://arxiv.org/abs/2401.00031): One Paper With A Long Enough Title
        - [X](https://arxiv.org/abs/2401.00032): Two Paper With A Long Enough Title
        - [An Extremely Long Title That Goes On And On Without Any Colon At All Across Many More Words Than Anyone Types](https://arxiv.org/abs/2401.00033)
        """)  # fmt: skip
    ids = [p["id"] for p in papers(result)]
    assert ids[:2] == ["x", "x-2"]
    assert len(ids[2]) <= 80 and not ids[2].endswith("-")


def test_a_list_with_no_entries_is_one_line_error():
    with pytest.raises(CatalogError) as caught:
        parse_document("# L\n## Contents\n- [A](#a)\n", "empty.md")
    assert str(caught.value) == "empty.md: no paper entries found (skipped 1 (1 toc))"


# --- the command --------------------------------------------------------------------------


def test_cli_writes_catalog_that_loads_and_refuses_to_overwrite(seed, tmp_path):
    out = tmp_path / "sources.yaml"
    runner = CliRunner()
    result = runner.invoke(main, ["import-markdown", str(seed), "-o", str(out)])
    assert result.exit_code == 0, result.output
    loaded = catalog.load(out)
    assert len(loaded.entries) == 42
    assert yaml.safe_load(out.read_text())["title"] == "Awesome LLM Serving Papers"
    assert "import: 42 entries in 10 categories; skipped 11 (6 excluded, 5 non-paper)" in (
        result.stderr
    )
    again = runner.invoke(main, ["import-markdown", str(seed), "-o", str(out)])
    assert again.exit_code == 2
    assert "--force" in again.stderr


def test_cli_reads_standard_input_and_keeps_stdout_for_the_catalog():
    text = "# From Stdin\n## C\n- [A Paper Title](https://arxiv.org/abs/2401.00034)\n"
    result = CliRunner().invoke(main, ["import-markdown", "-"], input=text)
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["title"] == "From Stdin"
    assert result.stderr == "import: 1 entries in 1 categories; skipped 0\n"


def test_cli_exclude_and_keep_non_papers_options(tmp_path):
    source = tmp_path / "list.md"
    source.write_text("# L\n## A\n- [Tool](https://github.com/t/t)\n## B\n"
                      "- [A Paper Title](https://arxiv.org/abs/2401.00035)\n")  # fmt: skip
    args = ["import-markdown", str(source), "--keep-non-papers", "--exclude", "B"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert [
        p["title"] for c in yaml.safe_load(result.stdout)["categories"] for p in c["papers"]
    ] == ["Tool"]


def test_cli_errors_are_one_line_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_bytes(b"# L\n## C\n- [caf\xe9](https://arxiv.org/abs/2401.00036)\n")
    result = CliRunner().invoke(main, ["import-markdown", str(bad)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {bad}:3: Markdown list is not valid UTF-8\n"
    missing = CliRunner().invoke(main, ["import-markdown", str(tmp_path / "nope.md")])
    assert missing.exit_code == 2
    assert missing.stderr.count("\n") == 1 and "nope.md" in missing.stderr
