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

from builder.keyfiles import KeyFiles, same_key_pairs

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
    """One row of `BINS` values per body (EMPTY where no shingle fell), computed in one pass.

    Only shingles starting at a character whose code is a multiple of `SAMPLE` are hashed: the
    choice depends on the text alone, so a reprint samples the same shingles as its original.
    """
    out = np.full((len(bodies), BINS), EMPTY, dtype=np.uint32)
    joined = "\x00".join(bodies)  # NUL never occurs in a valid body: no shingle spans two
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    n = len(cp) - (SHINGLE - 1)
    if n <= 0:
        return out
    anchor = np.flatnonzero(cp[:n] % np.uint32(SAMPLE) == 0)
    if not len(anchor):
        return out
    with np.errstate(over="ignore"):
        h = np.zeros(len(anchor), dtype=np.uint64)
        inside = np.ones(len(anchor), dtype=bool)
        for j in range(SHINGLE):
            c = cp[anchor + j]
            inside &= c != 0
            h = h * _M1 + c.astype(np.uint64)
        h = _mix(h[inside])
    starts = np.cumsum([0] + [len(b) + 1 for b in bodies[:-1]])
    owner = np.searchsorted(starts, anchor[inside], side="right") - 1
    slot = owner * BINS + (h & np.uint64(BINS - 1)).astype(np.int64)
    values = np.minimum((h >> np.uint64(32)).astype(np.uint32), EMPTY - np.uint32(1))
    np.minimum.at(out.reshape(-1), slot, values)
    return out


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity: equal bins among the bins either sketch filled."""
    filled = (a != EMPTY) | (b != EMPTY)
    count = int(filled.sum())
    return float(((a == b) & filled).sum()) / count if count else 0.0


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

    def pairs(self, threshold: float = THRESHOLD) -> list[tuple[int, int, float]]:
        """(earlier, later, similarity) for each later record near an earlier one.

        Each later record is reported once, against the first earlier record it is near to.
        A band's keys are grouped from disk (keyfiles.same_key_pairs) and only the sketches of
        candidate pairs are read, so memory holds a few numbers a record at most.
        """
        if not self.size:
            return []
        found: dict[int, tuple[int, float]] = {}
        with self.keys.row_reader(SKETCH) as sketch:
            first: tuple[int, np.ndarray] = (-1, np.empty(0))  # a run's first row, met again and again
            for band in range(BANDS):
                for i, j in same_key_pairs(self.keys, f"{BAND}{band}"):
                    if j in found and found[j][0] <= i:
                        continue
                    if first[0] != i:
                        first = (i, sketch(i))
                    score = similarity(first[1], sketch(j))
                    if score >= threshold:
                        found[j] = (i, score)
        return sorted((i, j, score) for j, (i, score) in found.items())


SKETCH = "sketch"
BAND = "band-"


def band_key(sketch: np.ndarray, band: int) -> np.ndarray:
    """One 64-bit key per sketch row from the bins of one band: equal bins, equal keys."""
    cols = sketch[:, band * ROWS : (band + 1) * ROWS].astype(np.uint64)
    key = np.zeros(len(sketch), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c in range(ROWS):
            key = _mix(key * _M1 + cols[:, c])
    return key
