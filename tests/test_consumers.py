"""The committed outputs, as LaTeX (BibTeX and biber) and Pandoc read them.

BibTeX and biber exit 0 on warnings, so these tests read what they print and
fail on any warning at all. `.ci/run` installs the programs from Debian; on a
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


def pages_not_published(style: str) -> set[str]:
    """The one warning left: ACM-Reference-Format demands page numbers, and a conference
    paper whose proceedings give none (QServe, MLSys 2025: no source shows any) cannot have
    them. Every other field a style asks for is in the records (venue table, PyPI)."""
    if style != "ACM-Reference-Format":
        return set()
    return {f"page numbers missing in both pages and numpages fields in {r.key}"
            for r in RECORDS if r.type == "paper-conference" and not r.pages}  # fmt: skip


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
    assert warnings == pages_not_published(style)
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


# --- a synthetic bibliography as hostile as a list and an upstream can make it ------------

HOSTILE_TITLES = [
    "Evil} @misc{titleinject, title={pwned}} @comment{",
    "Rocket 🚀 Serving with 中文 and 日本語 Tokens",
    "Nguyễn, Łukasz and Szűcs: α-Scheduling for μ-Batches ≤ 10 × Faster",
    "Percent % Hash # Dollar $ Underscore _ Tilde ~ Caret ^ Backslash \\ Braces { }",
    "Non-breaking\u2011hyphen, en–dash, em—dash, “quotes” and ‘single’…",
    "Combining e\u0301 and Cyrillic Привет and Arabic مرحبا",
]
HOSTILE_CATEGORY = "Evil} @misc{catinject, title={pwned}} @comment{"


def hostile_project(folder: Path) -> list[str]:
    """A catalog and lock whose text tries every trick; returns the citation keys."""
    from bib import lock
    from bib.lock import LockedEntry
    from bib.record import Person, Record

    papers, locked, keys = [], {}, []
    for n, title in enumerate(HOSTILE_TITLES):
        entry_id, key = f"hostile-{n}", f"hostile{n}"
        papers.append({"id": entry_id, "title": title.replace("\\", "/")})
        record = Record(
            id=entry_id, key=key, type="paper-conference", title=title,
            authors=(Person("Nguyễn", "Văn An"), Person("Szűcs", "Ödön"), Person("王", "小明"),
                     Person(literal="Team {Evil} @ Corp")),
            issued=(2024, 5), container_title="Proc. of Σ-Systems & {Braces} @ 2024",
            pages="1--12", publisher="ACM % Press", publisher_place="New York, NY, USA",
            source="crossref",
        )  # fmt: skip
        locked[entry_id] = LockedEntry(record, ())
        keys.append(key)
    catalog = {"title": "Hostile @ {List} %", "categories": [
        {"name": HOSTILE_CATEGORY, "slug": "evil", "papers": papers}]}  # fmt: skip
    import yaml

    (folder / "sources.yaml").write_text(yaml.safe_dump(catalog, allow_unicode=True))
    lock.write(folder / "sources.lock.json", locked)
    return keys


@pytest.mark.parametrize("style", ["plain", "plainnat", "IEEEtran", "ACM-Reference-Format"])
def test_hostile_unicode_and_syntax_compile_with_bibtex(style, tmp_path):
    require("pdflatex", "bibtex")
    from bib.commands.build import build

    keys = hostile_project(tmp_path)
    report = build(Project.load(tmp_path / "sources.yaml", tmp_path / "sources.lock.json"),
                   tmp_path / "out")  # fmt: skip
    assert any("drop" in w and "🚀" in w for w in report.warnings)
    shutil.copy(tmp_path / "out" / "llm-serving.bib", tmp_path / "h.bib")
    natbib = "\\usepackage[numbers]{natbib}\n" if style != "plain" and style != "IEEEtran" else ""
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{url}\n" + natbib
        + "\\begin{document}\n\\cite{" + ",".join(keys) + "}\n\\nocite{*}\n"
        + f"\\bibliographystyle{{{style}}}\n\\bibliography{{h}}\n\\end{{document}}\n"
    )  # fmt: skip
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc"]
    run(latex, tmp_path)
    bibtex_out = run(["bibtex", "doc"], tmp_path)
    run(latex, tmp_path)
    run(latex, tmp_path)
    assert "error message" not in bibtex_out, bibtex_out
    bbl = (tmp_path / "doc.bbl").read_text(errors="replace")
    assert bbl.count("\\bibitem") == len(keys)
    cited = re.findall(r"\\bibitem(?:\[.*?\])?%?\s*\{(\w+)\}", bbl, re.DOTALL)
    # \nocite{*} takes every entry BibTeX found: the "@misc{...}" texts made none.
    assert sorted(cited) == sorted(keys)
    assert latex_warnings((tmp_path / "doc.log").read_text(errors="replace")) == []


def test_hostile_unicode_and_syntax_go_through_biber(tmp_path):
    """biber reads UTF-8, so the BibLaTeX file keeps every character; biber must take each
    entry once and no injected one (typesetting CJK and emoji is the document's font's job)."""
    require("biber")
    from bib.commands.build import build

    keys = hostile_project(tmp_path)
    build(Project.load(tmp_path / "sources.yaml", tmp_path / "sources.lock.json"),
          tmp_path / "out")  # fmt: skip
    shutil.copy(tmp_path / "out" / "llm-serving.biblatex.bib", tmp_path / "h.bib")
    # \nocite and no \printbibliography: pdflatex writes the control file for biber
    # without typesetting any entry.
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage[backend=biber]{biblatex}\n"
        "\\addbibresource{h.bib}\n\\begin{document}\n\\nocite{*}\nx\n\\end{document}\n"
    )
    run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc"], tmp_path)
    out = run(["biber", "doc"], tmp_path)
    assert not [line for line in out.splitlines() if re.search(r"WARN|ERROR", line)], out
    bbl = (tmp_path / "doc.bbl").read_text(encoding="utf-8")
    assert sorted(re.findall(r"\\entry\{(\w+)\}", bbl)) == sorted(keys)
    assert "🚀" in bbl and "中文" in bbl and "Nguyễn" in bbl


COMMITTED_LISTS = sorted((ROOT / "tests" / "data" / "awesome-lists").glob("*.md"))


@pytest.mark.parametrize("listing", COMMITTED_LISTS, ids=lambda p: p.stem)
def test_a_real_awesome_list_imported_and_built_compiles_with_no_latex_error(listing, tmp_path):
    """Another list's build, every entry unresolved (no network): what a new maintainer
    compiles first. TeX must stop at no error and BibTeX must take every entry."""
    require("pdflatex", "bibtex")
    from click.testing import CliRunner

    from bib.cli import main
    from bib.commands.build import build

    catalog = tmp_path / "sources.yaml"
    imported = CliRunner().invoke(main, ["import-markdown", str(listing), "-o", str(catalog)])
    assert imported.exit_code == 0, imported.output
    project = Project.load(catalog, tmp_path / "sources.lock.json")
    build(project, tmp_path / "out")
    keys = [r.key for r in project.bibliography.records]
    shutil.copy(tmp_path / "out" / "llm-serving.bib", tmp_path / "l.bib")
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{url}\n"
        "\\usepackage[numbers]{natbib}\n\\begin{document}\n\\nocite{*}\n"
        "\\bibliographystyle{plainnat}\n\\bibliography{l}\n\\end{document}\n"
    )
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc"]
    run(latex, tmp_path)
    bibtex_out = run(["bibtex", "doc"], tmp_path)
    run(latex, tmp_path)
    assert "error message" not in bibtex_out, bibtex_out[-2000:]
    bbl = (tmp_path / "doc.bbl").read_text(errors="replace")
    assert bbl.count("\\bibitem") == len(keys) > 100
