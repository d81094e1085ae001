"""Replacing `output/` as a whole: a reader, a kill or a full disk sees the old set or the new one.

A build stages the complete new set in a sibling directory (files that did
not change are hard links, so they keep their modification times), marks it
ready by renaming it, then exchanges it with `output/` in one system call
(Linux `renameat2(RENAME_EXCHANGE)`). Where that call is missing, two renames
do the swap, and the next build finishes a swap a kill interrupted. Builds of
one output directory take turns through a lock file in the user's cache, and
each build first clears what an interrupted one left behind.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

from bib.dirs import cache_dir
from bib.errors import BibError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class OutputError(BibError):
    """The output set could not be written; `output/` is as it was."""

    exit_code = 1


@dataclass
class Published:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)


def _staging(output_dir: Path) -> Path:
    return output_dir.with_name(f".{output_dir.name}.staging-{os.getpid()}")


def _ready(output_dir: Path) -> Path:
    return output_dir.with_name(f".{output_dir.name}.ready-{os.getpid()}")


def leftovers(output_dir: Path) -> list[Path]:
    """What interrupted builds left: staging and retired directories, temporary files."""
    parent, name = output_dir.parent, output_dir.name
    found = [
        p for kind in ("staging", "ready", "old") for p in sorted(parent.glob(f".{name}.{kind}-*"))
    ]
    if output_dir.is_dir():
        found += sorted(p for p in output_dir.rglob(".*.tmp") if p.is_file())
    return found


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one step; False where the system cannot (not Linux, old kernel)."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def recover(output_dir: Path) -> list[Path]:
    """Finish or undo what an interrupted build left, and return what was cleared.

    A ready set whose swap was cut between the two fallback renames (no
    `output/` at all) becomes `output/`; everything else left is removed.
    """
    left = leftovers(output_dir)
    if not output_dir.exists():
        ready = [p for p in left if p.name.startswith(f".{output_dir.name}.ready-")]
        if ready:
            ready[-1].rename(output_dir)
            left.remove(ready[-1])
    for path in left:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return left


@contextmanager
def exclusive(output_dir: Path) -> Iterator[None]:
    """One build at a time per output directory, across processes."""
    where = hashlib.sha256(os.fsencode(output_dir.resolve())).hexdigest()[:16]
    lock_path = cache_dir() / "locks" / f"{where}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(lock_path):
        yield


def _existing(output_dir: Path) -> list[Path]:
    """Relative paths of the files now in `output/`."""
    if not output_dir.is_dir():
        return []
    return sorted(p.relative_to(output_dir) for p in output_dir.rglob("*") if not p.is_dir())


def _write(path: Path, data: list[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.writelines(data)
        handle.flush()
        os.fsync(handle.fileno())


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def publish(
    output_dir: Path,
    files: Iterable[tuple[Path, str | tuple[str, ...]]],
    stale_of: Callable[[list[Path]], Iterable[Path]] = lambda produced: (),
) -> Published:
    """Make `output_dir` hold `files` (relative path, text or chunks of it), without the
    files `stale_of` names once every file is produced, as one step.

    Each changed file goes to the staging directory as soon as it is produced, so
    its text need not outlive it. Every other file already there is kept.
    Nothing is touched when nothing changed, so a rebuild costs no write and no
    modification time.
    """
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputError(f"{output_dir} is a file; the outputs need a directory there")
    report = Published()
    staging, ready = _staging(output_dir), _ready(output_dir)
    produced: list[Path] = []
    changed: set[Path] = set()
    try:
        for rel, content in files:
            produced.append(rel)
            target = output_dir / rel
            if target.is_dir():
                raise OutputError(
                    f"{target} is a directory; remove it to let `bib build` write there"
                )
            chunks = [content] if isinstance(content, str) else content
            data = [chunk.encode("utf-8") for chunk in chunks]
            del content, chunks
            if _same(target, data):
                report.unchanged.append(target)
            else:
                report.written.append(target)
                changed.add(rel)
                _write(staging / rel, data)
        stale = set(stale_of(produced))
        report.removed = [output_dir / rel for rel in sorted(stale)]
        if not changed and not stale:
            return report
        for rel in _existing(output_dir):
            if rel not in changed and rel not in stale:
                _link_or_copy(output_dir / rel, staging / rel)
        staging.mkdir(parents=True, exist_ok=True)
        staging.rename(ready)  # the set is complete: from here on a kill rolls forward
    except OSError as exc:
        for path in (staging, ready):
            shutil.rmtree(path, ignore_errors=True)
        raise OutputError(f"cannot write {output_dir}: {_reason(exc)}; it is unchanged") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    retired = ready  # after an exchange, `ready` holds the old set
    try:
        if not output_dir.exists():
            ready.rename(output_dir)
        elif not _exchange(ready, output_dir):
            retired = output_dir.with_name(f".{output_dir.name}.old-{os.getpid()}")
            output_dir.rename(retired)
            ready.rename(output_dir)
    except OSError as exc:
        raise OutputError(f"cannot swap in the new {output_dir}: {_reason(exc)}; "
                          "the next `bib build` finishes it") from exc  # fmt: skip
    shutil.rmtree(retired, ignore_errors=True)
    return report


def _same(target: Path, data: list[bytes]) -> bool:
    """Whether `target` already holds exactly the chunks `data` (its size first: no read when
    it differs; then chunk by chunk, without joining them)."""
    try:
        if target.stat().st_size != sum(map(len, data)):
            return False
        existing, at = memoryview(target.read_bytes()), 0
    except OSError:
        return False
    for chunk in data:
        if existing[at : at + len(chunk)] != chunk:
            return False
        at += len(chunk)
    return True


def _reason(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return (exc.strerror or type(exc).__name__) + where
