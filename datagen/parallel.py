"""Run shard functions on the current engine (:mod:`datagen.engines`), results in shard order."""

from __future__ import annotations

from typing import Callable, Iterator, Sequence, TypeVar

from datagen.engines import current
from datagen.seeding import Shard

J = TypeVar("J")
R = TypeVar("R")


def map_shards(
    task: Callable[[J, Shard], R],
    job: J,
    shards: Sequence[Shard],
    *,
    workers: int | None = None,
) -> Iterator[R]:
    """Yield ``task(job, shard)`` for every shard, in order, on the current engine.

    Locally (the default) with one worker (or one shard) the shards run in
    this process, otherwise on a pool of forked processes; on a Dask cluster
    (:func:`datagen.engines.using`) as tasks. The output is the same either
    way: a shard's result depends on the job and the shard only. Producers
    reach it as :func:`datagen.driver.on_engine`.
    """
    return current().map_shards(task, job, shards, workers=workers)
