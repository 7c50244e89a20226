"""Worker processes: one function over many pieces of work, results in input order.

Validation units and the build's shards both go through `imap`, so one process or several give
the same results in the same order; only the wall-clock time changes.

Workers start from a fork server, not from a fork of the caller: by then the caller runs
Arrow's threads, and a lock one of them holds at the fork would stay locked in the child. The
server is a clean process that imports the work's modules once (`PRELOAD`) and forks each
worker from there, so starting a pool stays cheap. Work functions and their arguments travel
by pickling: they are module-level functions (or functools.partial of them), and a worker sees
the modules as imported, not as the caller may have changed them since. As with `spawn`, a
worker imports the caller's main module (not as `__main__`), so a script must be importable.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

PRELOAD = ["builder.runs", "builder.build"]  # the modules of every work function, and what they import
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


def imap(work: Callable[[T], R], items: Iterable[T], jobs: int) -> Iterator[R]:
    """`map(work, items)`, in `jobs` worker processes when jobs > 1 (or as Ray tasks)."""
    if _engine == "ray":
        from builder import ray_engine

        yield from ray_engine.imap(work, items)
        return
    if jobs <= 1:
        yield from map(work, items)
        return
    with start_context().Pool(jobs) as pool:
        yield from pool.imap(work, items, chunksize=1)


def start_context() -> multiprocessing.context.BaseContext:
    """The fork server where there is one (POSIX), else the platform's default (spawn)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context()
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context
