"""Body lengths kept as counts (builder/lengths.py) say what the list of every length says."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from builder import plots
from builder.lengths import Lengths


def samples() -> list[np.ndarray]:
    """Lengths of many shapes: tiny and large corpora, wide and narrow spreads, few distinct
    values, one value, a long tail."""
    rng = np.random.default_rng(11)
    out = [np.array([5]), np.array([5, 5, 5]), np.array([0, 1]), np.array([3, 9, 9, 9, 100])]
    for size in (2, 7, 40, 999, 1000, 1001, 12345, 200_000):
        out.append(rng.integers(0, 30_000, size))
        out.append(np.round(rng.lognormal(7, 0.6, size)).astype(np.int64))
        out.append(rng.choice(rng.integers(0, 5000, 4), size))
        out.append(np.concatenate([rng.integers(900, 1100, size), [400_000]]))
    return out


@pytest.mark.parametrize("index", range(36))
def test_the_counts_give_what_the_list_of_lengths_gives(index: int) -> None:
    """Quantiles, total, size, numpy's percentiles and its "auto" bin edges: equal, bit for bit,
    to what numpy computes from the list of every length."""
    values = samples()[index]
    lengths = Lengths.of(values)
    ranked = np.sort(values)
    assert lengths.size == len(values) and lengths.total == int(values.sum())
    for q in (0.0, 0.25, 0.5, 0.75, 1.0):
        assert lengths.quantile(q) == ranked[max(1, math.ceil(q * len(values))) - 1]
    quartiles = np.true_divide([75, 25], 100)
    assert np.array_equal(lengths.percentiles(quartiles), np.percentile(values, [75, 25]))
    want = np.histogram_bin_edges(values, bins="auto")
    got = lengths.bin_edges()
    assert got.dtype == want.dtype and np.array_equal(got, want)


def test_counts_of_parts_add_up_to_the_counts_of_the_whole() -> None:
    rng = np.random.default_rng(3)
    parts = [rng.integers(0, 50, int(n)) for n in rng.integers(0, 300, 12)]
    total = Lengths.empty()
    for part in parts:
        total = total.plus(Lengths.of(part))
    whole = Lengths.of(np.concatenate(parts))
    assert total.values.tolist() == whole.values.tolist() and total.counts.tolist() == whole.counts.tolist()
    assert np.repeat(total.values, total.counts).tolist() == sorted(np.concatenate(parts).tolist())


def test_the_histogram_from_counts_is_the_png_of_every_length_histogrammed(tmp_path: Path) -> None:
    """The body-length plot drawn from the counts (weights) is the PNG that plotting the list of
    every length with numpy's "auto" bins draws."""
    values = np.round(np.random.default_rng(8).lognormal(7, 0.5, 20_000)).astype(np.int64)

    def every_length(ax, font) -> None:  # how the plot was drawn from the list of lengths
        ax.hist(
            values, bins=np.histogram_bin_edges(values, bins="auto"), color=plots.COLOUR, edgecolor="white"
        )
        ax.set_title("Body length", fontproperties=font)
        ax.set_xlabel("characters", fontproperties=font)
        ax.set_ylabel("articles", fontproperties=font)
        plots.integer_axis(ax.yaxis)

    plots.preload()
    listed, counted = tmp_path / "listed.png", tmp_path / "counted.png"
    plots.draw(listed, every_length)
    plots.draw(counted, lambda ax, font: plots.lengths_plot(ax, font, Lengths.of(values)))
    assert counted.read_bytes() == listed.read_bytes()
