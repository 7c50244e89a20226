"""Body lengths as a distribution: each distinct length and how many articles have it.

The card gives quantiles, the mean and the total of the body lengths, and plots their
histogram. All of that is read from the distinct lengths and their counts, which grow with the
longest body, not with the number of articles: a build of a million articles holds a few
thousand numbers, not a million, in the process that draws the card.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Lengths:
    """Distinct lengths (ascending) and the number of articles with each (all above zero)."""

    values: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, lengths: np.ndarray | list[int]) -> Lengths:
        """Count them (`np.bincount`): lengths are small non-negative integers (the schema
        bounds a body), so this is faster than the sort of np.unique, which also imports
        numpy.ma (25 ms)."""
        counts = np.bincount(np.asarray(lengths, dtype=np.int64))
        values = np.flatnonzero(counts)
        return cls(values.astype(np.int64), counts[values].astype(np.int64))

    @classmethod
    def empty(cls) -> Lengths:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64))

    def plus(self, other: Lengths) -> Lengths:
        """Both distributions together."""
        values, where = np.unique(np.concatenate([self.values, other.values]), return_inverse=True)
        counts = np.zeros(len(values), np.int64)
        np.add.at(counts, where, np.concatenate([self.counts, other.counts]))
        return Lengths(values, counts)

    @property
    def size(self) -> int:
        """The number of articles."""
        return int(self.counts.sum())

    @property
    def total(self) -> int:
        return int(np.dot(self.values, self.counts))

    def at(self, rank: int) -> np.int64:
        """The length at place `rank` (from 0) of all the lengths sorted; -1 is the last."""
        ends = np.cumsum(self.counts)
        rank = rank % int(ends[-1])
        return self.values[int(np.searchsorted(ends, rank, side="right"))]

    def quantile(self, q: float) -> int:
        """Nearest-rank quantile (a length that occurs, no interpolation)."""
        return int(self.at(max(1, math.ceil(q * self.size)) - 1))

    def bin_edges(self) -> np.ndarray:
        """`np.histogram_bin_edges(lengths, bins="auto")` of all the lengths, from the counts: the
        same operations, in the same order, on the few numbers numpy's estimator reads (how
        many, the least and greatest, the quartiles). The rule is numpy's (2.x): the narrower
        of Sturges' width and Freedman-Diaconis' width, the latter at least half the square
        root rule's, and at least 1 for integers."""
        size, low, high = self.size, self.values[0], self.values[-1]
        if low == high:
            return np.linspace(low - 0.5, high + 0.5, 2, endpoint=True, dtype=np.float64)
        spread = np.subtract(high, low, dtype=np.uint64, casting="unsafe")  # as numpy's _ptp
        upper, lower = self.percentiles(np.true_divide([75, 25], 100))
        fd = 2.0 * np.subtract(upper, lower) * size ** (-1.0 / 3.0)
        sturges = spread / (np.log2(size) + 1.0)
        square_root = spread / np.sqrt(size)
        width = min(max(fd, square_root / 2), sturges)
        if width:
            width = max(width, 1)
            bins = int(np.ceil(spread / width))
        else:  # pragma: no cover - a spread above zero gives a width above zero
            bins = 1
        return np.linspace(low, high, bins + 1, endpoint=True, dtype=np.result_type(low, high, float))

    def percentiles(self, quantiles: np.ndarray) -> np.ndarray:
        """`np.percentile(lengths, quantiles * 100)` (its "linear" method) from the counts."""
        virtual = (self.size - 1) * quantiles
        previous = np.floor(virtual)
        following = previous + 1
        last = virtual >= self.size - 1
        previous[last], following[last] = -1, -1
        previous, following = previous.astype(np.intp), following.astype(np.intp)
        gamma = np.asanyarray(virtual - previous, dtype=virtual.dtype)
        a = np.array([self.at(int(i)) for i in previous], np.int64)
        b = np.array([self.at(int(i)) for i in following], np.int64)
        return lerp(a, b, gamma)


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's linear interpolation of quantiles, with its rounding: from `b` back where t ≥ ½."""
    difference = b - a
    out = np.add(a, difference * t)
    np.subtract(b, difference * (1 - t), out=out, where=t >= 0.5, casting="unsafe", dtype=type(out.dtype))
    return out
