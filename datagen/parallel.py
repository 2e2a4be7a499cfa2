"""Run shard functions on local processes, results in shard order."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Callable, Iterator, Sequence, TypeVar

from datagen.seeding import Shard

J = TypeVar("J")
R = TypeVar("R")


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_shards(
    task: Callable[[J, Shard], R],
    job: J,
    shards: Sequence[Shard],
    *,
    workers: int | None = None,
) -> Iterator[R]:
    """Yield ``task(job, shard)`` for every shard, in order.

    With one worker (or one shard) the shards run in this process; otherwise
    on a pool of forked processes. The output is the same either way: a
    shard's result depends on the job and the shard only.
    """
    count = min(workers or default_workers(), len(shards))
    if count <= 1:
        for shard in shards:
            yield task(job, shard)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        yield from pool.map(partial(task, job), shards)
