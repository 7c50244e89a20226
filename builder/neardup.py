"""Near-duplicate bodies (the same story reprinted with small edits): MinHash LSH over CJK
character shingles, computed a batch of records at a time with numpy.

Each body gets a sketch of `BINS` 32-bit values by one-permutation hashing: every 5-character
shingle (sampled by content, so that two copies of a text sample the same shingles) is hashed
once, the hash picks a bin and the smallest value per bin is kept. The share of equal bins
estimates the Jaccard similarity of the shingle sets. Candidate pairs come from banding the
sketches (LSH) and grouping the band keys from disk (builder/keyfiles.py), so memory holds a
few bytes a record at most.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from builder.keyfiles import KeyFiles, distinct, same_key_arrays

BINS = 32
BANDS = 4
ROWS = BINS // BANDS
THRESHOLD = 0.8
MIN_FILLED = 16  # a body too short to fill half the bins is not judged
SHINGLE = 5
SAMPLE = 8
EMPTY = np.uint32(0xFFFFFFFF)
_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit."""
    h = h ^ (h >> np.uint64(30))
    h = h * _M2
    h = h ^ (h >> np.uint64(27))
    h = h * _M3
    return h ^ (h >> np.uint64(31))


def sketches(bodies: Sequence[str]) -> np.ndarray:
    """One row of `BINS` values per body (EMPTY where no shingle fell)."""
    cp, starts, ends = code_points(bodies)
    return sketch_rows(cp, starts, ends, np.flatnonzero(cp % np.uint32(SAMPLE) == 0))


def code_points(bodies: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bodies as one array of code points, a newline between two, and where each starts and
    ends: the form `sketch_rows` and `builder.screens` share, so a batch is encoded once."""
    joined = "\n".join(bodies)
    cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lengths = np.array([len(b) for b in bodies], dtype=np.int64)
    starts = np.cumsum(lengths + 1) - (lengths + 1)
    return cp, starts, starts + lengths


def sketch_rows(cp: np.ndarray, starts: np.ndarray, ends: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """The sketches of the bodies laid out in `cp` (see `code_points`), computed in one pass.

    `anchors` are the positions whose code is a multiple of `SAMPLE`: only shingles starting
    there are hashed. The choice depends on the text alone, so a reprint samples the same
    shingles as its original. A shingle never runs past the end of its body. The hash is 32
    bits (murmur3's finaliser over a weighted sum of the code points): its low bits pick the
    bin, the others are the value kept.
    """
    out = np.full((len(starts), BINS), EMPTY, dtype=np.uint32)
    if not len(anchors):
        return out
    # the body of each anchor (the first body starts at 0): the anchors are sorted, so each
    # body owns those from the first at or after its start to the next body's
    counts = np.diff(np.append(np.searchsorted(anchors, starts), len(anchors)))
    owner = np.repeat(np.arange(len(starts)), counts)
    inside = anchors + (SHINGLE - 1) < ends[owner]
    anchors, owner = anchors[inside], owner[inside]
    h = np.take(cp, anchors) * _WEIGHTS[0]
    for j in range(1, SHINGLE):
        h += np.take(cp, anchors + j) * _WEIGHTS[j]
    h = _mix32(h)
    slot = owner * BINS + (h & np.uint32(BINS - 1))
    np.minimum.at(out.reshape(-1), slot, h >> np.uint32(BIN_BITS))
    return out


BIN_BITS = BINS.bit_length() - 1
_WEIGHTS = np.array([0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1], dtype=np.uint32)[:SHINGLE]


def _mix32(h: np.ndarray) -> np.ndarray:
    """murmur3's 32-bit finaliser: every input bit moves every output bit."""
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def similarities(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The estimated Jaccard similarity of each row of `a` with the same row of `b`: equal bins
    among the bins either sketch filled (0 when neither filled any)."""
    filled = (a != EMPTY) | (b != EMPTY)
    counts = filled.sum(axis=1)
    equal = ((a == b) & filled).sum(axis=1)
    return np.divide(equal, counts, out=np.zeros(len(a)), where=counts > 0)


class NearDuplicates:
    """Collects sketches in input order, on disk (`keys`, or files of its own); `pairs` finds
    the near-duplicate ones."""

    def __init__(self, keys: KeyFiles | None = None) -> None:
        self.keys = keys if keys is not None else KeyFiles()

    @property
    def size(self) -> int:
        return self.keys.rows(SKETCH)

    def add(self, rows: np.ndarray) -> None:
        """Write the sketches and each band's key (0 for a body too short to judge)."""
        self.keys.append(SKETCH, rows)
        judged = (rows != EMPTY).sum(axis=1) >= MIN_FILLED
        for band in range(BANDS):
            key = band_key(rows, band)
            key[judged & (key == 0)] = 1
            key[~judged] = 0
            self.keys.append(f"{BAND}{band}", key)

    def scores(self, first: np.ndarray, later: np.ndarray) -> np.ndarray:
        """The similarity of the sketches of each pair of rows, read from disk together."""
        rows = distinct(np.sort(np.concatenate([first, later])))
        sketches = self.keys.rows_at(SKETCH, rows)
        return similarities(sketches[np.searchsorted(rows, first)], sketches[np.searchsorted(rows, later)])

    def pairs(self, threshold: float = THRESHOLD) -> list[tuple[int, int, float]]:
        """(earlier, later, similarity) for each later record near an earlier one.

        Each later record is reported once, against the first earlier record it is near to.
        A band's keys are grouped from disk (keyfiles.same_key_arrays) and the sketches of
        PAIR_BATCH candidate pairs at a time are read and compared together, so memory holds a
        few numbers a record at most.
        """
        if not self.size:
            return []
        found: dict[int, tuple[int, float]] = {}
        for band in range(BANDS):
            for firsts, laters in same_key_arrays(self.keys, f"{BAND}{band}"):
                for at in range(0, len(firsts), PAIR_BATCH):
                    first, later = firsts[at : at + PAIR_BATCH], laters[at : at + PAIR_BATCH]
                    scores = self.scores(first, later).tolist()
                    for i, j, score in zip(first.tolist(), later.tolist(), scores, strict=True):
                        if j in found and found[j][0] <= i:
                            continue
                        if score >= threshold:
                            found[j] = (i, score)
        return sorted((i, j, score) for j, (i, score) in found.items())


SKETCH = "sketch"
BAND = "band-"
PAIR_BATCH = 1 << 16  # candidate pairs whose sketches are read and compared at once


def band_key(sketch: np.ndarray, band: int) -> np.ndarray:
    """One 64-bit key per sketch row from the bins of one band: equal bins, equal keys."""
    cols = sketch[:, band * ROWS : (band + 1) * ROWS].astype(np.uint64)
    key = np.zeros(len(sketch), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c in range(ROWS):
            key = _mix(key * _M1 + cols[:, c])
    return key
