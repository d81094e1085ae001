"""Benchmark `bib import-markdown` on a synthetic awesome list of N papers (target: 5,000 < 1 s).

The list mixes the shapes real lists use, one paper per line: link-first bullets with
a label, title-first bullets with `<br>` and [Paper]/[Code] links, numbered bold
titles with authors and a stars badge, and table rows, under nested headings with
a table of contents. Prints the parse time, the YAML dump time and the whole
command's time in a fresh process. Usage: python bench/bench_import.py [N ...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bib.markdown_import import parse_document, to_yaml

SECTIONS = 20


def _paper(i: int) -> str:
    arxiv = f"https://arxiv.org/abs/24{i % 12 + 1:02d}.{i:05d}"
    title = f"Paper{i}: Efficient KV-Cache Paging for Déjà Vu Workloads {i}"
    shape = i % 4
    if shape == 0:
        return f"- [Paper{i}]({arxiv}): Efficient KV-Cache Paging for Workloads {i} | OSDI' 24"
    if shape == 1:
        return f"- {title} <br> ICLR 2024 [[Paper]]({arxiv}) [[Code]](https://github.com/lab/p{i})"
    if shape == 2:
        return (
            f"1. [**{title}.**]({arxiv}) *A. Author, B. Author.* Arxiv 2024. "
            f"[![GitHub Repo stars](https://img.shields.io/github/stars/lab/p{i})]"
            f"(https://github.com/lab/p{i})"
        )
    return f"| 2024.01 | 🔥[**P{i}**] {title}(@Lab) | [[pdf]]({arxiv}) | ⚠️ |"


def make_list(n: int) -> str:
    per = -(-n // SECTIONS)
    lines = ["# Synthetic Awesome List", "", "A list for benchmarking.", "", "## Contents"]
    lines += [f"- [Section {s}](#section-{s})" for s in range(SECTIONS)]
    for s in range(SECTIONS):
        lines += ["", f"## Group {s % 4}", "", f"### Section {s}", ""]
        papers = range(s * per, min(n, (s + 1) * per))
        rows = [_paper(i) for i in papers if i % 4 == 3]
        lines += [_paper(i) for i in papers if i % 4 != 3]
        if rows:
            lines += ["", "| Date | Title | Paper | Code |", "|---|---|---|---|", *rows]
    return "\n".join(lines) + "\n"


def run(n: int) -> None:
    text = make_list(n)
    start = time.perf_counter()
    result = parse_document(text, "bench.md")
    parsed = time.perf_counter() - start
    start = time.perf_counter()
    to_yaml(result.catalog)
    dumped = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / "list.md", Path(folder) / "sources.yaml"
        source.write_text(text, encoding="utf-8")
        start = time.perf_counter()
        subprocess.run(
            [
                str(Path(sys.executable).parent / "bib"),
                "-q",
                "import-markdown",
                str(source),
                "-o",
                str(out),
            ],
            check=True,
            # bytecode kept, as on a user's machine (bench_startup.py says why)
            env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        )
        whole = time.perf_counter() - start
    print(
        f"{n:>6} papers ({len(text) / 1e6:.1f} MB): {result.report.entries} entries, "
        f"parse {parsed:.2f} s, YAML {dumped:.2f} s, whole command {whole:.2f} s"
    )


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["47", "5000"]:
        run(int(arg))
