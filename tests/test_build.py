"""`bib build` end to end: the committed project, determinism, atomicity, pruning."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import bibtexparser
import pytest
from click.testing import CliRunner

from bib import lock
from bib.cli import main
from bib.commands.build import build
from bib.errors import CatalogError
from bib.lock import LockedEntry
from bib.project import Project
from bib.record import Person, Record
from tests.conftest import ROOT


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "sources.yaml", tmp_path / "sources.yaml")
    if (ROOT / "sources.lock.json").exists():
        shutil.copy(ROOT / "sources.lock.json", tmp_path / "sources.lock.json")
    return tmp_path


def run_build(project: Path, out: str = "output"):
    return build(
        Project.load(project / "sources.yaml", project / "sources.lock.json"), project / out
    )


def digest(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_one_entry_per_paper_unique_keys_no_failed_blocks(project):
    run_build(project)
    library = bibtexparser.parse_file(str(project / "output" / "llm-serving.bib"))
    assert library.failed_blocks == []
    keys = [e.key for e in library.entries]
    assert len(keys) == 47
    assert len(set(keys)) == 47
    per_category = sorted(
        p for p in (project / "output" / "by-category").glob("*.bib")
        if not p.name.endswith(".biblatex.bib")
    )  # fmt: skip
    assert len(per_category) == 10
    split_keys = [
        e.key for path in per_category for e in bibtexparser.parse_file(str(path)).entries
    ]
    assert sorted(split_keys) == sorted(keys)


def test_committed_output_is_what_build_writes(project):
    """The committed output/ is up to date with the committed catalog and lock."""
    run_build(project)
    assert digest(project / "output") == digest(ROOT / "output")


def test_same_input_same_bytes_and_second_run_writes_nothing(project):
    first = run_build(project, "a")
    run_build(project, "b")
    assert digest(project / "a") == digest(project / "b")
    assert first.written
    again = run_build(project, "a")
    assert again.written == [] and len(again.unchanged) == len(first.written)


def test_bad_catalog_leaves_output_exactly_as_it_was(project):
    run_build(project)
    before = digest(project / "output")
    text = (project / "sources.yaml").read_text()
    (project / "sources.yaml").write_text(text.replace("id: spotserve", "id: orca"))
    with pytest.raises(CatalogError, match="duplicate id"):
        run_build(project)
    assert digest(project / "output") == before
    result = CliRunner().invoke(
        main,
        [
            "build",
            "--catalog",
            str(project / "sources.yaml"),
            "--output-dir",
            str(project / "output"),
        ],
    )
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "sources.yaml:" in result.output
    assert digest(project / "output") == before


def test_locked_record_replaces_fallback_and_keeps_its_key(project):
    record = Record(
        id="orca", key="yu2022orca", type="paper-conference",
        title="Orca: A Distributed Serving System for Transformer-Based Generative Models",
        authors=(Person("Yu", "Gyeong-In"),), issued=(2022,),
        container_title="16th USENIX Symposium on Operating Systems Design and Implementation (OSDI 22)",
        source="dblp",
    )  # fmt: skip
    locked = lock.read(project / "sources.lock.json")
    locked.pop("orca", None)
    identifiers = ("url:https://www.usenix.org/conference/osdi22/presentation/yu",)
    lock.write(project / "sources.lock.json", {**locked, "orca": LockedEntry(record, identifiers)})
    report = run_build(project)
    assert "orca" not in report.unresolved
    text = (project / "output" / "llm-serving.bib").read_text()
    assert "@inproceedings{yu2022orca," in text
    assert "(OSDI 22)" in text


def test_removed_category_file_is_pruned(project):
    run_build(project)
    stale = project / "output" / "by-category" / "gone.bib"
    stale.write_text("@misc{x, title={y}}\n")
    report = run_build(project)
    assert not stale.exists()
    assert report.removed == [stale]


def test_cli_summary_quiet_and_verbose(project):
    args = [
        "build",
        "--catalog",
        str(project / "sources.yaml"),
        "--lock",
        str(project / "sources.lock.json"),
        "--output-dir",
        str(project / "output"),
    ]
    runner = CliRunner()
    normal = runner.invoke(main, args)
    assert normal.exit_code == 0
    assert "47 entries" in normal.output
    quiet = runner.invoke(main, ["--quiet", *args])
    assert quiet.exit_code == 0 and quiet.output == ""
    verbose = runner.invoke(main, ["--verbose", *args])
    assert "unchanged" in verbose.output


def test_a_rebuild_with_nothing_changed_renders_and_writes_nothing(project):
    from bib.commands.build import build_files

    args = (project / "sources.yaml", project / "sources.lock.json", project / "output")
    first = build_files(*args)
    assert first.written and first.entries == 47
    second = build_files(*args)
    assert second.written == [] and len(second.unchanged) == len(first.written)
    assert (second.entries, second.warnings) == (first.entries, first.warnings)
    # Anything that differs from what the last build left means a real build again.
    (project / "output" / "llm-serving.bib").write_text("edited by hand\n")
    third = build_files(*args)
    assert [p.name for p in third.written] == ["llm-serving.bib"]
    text = (project / "sources.yaml").read_text().replace("Scheduling", "Scheduling Papers", 1)
    (project / "sources.yaml").write_text(text)
    assert build_files(*args).written


def test_unresolved_entries_keep_what_their_link_says_and_their_key(project):
    """No upstream asked yet: the .bib still cites the arXiv id the link names; the key the
    offline run froze stays when the entry resolves later."""
    from bib.commands.resolve import run as resolve_run

    text = (
        (project / "sources.yaml")
        .read_text()
        .replace(
            "  - id: orca\n",
            "  - id: new-paper\n    title: 'A New Paper: On Serving'\n"
            "    link: https://arxiv.org/abs/2501.00001v2\n  - id: orca\n",
        )
    )
    (project / "sources.yaml").write_text(text)
    report = resolve_run(Project.load(project / "sources.yaml", project / "sources.lock.json"),
                         offline=True)  # fmt: skip
    assert report.outcomes["new-paper"].status == "unresolved"
    held = lock.read(project / "sources.lock.json")["new-paper"]
    assert (held.key, held.record.source, held.record.arxiv_id) == ("new", "catalog", "2501.00001")
    run_build(project)
    bib = (project / "output" / "llm-serving.bib").read_text()
    entry = bib[bib.index("@misc{new,") :].split("\n}\n")[0]
    assert "eprint        = {2501.00001}" in entry and "archiveprefix = {arXiv}" in entry


def test_a_locked_record_is_used_only_for_the_paper_it_was_resolved_for(project):
    """The entry now names another paper (title and link): build warns, check fails, and the
    output shows the list's new paper, not the old record."""
    text = (
        (project / "sources.yaml")
        .read_text()
        .replace(
            "title: 'Orca: A Distributed Serving System for Transformer-Based Generative Models'",
            "title: 'Something Else Entirely'",
        )
    )
    (project / "sources.yaml").write_text(text)
    report = run_build(project)
    assert any("entry 'orca': the lock holds 'Orca" in w for w in report.warnings)
    bib = (project / "output" / "llm-serving.bib").read_text()
    assert "Something Else Entirely" in bib and "Distributed Serving System" not in bib
    assert "yu2022orca" in bib  # the key stays: documents cite it
    result = CliRunner().invoke(main, ["check", "--catalog", str(project / "sources.yaml"),
                                       "--lock", str(project / "sources.lock.json"),
                                       "--output-dir", str(project / "output")])  # fmt: skip
    assert result.exit_code == 1
    assert "stale: orca: the lock holds 'Orca" in result.output


def test_every_format_per_category_and_categories_as_keywords(project):
    run_build(project)
    catalog = Project.load(project / "sources.yaml", project / "sources.lock.json").catalog
    out = project / "output" / "by-category"
    for category in catalog.categories:
        for suffix in (".bib", ".biblatex.bib", ".json", ".md"):
            assert (out / (category.slug + suffix)).is_file(), category.slug + suffix
        items = json.loads((out / (category.slug + ".json")).read_text())
        assert [i["id"] for i in items] == [
            Project.load(project / "sources.yaml", project / "sources.lock.json").locked[e.id].key
            for e in category.entries
        ]
        assert {i["keyword"] for i in items} == {category.name}
    for name in ("llm-serving.bib", "llm-serving.biblatex.bib"):
        library = bibtexparser.parse_file(str(project / "output" / name))
        by_key = {e.key: e for e in library.entries}
        for category in catalog.categories:
            for entry in category.entries:
                key = lock.read(project / "sources.lock.json")[entry.id].key
                assert by_key[key]["keywords"] == category.name
