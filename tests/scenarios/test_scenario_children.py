"""Children per parent, drawn a parent shard at a time (datagen.scenarios.children)."""

from __future__ import annotations

import numpy as np
import pytest

from datagen.scenarios.children import CACHED, Children
from datagen.scenarios.distributions import Distribution
from datagen.seeding import SHARD_SIZE


@pytest.fixture(params=[("poisson", {"lam": 1.3}), ("uniform", {"low": 0, "high": 3})])
def children(request: pytest.FixtureRequest) -> Children:
    kind, params = request.param
    return Children(seed=5, name="job_run", distribution=Distribution(kind, params), parents=3_456)


def test_owners_and_ranges_are_those_of_the_running_totals(children: Children) -> None:
    counts = children.counts()
    assert len(counts) == 3_456 and children.total == counts.sum()
    offsets = np.concatenate(([0], np.cumsum(counts)))
    every = np.arange(children.total)
    parents, position = children.owners(every)
    expected = np.searchsorted(offsets, every, side="right") - 1
    assert (parents == expected).all()
    assert (position == every - offsets[expected] + 1).all()
    rows = np.random.default_rng(1).integers(0, 3_456, 5_000)
    low, high = children.ranges(rows)
    assert (low == offsets[rows]).all() and (high == offsets[rows + 1]).all()
    assert len(children.starts) == 5  # a running total per parent shard, not per parent


def test_statistics_are_those_of_the_counts(children: Children) -> None:
    counts = children.counts()
    assert (children.min, children.max) == (counts.min(), counts.max())
    assert children.mean == pytest.approx(counts.mean())


def test_the_same_seed_draws_the_same_counts_and_only_a_few_shards_are_kept() -> None:
    make = lambda seed: Children(  # noqa: E731
        seed=seed, name="user", distribution=Distribution("poisson", {"lam": 4}), parents=20_500
    )
    first, again, other = make(1), make(1), make(2)
    assert (first.counts() == again.counts()).all() and (first.counts() != other.counts()).any()
    first.ranges(np.arange(0, 20_500, SHARD_SIZE // 2))  # every parent shard, twice
    assert len(first._offsets) == CACHED


def test_no_parents_no_children() -> None:
    empty = Children(seed=1, name="x", distribution=Distribution("fixed", {"value": 2}), parents=0)
    assert (empty.total, empty.min, empty.max, empty.mean) == (0, 0, 0, 0.0)
    assert len(empty.counts()) == 0
