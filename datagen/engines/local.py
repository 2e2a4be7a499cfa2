"""The local engine: shards on forked processes of this machine (``--workers``)."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from datagen.engines import Setup
from datagen.engines.processes import collector_tuned, default_workers, forked_pool
from datagen.seeding import Shard

J = TypeVar("J")
T = TypeVar("T")
R = TypeVar("R")

SHARDS_AHEAD = 4
"""Shards in flight per worker: the run's memory is a few shards, however long it is."""


class LocalEngine:
    """Forked worker processes; one worker (or one shard) runs in this process."""

    name = "local"

    def map_shards(
        self, task: Callable[[J, Shard], R], job: J, shards: Sequence[Shard], *, workers: int | None
    ) -> Iterator[R]:
        """Yield ``task(job, shard)`` for every shard, in order."""
        count = min(workers or default_workers(), len(shards))
        if count <= 1:
            with collector_tuned():
                for shard in shards:
                    yield task(job, shard)
            return
        with forked_pool(count) as pool:
            yield from in_order(pool, partial(task, job), shards, limit=SHARDS_AHEAD * count)

    def run_ordered(
        self,
        task: Callable[[T], R],
        items: Iterable[T],
        *,
        workers: int | None,
        ahead: int,
        setup: Setup | None,
    ) -> Iterator[R]:
        """Yield ``task(item)`` in order, at most ``ahead`` results per worker made ahead.

        ``setup`` is installed here before the workers are forked: they inherit it.
        """
        if setup is not None:
            install, state = setup
            install(state)
        count = workers or default_workers()
        if count <= 1:
            with collector_tuned():
                for item in items:
                    yield task(item)
            return
        with forked_pool(count) as pool:
            yield from in_order(pool, task, items, limit=ahead * count)

    def everywhere(self, function: Callable[[], None]) -> None:
        """Nothing to do: the forked workers of a run end with it."""


LOCAL = LocalEngine()


def in_order(
    pool: ProcessPoolExecutor, task: Callable[[T], R], items: Iterable[T], *, limit: int
) -> Iterator[R]:
    """Yield ``task(item)`` for every item, in order, with at most ``limit`` submitted ahead."""
    pending: deque[Future[R]] = deque()
    iterator = iter(items)
    for item in iterator:
        pending.append(pool.submit(task, item))
        if len(pending) >= limit:
            break
    while pending:
        result = pending.popleft().result()
        following = next(iterator, _END)
        if following is not _END:
            pending.append(pool.submit(task, following))
        yield result


_END: Any = object()
