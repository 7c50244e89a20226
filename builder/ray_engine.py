"""The Ray engine: the same work functions as the local engine, run as Ray tasks on a cluster.

`imap(work, items)` is the Ray counterpart of running `work` over `items` in local worker
processes: each item is one task, results come back in input order, and a task whose worker
dies is retried by Ray, so the output never depends on where or how often a task ran. Only
module-level functions of `builder` are sent, so the workers run exactly the local code.

Ray is optional (`pip install 'newsset[ray]'`); without it `--engine ray` says how to get it.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

INSTALL_HINT = "pip install 'newsset[ray]'"
TASK_RETRIES = 3
LOOPBACK = "127.0.0.1"


class EngineError(Exception):
    """The engine cannot run: Ray is missing, or the cluster cannot be reached."""


def ray_module() -> Any:
    """The `ray` package, or an EngineError that says how to install it."""
    try:
        import ray
    except ImportError as err:
        raise EngineError(f"--engine ray needs Ray, which is not installed: {INSTALL_HINT}") from err
    return ray


@contextmanager
def session(address: str | None = None, num_cpus: int | None = None) -> Iterator[Any]:
    """Connect to the cluster at `address`, or start a local Ray on this machine (loopback only).

    A session this function started is shut down at the end; one that was running already (a
    test's cluster, a notebook's) is left running.
    """
    if not address:  # a Ray started here for one machine listens on loopback only
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = ray_module()
    started = False
    if not ray.is_initialized():
        options: dict[str, Any] = {"log_to_driver": False, "include_dashboard": False}
        if address:
            options["address"] = address
        else:  # "local": a new Ray of our own, never one that happens to run here already
            options.update(address="local", num_cpus=num_cpus or os.cpu_count(), _node_ip_address=LOOPBACK)
        try:
            ray.init(**options)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise EngineError(
                f"cannot start or reach Ray{f' at {address}' if address else ''}: {err}"
            ) from err
        started = True
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def apply(work: Callable[[T], R], item: T) -> R:
    """The task every item runs as: the same call the local engine makes."""
    return work(item)


def imap(work: Callable[[T], R], items: Iterable[T], window: int | None = None) -> Iterator[R]:
    """`map(work, items)` as Ray tasks, in input order, with at most `window` tasks in flight.

    The window bounds the results held by the driver, as the local engine's pool does.
    """
    ray = ray_module()
    task = ray.remote(max_retries=TASK_RETRIES)(apply)
    shared = ray.put(work)  # sent once; a functools.partial of a builder function travels too
    window = window or max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
    pending: deque[Any] = deque()
    for item in items:
        pending.append(task.remote(shared, item))
        if len(pending) >= window:
            yield ray.get(pending.popleft())
    while pending:
        yield ray.get(pending.popleft())
