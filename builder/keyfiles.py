"""Key columns on disk: the corpus checks' per-record keys, written as they arrive and read back
a chunk at a time, so that memory holds a few bytes a record at most, whatever the corpus.

Each column is one raw file of fixed-size rows, appended to a unit of work at a time.
`same_key_pairs` finds the rows that share a key as a stable sort of the whole column would,
but splits the column by the keys' top bits into parts of about `PART_ROWS` rows first (on
disk), and sorts one part at a time.
"""

from __future__ import annotations

import math
import mmap
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from builder.scratch import Scratch

KEYS_PREFIX = "newsset-keys-"
CHUNK_ROWS = 1 << 17  # rows read at a time
# Rows sorted at a time, for keys spread evenly: some 10 MB of keys, rows and sort order at the
# end of a run (a million rows would be 40 MB, which the process's peak would then show).
PART_ROWS = 1 << 18


class KeyFiles:
    """Columns of fixed-size rows in files of one folder: a scratch folder of their own (made
    at the first append), or `folder`. `close` removes them."""

    def __init__(self, folder: Path | None = None) -> None:
        self.scratch: Scratch | None = None
        self._folder = folder
        self.layout: dict[str, tuple[np.dtype, tuple[int, ...]]] = {}
        self.counts: dict[str, int] = {}

    @property
    def folder(self) -> Path:
        if self._folder is None:
            self.scratch = Scratch(KEYS_PREFIX)
            self._folder = self.scratch.path
        elif not self._folder.is_dir():
            self._folder.mkdir(parents=True)
        return self._folder

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.bin"

    def append(self, name: str, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values)
        self.layout.setdefault(name, (values.dtype, values.shape[1:]))
        with self.path(name).open("ab") as out:
            values.tofile(out)
        self.counts[name] = self.rows(name) + len(values)

    def rows(self, name: str) -> int:
        return self.counts.get(name, 0)

    def map(self, name: str) -> np.ndarray:
        """The whole column, mapped from its file (pages are read as they are touched)."""
        dtype, shape = self.layout.get(name, (np.dtype(np.uint64), ()))
        if not self.rows(name):
            return np.empty((0, *shape), dtype)
        return np.memmap(self.path(name), dtype=dtype, mode="r", shape=(self.rows(name), *shape))

    def read(self, name: str) -> np.ndarray:
        """The whole column in memory."""
        return np.array(self.map(name))

    def rows_at(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Rows of the column by number (ascending, no repeats), gathered from the file mapped
        into memory a window of `CHUNK_ROWS` rows at a time: only the pages that hold them are
        read in, with no copy of the rest, and each window's pages are unmapped once its rows
        are taken, so a check that looks at rows all over the file holds one window's pages."""
        dtype, shape = self.layout[name]
        row_bytes = dtype.itemsize * math.prod(shape)
        out = np.empty((len(rows), *shape), dtype)
        if not len(rows):
            return out
        data = map_at_random(self.path(name))
        table = np.frombuffer(data, dtype=dtype, count=self.rows(name) * math.prod(shape)).reshape(-1, *shape)
        start = 0
        while start < len(rows):
            first = int(rows[start])
            stop = int(np.searchsorted(rows, first + CHUNK_ROWS))
            out[start:stop] = table[rows[start:stop]]
            unmap(data, first * row_bytes, (int(rows[stop - 1]) + 1) * row_bytes)
            start = stop
        return out  # the map is closed with its last view, as this returns

    def chunks(self, name: str, rows: int = CHUNK_ROWS) -> Iterator[np.ndarray]:
        """The column `rows` rows at a time, read (not mapped), so nothing stays in memory."""
        dtype, shape = self.layout.get(name, (np.dtype(np.uint64), ()))
        width = math.prod(shape)
        with self.path(name).open("rb") as source:
            for _ in range(0, self.rows(name), rows):
                yield np.fromfile(source, dtype=dtype, count=rows * width).reshape(-1, *shape)

    def close(self) -> None:
        if self.scratch is not None:
            self.scratch.close()
        elif self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
        self.counts.clear()


def map_at_random(path: str | Path) -> mmap.mmap:
    """A file mapped into memory for reading here and there (MADV_RANDOM): a page touched maps
    in that page, not its neighbours around it too."""
    with open(path, "rb") as source:
        data = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
    if hasattr(mmap, "MADV_RANDOM"):
        data.madvise(mmap.MADV_RANDOM)
    return data


def unmap(data: mmap.mmap, start: int, stop: int) -> None:
    """Let go of the pages of [start, stop) of a mapped file (they stay in the page cache)."""
    start -= start % mmap.PAGESIZE
    if hasattr(mmap, "MADV_DONTNEED") and stop > start:
        data.madvise(mmap.MADV_DONTNEED, start, min(stop, len(data)) - start)


def same_key_pairs(keys: KeyFiles, name: str) -> Iterator[tuple[int, int]]:
    """(first, later) row pairs of a uint64 column's rows sharing a non-zero key: for each later
    row, the first row with its key. In key order, then row order, as a stable sort of the
    whole column gives them, one part of the key range in memory at a time."""
    for first, later in same_key_arrays(keys, name):
        yield from zip(first.tolist(), later.tolist(), strict=True)


def same_key_arrays(keys: KeyFiles, name: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """`same_key_pairs` as arrays of first and later rows, a part of the key range at a time."""
    count = keys.rows(name)
    bits = math.ceil(math.log2(count / PART_ROWS)) if count > PART_ROWS else 0
    if not bits:
        yield sorted_pairs(keys.read(name), np.arange(count))
        return
    parts = KeyFiles(keys.folder / f"{name}.parts")
    try:
        start = 0
        for chunk in keys.chunks(name):
            index = np.arange(start, start + len(chunk), dtype=np.int64)
            start += len(chunk)
            used = chunk != 0
            chunk, index = chunk[used], index[used]
            # a part's number has `bits` bits: as 16-bit numbers, numpy's stable sort is a radix sort
            part = (chunk >> np.uint64(64 - bits)).astype(np.uint16 if bits <= 16 else np.uint64)
            order = np.argsort(part, kind="stable")
            bounds = np.searchsorted(part[order], np.arange((1 << bits) + 1))
            for p in np.flatnonzero(np.diff(bounds)):
                rows = order[bounds[p] : bounds[p + 1]]
                parts.append(f"key-{p}", chunk[rows])
                parts.append(f"row-{p}", index[rows])
        for p in range(1 << bits):
            if parts.rows(f"key-{p}"):
                yield sorted_pairs(parts.read(f"key-{p}"), parts.read(f"row-{p}"))
    finally:
        parts.close()


def sorted_pairs(keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """same_key_arrays over keys in memory (`rows`, ascending, number them): each repeated row
    with the first row of its run of equal keys, the earliest row, as the sort is stable."""
    if not len(keys):
        return rows[:0], rows[:0]
    order = stable_order(keys)
    ordered = keys[order]
    new_run = run_starts(ordered)
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(len(ordered)), 0))
    repeated = np.flatnonzero(~new_run & (ordered != 0))
    return rows[order[run_start[repeated]]], rows[order[repeated]]


def distinct(ordered: np.ndarray) -> np.ndarray:
    """The values of a sorted array, each once: `np.unique` without its sort, nor its import
    of numpy.ma (a fortieth of a second, at the end of every validation)."""
    return ordered[run_starts(ordered)]


def run_starts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values of a sorted array starts (a boolean mask)."""
    return np.concatenate([[True], ordered[1:] != ordered[:-1]])[: len(ordered)]


def stable_order(keys: np.ndarray) -> np.ndarray:
    """`np.argsort(keys, kind="stable")` of uint64 keys, as four stable passes over their 16-bit
    digits, lowest first: numpy sorts 16-bit numbers by radix, in about half the time its
    stable sort of 64-bit ones takes."""
    order = np.arange(len(keys))
    for shift in range(0, 64, 16):
        digits = (keys[order] >> np.uint64(shift)).astype(np.uint16)
        order = order[np.argsort(digits, kind="stable")]
    return order
