"""Scratch folders: temporary folders under TMPDIR that a process owns while it works.

A build spills its sorted runs, and validation its corpus keys, to such a folder; it is removed
at the end, also on error. A process killed outright (SIGKILL, the OOM killer) cannot remove
it, so each folder names its owner's pid and stays locked (flock) while the owner lives: the
next process that makes a folder of the same kind removes the folders whose owner is dead and
whose lock is free, and never one of a live process.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import weakref
from pathlib import Path
from types import TracebackType


class Scratch:
    """A temporary folder `<TMPDIR>/<prefix><pid>-<random>`, locked while this object lives;
    `close` (or leaving a `with` block, or the object's end) removes it."""

    def __init__(self, prefix: str) -> None:
        remove_stale(prefix)
        self.path = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))
        fd = os.open(self.path, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._remove = weakref.finalize(self, remove, str(self.path), fd)

    def close(self) -> None:
        self._remove()

    def __enter__(self) -> Scratch:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def remove(path: str, fd: int) -> None:
    shutil.rmtree(path, ignore_errors=True)
    os.close(fd)  # the lock goes with the last descriptor


def owner(name: str, prefix: str) -> int | None:
    """The pid a scratch folder's name records, or None if it is not one of ours."""
    pid, _, rest = name[len(prefix) :].partition("-")
    return int(pid) if name.startswith(prefix) and pid.isdigit() and rest else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_stale(prefix: str) -> list[Path]:
    """Remove the folders of this kind left by processes that died; return them.

    A folder is stale when its owner's pid is not running and nobody holds its lock (a worker
    the dead owner forked may still hold it, and finish writing).
    """
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        pid = owner(path.name, prefix)
        if pid is None or pid == os.getpid() or alive(pid) or not path.is_dir():
            continue
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        remove(str(path), fd)
        removed.append(path)
    return removed
