"""`bib check` passes on main and fails, with the right message, on each kind of drift."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bib.cli import main
from bib.commands.check import check
from bib.project import Project
from tests.conftest import ROOT


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("sources.yaml", "sources.lock.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "output", tmp_path / "output")
    return tmp_path


def problems(project: Path) -> list[str]:
    found = check(
        Project.load(project / "sources.yaml", project / "sources.lock.json"), project / "output"
    )
    return [str(p) for p in found]


def edit_lock(project: Path, change) -> None:
    path = project / "sources.lock.json"
    data = json.loads(path.read_text())
    change(data["entries"])
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def test_main_is_in_step(project):
    assert problems(project) == []
    result = CliRunner().invoke(main, ["check", "--catalog", str(project / "sources.yaml"),
                                       "--lock", str(project / "sources.lock.json"),
                                       "--output-dir", str(project / "output")])  # fmt: skip
    assert result.exit_code == 0 and "in step" in result.output


def test_unresolved_entry(project):
    edit_lock(project, lambda entries: entries.pop("orca"))
    assert "unresolved: orca: no upstream resolved it yet; run `bib resolve`" in problems(project)


def test_lock_stale_against_the_catalog(project):
    text = (project / "sources.yaml").read_text()
    text = text.replace(
        "link: https://arxiv.org/abs/2311.15566", "link: https://arxiv.org/abs/2311.15567"
    )
    (project / "sources.yaml").write_text(text)
    found = problems(project)
    assert any(
        p.startswith("stale: spotserve: the catalog now gives arxiv:2311.15567") for p in found
    )
    edit_lock(project, lambda entries: entries.update(ghost={**entries["orca"], "key": "ghost"}))
    assert "stale: ghost: in the lock but no longer in the catalog" in problems(project)


def test_link_mismatch_without_a_pin(project):
    def swap(entries):
        entries["spotserve"]["record"]["arxiv_id"] = "2401.09670"

    edit_lock(project, swap)
    found = problems(project)
    assert any(p.startswith("mismatch: spotserve: the link names arxiv:2311.15566 but the locked "
                            "record is arxiv:2401.09670") for p in found)  # fmt: skip


def test_link_mismatch_acknowledged_by_a_pin_passes(project):
    # vLLM's link is the project site and its pins say which paper it is: no problem.
    assert not [p for p in problems(project) if "vllm" in p]


def test_two_entries_share_a_doi_or_arxiv_id(project):
    def share(entries):
        entries["exegpt"]["record"]["doi"] = entries["spotserve"]["record"]["doi"]
        entries["llumnix"]["record"]["arxiv_id"] = entries["spotserve"]["record"]["arxiv_id"]

    edit_lock(project, share)
    found = problems(project)
    assert "duplicate: spotserve, exegpt: share DOI 10.1145/3620665.3640411" in found
    assert "duplicate: spotserve, llumnix: share arXiv id 2311.15566" in found


def test_colliding_citation_keys_even_by_case_are_one_line_and_exit_2(project):
    edit_lock(project, lambda entries: entries["exegpt"].update(key="Miao2024SpotServe"))
    result = CliRunner().invoke(main, ["check", "--catalog", str(project / "sources.yaml"),
                                       "--lock", str(project / "sources.lock.json")])  # fmt: skip
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert (
        "entry 'spotserve': citation key 'miao2024spotserve' is also the key of entry 'exegpt'"
        in lines[0]
    )


def test_outputs_that_differ_are_missing_or_left_over(project):
    (project / "output" / "llm-serving.bib").write_text("% edited by hand\n")
    (project / "output" / "llm-serving.json").unlink()
    (project / "output" / "by-category" / "gone.bib").write_text("")
    found = problems(project)
    out = project / "output"
    assert f"output: {out / 'llm-serving.bib'}: differs from what `bib build` writes" in found
    assert f"output: {out / 'llm-serving.json'}: missing; run `bib build`" in found
    assert f"output: {out / 'by-category' / 'gone.bib'}: no category writes this any more" in found
    result = CliRunner().invoke(main, ["check", "--catalog", str(project / "sources.yaml"),
                                       "--lock", str(project / "sources.lock.json"),
                                       "--output-dir", str(out)])  # fmt: skip
    assert result.exit_code == 1 and "3 problems" in result.output


def test_check_sends_no_request(project, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("bib check opened a socket")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert problems(project) == []
