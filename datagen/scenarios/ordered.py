"""Run shard tasks in order with a bounded number in flight, so memory stays flat.

``concurrent.futures``' ``map`` submits every task at once and keeps every
result until it is consumed; a slow database would let results pile up. Here
at most ``ahead × workers`` shards (two per worker unless told) are pending at any time,
on the current engine (local processes, or a Dask cluster: :mod:`datagen.engines`).
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, TypeVar

from datagen.engines import Setup, current

T = TypeVar("T")
R = TypeVar("R")


def run_ordered(
    task: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int | None = None,
    ahead: int = 2,
    setup: Setup | None = None,
) -> Iterator[R]:
    """Yield ``task(item)`` for every item, in order; forked workers when more than one.

    At most ``ahead`` results per worker are made before they are used.
    ``setup`` (``(install, state)``) is called as ``install(state)`` in every
    process that runs tasks, before its first.
    """
    return current().run_ordered(task, items, workers=workers, ahead=ahead, setup=setup)
