"""The writers' histograms: values recorded a batch at a time with numpy, percentiles read with
numpy, give exactly what ``hdrh``'s own ``record_value`` and ``get_value_at_percentile`` give."""

from __future__ import annotations

import random
from array import array

from datagen.workloads.metrics import (
    HIGHEST_US,
    LOWEST_US,
    Commits,
    Stats,
    histogram,
    record_all,
    value_at_percentile,
)

EDGES = [-5, 0, 1, 2, 2047, 2048, 2049, 4095, 4096, 4097, 2**31 - 1, 2**31, 2**32 - 1, 2**32]
EDGES += [HIGHEST_US - 1, HIGHEST_US, 10**12]


def test_a_batch_records_what_each_value_would() -> None:
    rng = random.Random(5)
    for _ in range(12):
        values = [
            int(rng.lognormvariate(rng.uniform(0, 20), rng.uniform(0.1, 4)))
            for _ in range(rng.randint(1, 5000))
        ] + EDGES
        one_by_one, batched = histogram(), histogram()
        for value in values:
            one_by_one.record_value(min(max(value, LOWEST_US), HIGHEST_US))
        half = len(values) // 2
        record_all(batched, array("q", values[:half]))
        record_all(batched, array("q", values[half:]))
        assert list(batched.counts) == list(one_by_one.counts)
        assert batched.get_total_count() == one_by_one.get_total_count()
        assert batched.get_min_value() == one_by_one.get_min_value()
        assert batched.get_max_value() == one_by_one.get_max_value()
        assert batched.encode() == one_by_one.encode()
        for q in (0.0, 0.1, 1.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0):
            assert value_at_percentile(batched, q) == one_by_one.get_value_at_percentile(q)
    empty = histogram()
    assert value_at_percentile(empty, 99.0) == empty.get_value_at_percentile(99.0) == 0


def test_commits_handed_over_at_once_count_as_each_would() -> None:
    t0, speed = 1000.0, 2.0
    each, at_once = Stats(6), Stats(6)
    commits = Commits(t0, speed)
    for index, (due, sent, ended) in enumerate(
        [(0.0, 1000.0, 1000.004), (0.5, 1000.3, 1000.31), (2.5, 1001.26, 1001.9)]
    ):
        intended = t0 + due / speed
        each.committed(index * 2, 1, int(ended - t0), ended - intended, ended - sent)
        commits.index.append(index * 2)
        commits.due.append(due)
        commits.sent.append(sent)
        commits.ended.append(ended)
    held = commits.index  # the arrays are emptied in place: a caller may hold them
    at_once.committed_many(commits)
    assert len(held) == 0 and not commits.ended
    assert bytes(at_once.status) == bytes(each.status) == bytes([1, 0, 1, 0, 1, 0])
    assert (at_once.transactions, at_once.rows) == (each.transactions, each.rows) == (3, 3)
    assert list(at_once.latency.counts) == list(each.latency.counts)
    assert list(at_once.service.counts) == list(each.service.counts)
    assert at_once.timeline.keys() == each.timeline.keys() == {0, 1}
    for second, bucket in each.timeline.items():
        assert at_once.timeline[second][:2] == bucket[:2]
        assert abs(at_once.timeline[second][2] - bucket[2]) < 1e-12
        assert at_once.timeline[second][3] == bucket[3]
