"""`bib resolve` killed at random points: the lock is the old one or the new one, whole.

The resolver writes the lock once, atomically, at the end of a run; a kill anywhere
before must leave the previous lock byte for byte, and a run after it must finish
the work with every record it would have had.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bib import lock
from tests.conftest import ROOT
from tests.upstreams.fixtures import environment, upstreams

BIB = str(Path(sys.executable).with_name("bib"))
TAKEN_OUT = ("vllm", "flash-llm", "deepspeed-mii", "orca", "caraserve")


def _project(folder: Path) -> bytes:
    shutil.copy(ROOT / "sources.yaml", folder / "sources.yaml")
    data = json.loads((ROOT / "sources.lock.json").read_text(encoding="utf-8"))
    for entry_id in TAKEN_OUT:
        del data["entries"][entry_id]
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (folder / "sources.lock.json").write_text(text, encoding="utf-8")
    return text.encode("utf-8")


def _facts(entries: dict[str, lock.LockedEntry]) -> dict:
    """Records without the retrieval date and the key (an entry resolved anew gets the key
    of its new record; the committed lock froze an older one)."""
    return {i: (e.identifiers, e.record.with_(retrieved=None, key="")) for i, e in entries.items()}


def test_a_killed_resolve_leaves_the_old_lock_and_the_next_run_finishes(tmp_path):
    before = _project(tmp_path)
    rng = random.Random(20261203)
    with upstreams() as servers:
        for server in servers.values():
            server.latency = 0.3  # a run of about 2 s, so that the kills land inside it
        urls = environment(servers)
        for run in range(4):
            env = {**os.environ, **urls, "BIB_CACHE_DIR": str(tmp_path / f"cache{run}")}
            process = subprocess.Popen([BIB, "resolve"], cwd=tmp_path, env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            time.sleep(rng.uniform(0.1, 1.5))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            now = (tmp_path / "sources.lock.json").read_bytes()
            assert now == before or set(lock.read(tmp_path / "sources.lock.json")) >= set(
                TAKEN_OUT
            ), f"kill {run}: a lock that is neither the old one nor complete"
        env = {**os.environ, **urls, "BIB_CACHE_DIR": str(tmp_path / "cache-final")}
        done = subprocess.run([BIB, "resolve"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    finished = lock.read(tmp_path / "sources.lock.json")
    assert _facts(finished) == _facts(lock.read(ROOT / "sources.lock.json"))
