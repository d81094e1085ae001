"""`bib init`: a starter catalog, and (`--ci`) a workflow that checks it on every pull request."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

from bib.atomic import write_text_atomic
from bib.errors import InputError

DISTRIBUTION = "llm-serving-bib"

CATALOG = """\
# The catalog: your reading list, as the list gives it, plus your curation.
# `bib add <arXiv id | DOI | URL | "title"> --category papers` adds a paper;
# `bib import-markdown LIST.md -o sources.yaml --force` imports an awesome list instead.
title: {title}
description: Papers worth reading, kept as a bibliography.
categories:
- name: Papers            # a heading of the list; `group:` names the heading above it
  slug: papers            # the file name of its outputs (output/by-category/papers.bib)
  papers: []
  # Each paper:
  # - id: vllm                  # stable; the citation key hangs off it: never change it
  #   title: 'Efficient Memory Management for Large Language Model Serving with PagedAttention'
  #   link: https://arxiv.org/abs/2309.06180
  #   label: SOSP 23            # the list's venue or affiliation note
  #   doi: 10.1145/3600006.3613165   # pins (doi, arxiv, dblp, url, pypi) you vouch for ...
  #   note: why the pin             # ... each with a note saying why
  #   aliases: [Another title the paper was published under]
"""

WORKFLOW = """\
# Written by `bib init --ci`: every pull request must keep the catalog, the lock and
# output/ in step (`bib check` sends no network request).
name: bibliography
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  check:
    runs-on: ubuntu-latest
    env:
      # Where `bib` is installed from; the overrides file lets bibtexparser 2 beside pyzotero.
      BIB_SOURCE: {source}
    steps:
      - uses: actions/checkout@v5
      - uses: astral-sh/setup-uv@v6
      - name: Install bib
        run: |
          echo 'bibtexparser>=2.0.0' > "$RUNNER_TEMP/overrides.txt"
          uv tool install --overrides "$RUNNER_TEMP/overrides.txt" "$BIB_SOURCE"
      - name: Check the bibliography
        run: bib check
"""


def init(
    directory: Path, *, title: str = "My Reading List", ci: bool = False, source: str | None = None
) -> list[Path]:
    """Write the starter files into `directory`; an existing one is never overwritten."""
    files = {directory / "sources.yaml": CATALOG.replace("{title}", _yaml_scalar(title))}
    if ci:
        source = source or installed_from()
        if source is None:
            raise InputError("where should CI install bib from? give --source "
                             "(a pip requirement such as git+https://host/you/bib@v1)")  # fmt: skip
        files[directory / ".github" / "workflows" / "bib.yml"] = WORKFLOW.replace(
            "{source}", _yaml_scalar(source))  # fmt: skip
    existing = [p for p in files if p.exists()]
    if existing:
        raise InputError(f"{existing[0]} exists; bib init writes only new files")
    for path, text in files.items():
        write_text_atomic(path, text)
    return list(files)


def installed_from() -> str | None:
    """Where this bib was installed from, as pip's PEP 610 record says: a VCS URL and commit.

    A CI job should install the very version the maintainer runs; a local or
    index install leaves nothing a runner could fetch, so the caller must ask.
    """
    try:
        recorded = importlib.metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
        origin = json.loads(recorded or "null")
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None
    vcs = origin.get("vcs_info") if isinstance(origin, dict) else None
    if not isinstance(vcs, dict) or vcs.get("vcs") != "git":
        return None
    return f"git+{origin['url']}@{vcs['commit_id']}"


def _yaml_scalar(text: str) -> str:
    """`text` as one single-quoted YAML scalar: nothing in it can add a key or a line."""
    if any(c in text for c in "\r\n\x00") or not text.strip():
        raise InputError(f"{text!r} must be one non-empty line")
    return "'" + text.replace("'", "''") + "'"
