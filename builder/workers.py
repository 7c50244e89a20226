"""Worker processes: one function over many pieces of work, results in input order.

Validation units and the build's shards both go through `imap`, so one process or several give
the same results in the same order; only the wall-clock time changes.

Workers are forked from the caller (where the platform can fork). The caller may have run
Arrow's thread pools by then (the build reads and writes Parquet before its shard writers
start); Arrow registers at-fork handlers that rebuild its pools in the child, which is what
makes a forked worker's Arrow calls safe. A fork server or `spawn` would avoid the question,
but each worker would then import the caller's main module: a script without a
`__name__ == "__main__"` guard, a notebook or `python -` would start pools forever, and each
pool would cost a second or so of imports. Work functions and their arguments travel by
pickling (module-level functions, or functools.partial of them) on every engine.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.pool
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

ENGINES = ("local", "ray")
_engine = "local"


@contextmanager
def engine(name: str = "local", address: str | None = None) -> Iterator[None]:
    """Run every `imap` inside on this engine: local processes, or Ray tasks (on the cluster at
    `address`, or on a Ray started on this machine). The work and its results are the same."""
    global _engine
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}: use one of {', '.join(ENGINES)}")
    if name == "local":
        yield
        return
    from builder import ray_engine

    before = _engine
    with ray_engine.session(address):
        _engine = name
        try:
            yield
        finally:
            _engine = before


def current() -> str:
    """The engine `engine()` chose: "local" or "ray"."""
    return _engine


def imap(
    work: Callable[[T], R], items: Iterable[T], jobs: int, meanwhile: Callable[[], object] | None = None
) -> Iterator[R]:
    """`map(work, items)`, in `jobs` worker processes when jobs > 1 (or as Ray tasks).

    `meanwhile`, when given, is what the caller's process does while the workers start on the
    items: it runs once, after the workers are forked (so that a thread or lock it takes is
    never copied into them) and before the first result is waited for.
    """
    if _engine == "ray":
        from builder import ray_engine

        if meanwhile is not None:
            meanwhile()
        yield from ray_engine.imap(work, items)
        return
    if jobs <= 1:
        if meanwhile is not None:
            meanwhile()
        yield from map(work, items)
        return
    with start_pool(jobs) as pool:
        results = pool.imap(work, items, chunksize=1)
        if meanwhile is not None:
            meanwhile()
        yield from results


def start_pool(jobs: int) -> multiprocessing.pool.Pool:
    """A pool of `jobs` workers, forked while this process's objects are frozen out of the
    collector's reach (`gc.freeze`, undone here once they are forked). A worker's collections
    then never walk the objects it inherited, so they do not write to the pages it shares with
    this process, which would copy them: a build's processes hold some 25 MB less at 200,000
    articles. Objects a caller froze itself stay frozen."""
    if gc.get_freeze_count():
        return start_context().Pool(jobs)
    gc.freeze()
    try:
        return start_context().Pool(jobs)
    finally:
        gc.unfreeze()


def start_context() -> multiprocessing.context.BaseContext:
    """Fork where the platform can, else its default (spawn)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context()
    return multiprocessing.get_context("fork")


YOUNG_OBJECTS = 20_000  # container objects made between two collections of the youngest ones


@contextmanager
def fewer_collections(threshold: int = YOUNG_OBJECTS) -> Iterator[None]:
    """Collect cyclic garbage less often inside the block. A record parsed from JSON is a few
    dicts and lists; at Python's default (a collection every 700 of them) the collector costs
    a sixth of a record's validation. The garbage a cycle leaves waits for at most `threshold`
    new objects; the thresholds are restored on the way out."""
    before = gc.get_threshold()
    gc.set_threshold(max(threshold, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
