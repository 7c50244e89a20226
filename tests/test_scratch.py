"""Scratch folders: removed at the end, also on error; a dead owner's folder is removed by the
next owner, unless its lock is held (a worker of the dead owner still writing)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from builder.scratch import Scratch, remove_stale

PREFIX = "newsset-test-"


@pytest.fixture
def tmpdir_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def dead_pid() -> int:
    """The pid of a process that has ended."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    return int(proc.stdout)


def test_a_folder_is_removed_at_the_end_and_on_error(tmpdir_is: Path) -> None:
    with Scratch(PREFIX) as one:
        assert one.path.parent == tmpdir_is and one.path.name.startswith(f"{PREFIX}{os.getpid()}-")
        (one.path / "run.arrow").write_bytes(b"x")
    assert not one.path.exists()
    with pytest.raises(RuntimeError), Scratch(PREFIX) as two:
        (two.path / "run.arrow").write_bytes(b"x")
        raise RuntimeError("a failed build")
    assert not two.path.exists()
    assert list(tmpdir_is.iterdir()) == []


def test_only_dead_owners_folders_are_removed(tmpdir_is: Path) -> None:
    dead = tmpdir_is / f"{PREFIX}{dead_pid()}-abc"
    (dead / "sub").mkdir(parents=True)
    (dead / "sub" / "run.arrow").write_bytes(b"x")
    locked = tmpdir_is / f"{PREFIX}{dead_pid()}-def"
    locked.mkdir()
    live = tmpdir_is / f"{PREFIX}1-ghi"
    live.mkdir()
    other = tmpdir_is / "newsset-runs-999999999-x"  # another kind of folder
    other.mkdir()
    fd = os.open(locked, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a worker the dead owner forked would hold it
    try:
        with Scratch(PREFIX) as mine:
            assert remove_stale(PREFIX) == []  # its own folder is not stale
            names = sorted(p.name for p in tmpdir_is.iterdir())
            assert names == sorted([locked.name, live.name, other.name, mine.path.name])
    finally:
        os.close(fd)
    assert remove_stale(PREFIX) == [locked]
    assert sorted(p.name for p in tmpdir_is.iterdir()) == sorted([live.name, other.name])
