"""Worker processes: one function over many pieces of work, results in input order.

Validation units and the build's shards both go through `imap`, so one process or several give
the same results in the same order; only the wall-clock time changes.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def imap(work: Callable[[T], R], items: Iterable[T], jobs: int) -> Iterator[R]:
    """`map(work, items)`, in `jobs` forked worker processes when jobs > 1."""
    if jobs <= 1:
        yield from map(work, items)
        return
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    )
    with context.Pool(jobs) as pool:
        yield from pool.imap(work, items, chunksize=1)
