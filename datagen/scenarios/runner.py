"""Run shard tasks in order with a bounded number in flight, so memory stays flat.

``concurrent.futures``' ``map`` submits every task at once and keeps every
result until it is consumed; a slow database would let results pile up. Here
at most ``ahead × workers`` shards (two per worker unless told) are pending at any time.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from typing import Callable, Iterable, Iterator, TypeVar

from datagen.parallel import default_workers, forked_pool

T = TypeVar("T")
R = TypeVar("R")


def run_ordered(
    task: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int | None = None,
    ahead: int = 2,
) -> Iterator[R]:
    """Yield ``task(item)`` for every item, in order; forked workers when more than one.

    At most ``ahead`` results per worker are made before they are used.
    """
    count = workers or default_workers()
    if count <= 1:
        for item in items:
            yield task(item)
        return
    with forked_pool(count) as pool:
        pending: deque[Future[R]] = deque()
        iterator = iter(items)
        for item in iterator:
            pending.append(pool.submit(task, item))
            if len(pending) >= ahead * count:
                break
        while pending:
            result = pending.popleft().result()
            following = next(iterator, None)
            if following is not None:
                pending.append(pool.submit(task, following))
            yield result
