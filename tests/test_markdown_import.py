"""The awesome-list importer, on the real seed list and on each quirk alone."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from bib import catalog
from bib.cli import main
from bib.markdown_import import parse, parse_bullet
from tests.conftest import ROOT


def test_seed_list_gives_47_entries_in_10_categories(seed):
    data = parse(seed.read_text(encoding="utf-8"), str(seed))
    names = [c["name"] for c in data["categories"]]
    assert names == [
        "Scheduling", "Memory/KVCache", "Disaggregated", "Resource-Constrained",
        "Heterogeneous", "Sparsity", "Speculative", "Multiple LLM", "Agent", "Misc",
    ]  # fmt: skip
    assert [c.get("group") for c in data["categories"]] == ["LLM Serving"] * 9 + [None]
    papers = [p for c in data["categories"] for p in c["papers"]]
    assert len(papers) == 47
    assert len({p["id"] for p in papers}) == 47
    assert papers[0] == {
        "id": "orca",
        "title": "Orca: A Distributed Serving System for Transformer-Based Generative Models",
        "link": "https://www.usenix.org/conference/osdi22/presentation/yu",
        "label": "OSDI 22",
    }
    # "Other list" links to other lists, not papers.
    assert not any("github.com/AmberLJC" in p.get("link", "") for p in papers)


def test_seed_import_matches_committed_catalog(seed):
    """sources.yaml is the importer's output plus curation: the list's own fields never drift."""
    imported = parse(seed.read_text(encoding="utf-8"))
    committed = catalog.load(ROOT / "sources.yaml")
    listed = [
        (p["id"], p["title"], p.get("link"), p.get("label"), c["name"])
        for c in imported["categories"]
        for p in c["papers"]
    ]
    assert listed == [(e.id, e.title, e.link, e.label, e.category) for e in committed.entries]


def test_colon_inside_link_text():
    paper = parse_bullet(
        "[ExeGPT:](https://arxiv.org/html/2404.07947v1) Constraint-Aware X| ASPLOS' 24"
    )
    assert paper == {
        "id": "exegpt",
        "title": "ExeGPT: Constraint-Aware X",
        "link": "https://arxiv.org/html/2404.07947v1",
        "label": "ASPLOS' 24",
    }


def test_colon_after_link_with_space_and_trailing_spaces():
    paper = parse_bullet("[DeepSpeed Inference](https://a.b/c) : Enabling Things.  ")
    assert paper["title"] == "DeepSpeed Inference: Enabling Things"
    assert paper["id"] == "deepspeed-inference"
    assert "label" not in paper


def test_full_width_bar_before_label():
    paper = parse_bullet("[Tool](https://g.h/t): Model Implementations (MII) \uff5c Microsoft")
    assert paper["title"] == "Tool: Model Implementations (MII)"
    assert paper["label"] == "Microsoft"


def test_bullet_without_link():
    paper = parse_bullet("IANUS: Integrated Accelerator | ASPLOS'24")
    assert paper == {"id": "ianus", "title": "IANUS: Integrated Accelerator", "label": "ASPLOS'24"}


def test_whole_title_in_link_text_and_non_ascii_id():
    paper = parse_bullet("[DéjàVu: KV-cache Streaming](https://arxiv.org/abs/2403.01876)")
    assert paper["id"] == "dejavu"
    assert paper["title"] == "DéjàVu: KV-cache Streaming"


def test_synthetic_list_groups_ids_and_exclusions():
    text = "\n".join(
        [
            "# My List",
            "Intro line.",
            "## Group",
            "### A",
            "- [X](https://x.org): One | V1 ",
            "- [X](https://x.org/2): Two",
            "## Solo",
            "- [Y](https://y.org)",
            "## Related lists",
            "- [Z](https://github.com/z/z)",
        ]
    )
    data = parse(text)
    assert data["title"] == "My List"
    assert data["description"] == "Intro line."
    assert [(c["name"], c.get("group")) for c in data["categories"]] == [
        ("A", "Group"),
        ("Solo", None),
    ]
    assert [p["id"] for p in data["categories"][0]["papers"]] == ["x", "x-2"]


def test_cli_writes_catalog_that_loads_and_refuses_to_overwrite(seed, tmp_path):
    out = tmp_path / "sources.yaml"
    runner = CliRunner()
    result = runner.invoke(main, ["import-markdown", str(seed), "-o", str(out)])
    assert result.exit_code == 0, result.output
    loaded = catalog.load(out)
    assert len(loaded.entries) == 47
    assert yaml.safe_load(out.read_text())["title"] == "Awesome LLM Serving Papers"
    again = runner.invoke(main, ["import-markdown", str(seed), "-o", str(out)])
    assert again.exit_code == 2
    assert "--force" in again.output
