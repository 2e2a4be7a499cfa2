"""Shards made in the calling process get the collector a forked worker has, then it is restored."""

from __future__ import annotations

import gc

from datagen.engines.local import LOCAL
from datagen.engines.processes import THRESHOLD
from datagen.seeding import Shard


def _threshold(job: None, shard: Shard) -> tuple[int, int, int]:
    return gc.get_threshold()


def test_one_worker_makes_its_shards_with_the_workers_collector_and_restores_it() -> None:
    before = gc.get_threshold()
    assert before != THRESHOLD  # Python's default (700, 10, 10), or the test shows nothing
    shards = [Shard(0, 0, 10, 1), Shard(1, 10, 20, 2)]
    seen = list(LOCAL.map_shards(_threshold, None, shards, workers=1))
    assert seen == [THRESHOLD, THRESHOLD]
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0  # what was frozen for the run is back in sight


def test_run_ordered_in_this_process_restores_the_collector() -> None:
    before = gc.get_threshold()
    seen = list(
        LOCAL.run_ordered(lambda _: gc.get_threshold(), [1, 2], workers=1, ahead=1, setup=None)
    )
    assert seen == [THRESHOLD, THRESHOLD]
    assert gc.get_threshold() == before
