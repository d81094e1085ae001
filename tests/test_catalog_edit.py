"""Editing sources.yaml in place: what is not edited keeps its bytes, curation survives a merge."""

from __future__ import annotations

import difflib
import shutil

import pytest
from click.testing import CliRunner

from bib import catalog
from bib.catalog_edit import append_entry, merge, remove_entry
from bib.cli import main
from bib.errors import CatalogError
from bib.markdown_import import parse
from tests.conftest import ROOT

SOURCES = (ROOT / "sources.yaml").read_text(encoding="utf-8")


def changes(before: str, after: str) -> list[tuple[str, list[str], list[str]]]:
    """The non-equal blocks between two texts, as (operation, old lines, new lines)."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [
        (op, a[i1:i2], b[j1:j2]) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"
    ]


def block(text: str, entry_id: str) -> list[str]:
    """The lines of one entry as the file has them: from its `- id:` to the next entry."""
    lines = text.splitlines(keepends=True)
    start = lines.index(f"  - id: {entry_id}\n")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(("  - ", "- ")))
    return lines[start:end]


@pytest.fixture
def sources(tmp_path):
    path = tmp_path / "sources.yaml"
    shutil.copy(ROOT / "sources.yaml", path)
    return path


def test_removing_one_entry_leaves_every_other_byte(sources):
    text = sources.read_text(encoding="utf-8")
    after = remove_entry(text, "tabi", path=str(sources))
    assert changes(text, after) == [("delete", block(text, "tabi"), [])]
    assert "tabi" not in {e.id for e in catalog.parse(after).entries}


def test_removing_an_entry_with_pins_and_a_wrapped_note(sources):
    text = sources.read_text(encoding="utf-8")
    after = remove_entry(text, "mooncake")
    assert changes(text, after) == [("delete", block(text, "mooncake"), [])]


def test_removing_the_last_entry_of_a_category_removes_the_category():
    text = SOURCES
    after = remove_entry(text, "autogen")
    assert "name: Agent" not in after
    lines = text.splitlines(keepends=True)
    agent = lines[lines.index("- name: Agent\n") : lines.index("- name: Misc\n")]
    assert changes(text, after) == [("delete", agent, [])]
    with pytest.raises(CatalogError, match="no entry with id 'nope'"):
        remove_entry(text, "nope")


def test_appending_to_a_category_only_inserts_its_lines():
    entry = {
        "id": "newserve",
        "title": "NewServe: Serving Things",
        "link": "https://arxiv.org/abs/2501.00001",
    }
    after = append_entry(SOURCES, entry, "Scheduling", group="LLM Serving")
    assert changes(SOURCES, after) == [("insert", [], [
        "  - id: newserve\n",
        "    title: 'NewServe: Serving Things'\n",
        "    link: https://arxiv.org/abs/2501.00001\n",
    ])]  # fmt: skip
    loaded = catalog.parse(after)
    assert [e.id for e in loaded.entries if e.category == "Scheduling"][-1] == "newserve"


def test_appending_to_a_new_category_creates_it_at_the_end():
    entry = {"id": "newserve", "title": "NewServe", "link": "https://arxiv.org/abs/2501.00001"}
    after = append_entry(SOURCES, entry, "Training", slug="training")
    ((op, _, new),) = changes(SOURCES, after)
    assert op == "insert" and new[0] == "- name: Training\n" and after.endswith(new[-1])
    assert catalog.parse(after).categories[-1].entries[0].id == "newserve"
    with pytest.raises(CatalogError, match="already in the catalog"):
        append_entry(SOURCES, {"id": "orca", "title": "Orca"}, "Training")


def test_merging_the_same_list_changes_nothing(seed):
    imported = parse(seed.read_text(encoding="utf-8"), keep_non_papers=True)
    after, report = merge(SOURCES, imported)
    assert after == SOURCES
    assert (report.added, report.removed, report.changed, report.moved) == ([], [], [], [])
    assert report.unchanged == 47


def test_merging_an_updated_list_keeps_curation_and_untouched_bytes(seed):
    text = seed.read_text(encoding="utf-8")
    updated = (
        text.replace("| OSDI 22", "| OSDI' 22")  # a label changes
        .replace("https://vllm.ai/", "https://arxiv.org/abs/2309.06180")  # a link changes
        .replace("- [Tabi](https://dl.acm.org/doi/pdf/10.1145/3552326.3587438): An Efficient "
                 "Multi-Level Inference System for Large Language Models | EuroSys' 23 \n", "")
        .replace("- [SpotServe]", "- [Orca](https://arxiv.org/abs/2501.00002): A Newer Thing\n- [SpotServe]")
        .replace("## Misc", "## Miscellaneous")  # a category is renamed
    )  # fmt: skip
    after, report = merge(SOURCES, parse(updated, keep_non_papers=True))
    assert report.added == ["orca-2"]  # a fresh id: `orca` is taken
    assert report.removed == ["tabi"]
    assert dict(report.changed) == {"orca": ("label",), "vllm": ("link",)}
    assert [i for i, _ in report.moved] == [
        "efficiently-scaling-transformer-inference", "deepspeed-inference", "sarathi",
        "flashdecoding", "deepspeed-mii", "s-lora", "infinite-llm", "apiserve", "flexllm",
        "attentionstore", "loongserve", "andes",
    ]  # fmt: skip
    old, new = catalog.parse(SOURCES), catalog.parse(after)
    by_id = {e.id: e for e in new.entries}
    for entry in old.entries:  # every pin, alias, note and type survives
        if entry.id != "tabi":
            kept = by_id[entry.id]
            assert (kept.pins, kept.aliases, kept.note, kept.type) == (
                entry.pins,
                entry.aliases,
                entry.note,
                entry.type,
            )
    assert by_id["vllm"].link == "https://arxiv.org/abs/2309.06180"
    assert by_id["deepspeed-mii"].category == "Miscellaneous"
    # Entries that did not change keep their lines byte for byte, moved ones included.
    for entry_id in ("spotserve", "mooncake", "helix", "deepspeed-mii"):
        assert "".join(block(SOURCES, entry_id)) in after
    assert ("replace", ["    label: OSDI 22\n"], ["    label: OSDI' 22\n"]) in changes(
        SOURCES, after
    )


@pytest.mark.parametrize(
    ("bullet", "changed"),
    [
        # Same link, new title: matched by the link.
        ("- [Orca](https://www.usenix.org/conference/osdi22/presentation/yu): Renamed | OSDI 22", ("title",)),
        # Same title, new link: matched by the title.
        ("- [Orca](https://arxiv.org/abs/2501.00003): A Distributed Serving System for "
         "Transformer-Based Generative Models | OSDI 22", ("link",)),
        # New title and link, same id: matched by the id.
        ("- [Orca](https://arxiv.org/abs/2501.00003): Renamed | OSDI 22", ("title", "link")),
    ],
)  # fmt: skip
def test_entries_are_matched_by_link_then_title_then_id(bullet, changed):
    old = "title: L\ncategories:\n- name: C\n  papers:\n" + "".join(block(SOURCES, "orca"))
    _, report = merge(old, parse(f"# L\n## C\n{bullet}\n"))
    assert report.changed == [("orca", changed)] and not report.added and not report.removed


def test_comments_survive_a_merge(seed):
    commented = SOURCES.replace("  - id: vllm\n", "  # kept by hand, see issue 7\n  - id: vllm\n")
    commented = "# The catalog of the list.\n" + commented
    imported = parse(seed.read_text(encoding="utf-8").replace("| SOSP' 23", "| SOSP 23"),
                     keep_non_papers=True)  # fmt: skip
    after, report = merge(commented, imported)
    assert report.changed == [("vllm", ("label",))]
    assert changes(commented, after) == [
        ("replace", ["    label: SOSP' 23\n"], ["    label: SOSP 23\n"])
    ]


def test_cli_merge_reports_and_writes(seed, sources):
    text = seed.read_text(encoding="utf-8").replace("| OSDI 22", "| OSDI' 22")
    runner = CliRunner()
    result = runner.invoke(main, ["-v", "import-markdown", "-", "--keep-non-papers", "--merge",
                                  "-o", str(sources)], input=text)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "changed orca: label" in result.stderr
    assert f"merged into {sources}: 0 added, 0 removed, 1 changed, 0 moved, 46 unchanged" in (
        result.stdout
    )
    assert catalog.load(sources).entries[0].label == "OSDI' 22"
    missing = runner.invoke(main, ["import-markdown", "-", "--merge", "-o", str(sources) + ".x"],
                            input=text)  # fmt: skip
    assert missing.exit_code == 2 and "import without --merge first" in missing.stderr
