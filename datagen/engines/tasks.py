"""What a Dask worker runs for one shard: the shard function, one at a time per process.

Shard functions keep per-process state (a compiled job, a random state they
reseed per shard, an installed plan), so a worker with several threads runs
its shards one after another; give workers one thread each (``--nthreads 1``)
and as many processes as cores. Imported on the workers: no Dask here.
"""

from __future__ import annotations

import copy
import gc
import threading
from typing import Any, Callable, Sequence, TypeVar

from datagen.engines.processes import THRESHOLD
from datagen.seeding import Shard

J = TypeVar("J")
T = TypeVar("T")
R = TypeVar("R")

_lock = threading.Lock()
_installed: dict[Callable[[Any], None], Any] = {}
_tuned: list[bool] = []


def _tune() -> None:
    """Collect after 50,000 allocations instead of 700, as the local workers do (shards
    make many short-lived dicts that reference counting frees anyway)."""
    if not _tuned:
        gc.set_threshold(*THRESHOLD)
        _tuned.append(True)


def call_shards(task: Callable[[J, Shard], R], job: J, shards: Sequence[Shard]) -> list[R]:
    """``task(job, shard)`` for each of ``shards`` on a worker (a task runs a few shards)."""
    with _lock:
        _tune()
        return [task(job, shard) for shard in shards]


def call_items(
    install: Callable[[Any], None] | None, state: Any, task: Callable[[T], R], items: Sequence[T]
) -> list[R]:
    """``task(item)`` for each item on a worker, after ``install(state)`` if this process
    has not done it."""
    with _lock:
        _tune()
        if install is not None and _installed.get(install) is not state:
            # A copy: the state received stays as it came (a plan fills caches of functions
            # that can't be pickled), as another worker may fetch it from this one.
            install(copy.deepcopy(state))
            _installed[install] = state
        return [task(item) for item in items]


def identity(value: T) -> T:
    """``value``: a task whose result is data the workers share (made again if lost)."""
    return value
