"""`output/` is replaced as a set: kills, overlapping builds, a full disk, odd paths.

The builds run in subprocesses of the real CLI over synthetic projects (the
benchmark's `make_project`), large enough that a kill lands mid-build.
"""

from __future__ import annotations

import hashlib
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bench.bench_build import make_project
from bib.cli import main
from bib.output_set import leftovers

ENTRIES = 800  # a build of this size takes a few tenths of a second here
KILLS = 12  # per seed; two seeds, which pytest-xdist runs side by side


def snapshot(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def bib(args: list[str], cwd: Path, **kwargs) -> subprocess.Popen:
    code = "from bib.cli import main; main()"
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)  # fmt: skip


def build_in(folder: Path, catalog: str) -> None:
    done = bib(["-q", "build", "--catalog", catalog], folder)
    _out, err = done.communicate(timeout=120)
    assert done.returncode == 0, err


@pytest.fixture(scope="module")
def two_sets(tmp_path_factory) -> tuple[Path, dict[str, str], dict[str, str], float]:
    """A project with catalogs A and B (B drops a category and renames every title)."""
    folder = tmp_path_factory.mktemp("project")
    make_project(folder, ENTRIES)
    catalog = yaml.safe_load((folder / "sources.yaml").read_text())
    (folder / "a.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    catalog["categories"] = catalog["categories"][1:]
    for category in catalog["categories"]:
        for paper in category["papers"]:
            paper["title"] = paper["title"].replace("Serving", "Running")
    (folder / "b.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    sets = []
    for name in ("a.yaml", "b.yaml"):
        build_in(folder, name)
        sets.append(snapshot(folder / "output"))
    assert sets[0] != sets[1]
    start = time.monotonic()
    build_in(folder, "a.yaml")  # from B to A: a whole build, to aim the kills
    return folder, sets[0], sets[1], time.monotonic() - start


@pytest.mark.parametrize("seed", [20261202, 20261203])
def test_a_killed_build_leaves_the_old_set_or_the_new_one(two_sets, seed):
    folder, set_a, set_b, duration = two_sets
    rng = random.Random(seed)
    outcomes = {"old": 0, "new": 0}
    for _ in range(KILLS):
        build_in(folder, "a.yaml")
        process = bib(["-q", "build", "--catalog", "b.yaml"], folder)
        time.sleep(rng.uniform(0.5, 1.2) * duration)  # from rendering to after the swap
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        now = snapshot(folder / "output")
        assert now in (set_a, set_b), "a killed build left a mix of the two sets"
        outcomes["old" if now == set_a else "new"] += 1
    build_in(folder, "b.yaml")
    assert snapshot(folder / "output") == set_b
    assert leftovers(folder / "output") == []
    print(f"{KILLS} kills over {duration:.2f} s builds: {outcomes}")  # shown by pytest -s


def test_check_reports_what_an_interrupted_build_left(two_sets):
    folder, _set_a, _set_b, _duration = two_sets
    build_in(folder, "a.yaml")
    (folder / ".output.staging-99999").mkdir()
    (folder / "output" / ".llm-serving.bib.x1y2.tmp").write_text("half")
    result = CliRunner().invoke(main, ["check", "--catalog", str(folder / "a.yaml"),
                                       "--lock", str(folder / "sources.lock.json"),
                                       "--output-dir", str(folder / "output")])  # fmt: skip
    assert result.exit_code == 1
    assert ".output.staging-99999: left by an interrupted build" in result.output
    assert ".llm-serving.bib.x1y2.tmp: left by an interrupted build" in result.output
    build_in(folder, "a.yaml")
    assert leftovers(folder / "output") == []


def test_overlapping_builds_take_turns(two_sets):
    folder, set_a, set_b, _duration = two_sets
    for _ in range(3):
        first = bib(["-q", "build", "--catalog", "a.yaml"], folder)
        second = bib(["-q", "build", "--catalog", "b.yaml"], folder)
        assert first.wait(timeout=120) == 0 and second.wait(timeout=120) == 0
        assert snapshot(folder / "output") in (set_a, set_b)


def _limit_file_size() -> None:
    """In the child: files may not grow past 64 KiB, and writing further fails (EFBIG)
    instead of killing the process, as a full disk fails a write (ENOSPC)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_a_failing_write_leaves_output_unchanged_with_one_line(two_sets):
    folder, set_a, _set_b, _duration = two_sets
    build_in(folder, "a.yaml")
    process = bib(["build", "--catalog", "b.yaml"], folder, preexec_fn=_limit_file_size)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 1
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "it is unchanged" in lines[0], lines
    assert snapshot(folder / "output") == set_a
    assert leftovers(folder / "output") == []


def test_an_output_path_that_is_a_directory_is_one_line(tmp_path):
    make_project(tmp_path, 20)
    (tmp_path / "output" / "llm-serving.bib").mkdir(parents=True)
    result = CliRunner().invoke(main, ["build", "--catalog", str(tmp_path / "sources.yaml"),
                                       "--lock", str(tmp_path / "sources.lock.json"),
                                       "--output-dir", str(tmp_path / "output")])  # fmt: skip
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "llm-serving.bib is a directory" in result.output
    assert (tmp_path / "output" / "llm-serving.bib").is_dir()


def test_files_of_other_tools_in_output_are_kept(tmp_path):
    make_project(tmp_path, 20)
    args = ["-q", "build", "--catalog", str(tmp_path / "sources.yaml"),
            "--lock", str(tmp_path / "sources.lock.json"),
            "--output-dir", str(tmp_path / "output")]  # fmt: skip
    assert CliRunner().invoke(main, args).exit_code == 0
    (tmp_path / "output" / "notes.txt").write_text("mine")
    before = os.stat(tmp_path / "output" / "llm-serving.bib").st_mtime_ns
    text = (tmp_path / "sources.yaml").read_text().replace("Category 0", "Category Zero")
    (tmp_path / "sources.yaml").write_text(text)
    assert CliRunner().invoke(main, args).exit_code == 0
    assert (tmp_path / "output" / "notes.txt").read_text() == "mine"
    assert os.stat(tmp_path / "output" / "llm-serving.bib").st_mtime_ns != before


def test_a_render_that_fails_midway_leaves_output_and_no_staging(tmp_path):
    """Files are staged as they are rendered: an error after some were staged must leave
    `output/` as it was and nothing beside it."""
    from bib.output_set import publish

    out = tmp_path / "output"
    out.mkdir()
    (out / "a.bib").write_text("old a\n")

    def files():
        yield Path("a.bib"), "new a\n"
        yield Path("by-category/b.bib"), "new b\n"
        raise ValueError("entry 'x': citation key 'a,b' is unsafe to write")

    with pytest.raises(ValueError, match="unsafe"):
        publish(out, files())
    assert [p.name for p in tmp_path.iterdir()] == ["output"]
    assert sorted(p.name for p in out.rglob("*")) == ["a.bib"]
    assert (out / "a.bib").read_text() == "old a\n"
