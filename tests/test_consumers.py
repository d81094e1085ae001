"""The committed outputs, as LaTeX (BibTeX and biber) and Pandoc read them.

BibTeX and biber exit 0 on warnings, so these tests read what they print and
fail on any warning that is not explained below, entry by entry, by a field
the paper does not have. `.ci/run` installs the programs from Debian; on a
machine without them the tests skip, except in CI, where they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bib.match import normalize_title
from bib.project import Project
from tests.conftest import ROOT

OUTPUT = ROOT / "output"
RECORDS = Project.load(ROOT / "sources.yaml", ROOT / "sources.lock.json").bibliography.records
KEYS = [r.key for r in RECORDS]


def require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        message = f"{', '.join(missing)} not installed (.ci/run installs them)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def run(args: list[str], cwd: Path) -> str:
    done = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=300
    )
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def latex_warnings(log: str) -> list[str]:
    return [line for line in log.splitlines()
            if re.search(r"(LaTeX|Package \w+) Warning|undefined|Citation .* on page", line)]  # fmt: skip


def expected_bibtex_warnings(style: str) -> set[str]:
    """Warnings a style must give because a paper lacks a field it demands (entry by entry).

    - plainnat and ACM-Reference-Format print a year for every entry: DeepSpeed-MII is
      software whose first release year no source we checked confirms.
    - ACM-Reference-Format wants an author (DeepSpeed-MII has none, only an owner), and
      a publisher, an address and pages for every @inproceedings: USENIX, MLSys, NeurIPS
      and ICML papers come from DBLP without a publisher, Crossref gives no address in
      our records, and QServe's MLSys 2025 pages are not published.
    """
    expected = set()
    for r in RECORDS:
        if style in ("plainnat", "ACM-Reference-Format") and not r.year:
            expected.add(f"empty year in {r.key}")
        if style != "ACM-Reference-Format":
            continue
        if not r.authors:
            expected.add(f"empty author in {r.key}")
        if r.type == "paper-conference":
            if not r.publisher_place:
                expected.add(f"empty address in {r.key}")
            if not r.publisher:
                expected.add(f"empty publisher in {r.key}")
            if not r.pages:
                expected.add(f"page numbers missing in both pages and numpages fields in {r.key}")
    return expected


@pytest.mark.parametrize("style", ["plain", "plainnat", "IEEEtran", "ACM-Reference-Format"])
def test_bibtex_styles_compile_every_key_with_no_unexplained_warning(style, tmp_path):
    require("pdflatex", "bibtex")
    shutil.copy(OUTPUT / "llm-serving.bib", tmp_path)
    natbib = (
        "\\usepackage[numbers]{natbib}\n" if style in ("plainnat", "ACM-Reference-Format") else ""
    )
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{url}\n"
        + natbib
        + "\\begin{document}\n\\cite{"
        + ",".join(KEYS)
        + "}\n"
        + f"\\bibliographystyle{{{style}}}\n\\bibliography{{llm-serving}}\n\\end{{document}}\n"
    )
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc"]
    run(latex, tmp_path)
    bibtex_out = run(["bibtex", "doc"], tmp_path)
    run(latex, tmp_path)
    run(latex, tmp_path)
    warnings = {
        w.removeprefix("Warning--") for w in bibtex_out.splitlines() if w.startswith("Warning--")
    }
    assert warnings == expected_bibtex_warnings(style)
    assert latex_warnings((tmp_path / "doc.log").read_text(errors="replace")) == []
    bbl = (tmp_path / "doc.bbl").read_text(errors="replace")
    assert all(key in bbl for key in KEYS)


def test_biblatex_and_biber_compile_every_key_without_warnings(tmp_path):
    require("pdflatex", "biber")
    shutil.copy(OUTPUT / "llm-serving.biblatex.bib", tmp_path)
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n"
        "\\usepackage[backend=biber,style=numeric]{biblatex}\n"
        "\\addbibresource{llm-serving.biblatex.bib}\n"
        "\\begin{document}\n\\cite{" + ",".join(KEYS) + "}\n\\printbibliography\n\\end{document}\n"
    )
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc"]
    run(latex, tmp_path)
    biber_out = run(["biber", "doc"], tmp_path)
    run(latex, tmp_path)
    run(latex, tmp_path)
    assert [line for line in biber_out.splitlines() if re.search(r"WARN|ERROR", line)] == []
    assert latex_warnings((tmp_path / "doc.log").read_text(errors="replace")) == []
    bbl = (tmp_path / "doc.bbl").read_text(errors="replace")
    assert all(f"\\entry{{{key}}}" in bbl for key in KEYS)


def test_biblatex_file_validates_against_the_biber_data_model(tmp_path):
    require("biber")
    shutil.copy(OUTPUT / "llm-serving.biblatex.bib", tmp_path)
    out = run(["biber", "--tool", "--validate-datamodel", "--output-file", "checked.bib",
               "llm-serving.biblatex.bib"], tmp_path)  # fmt: skip
    assert [line for line in out.splitlines() if re.search(r"WARN|ERROR", line)] == []


def test_pandoc_citeproc_renders_every_csl_json_entry(tmp_path):
    require("pandoc")
    items = json.loads((OUTPUT / "llm-serving.json").read_text(encoding="utf-8"))
    assert [i["id"] for i in items] == KEYS
    (tmp_path / "cite.md").write_text("\n\n".join(f"[@{key}]" for key in KEYS) + "\n")
    done = subprocess.run(
        ["pandoc", "--citeproc", "--bibliography", str(OUTPUT / "llm-serving.json"),
         "-t", "plain", "--wrap=none", "cite.md"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "[WARNING]" not in done.stderr, done.stderr
    assert "???" not in done.stdout  # pandoc's mark for a citation it could not resolve
    # The style may change a title's case and dashes, so compare letters and digits only.
    rendered = normalize_title(done.stdout)
    for item in items:
        assert normalize_title(item["title"])[:30] in rendered, f"{item['id']} not rendered"
