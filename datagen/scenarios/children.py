"""How many children each parent row has, without holding a number per parent.

An entity built ``per`` a parent draws its children counts a parent shard
(1,000 parents) at a time, from a random state derived from ``(seed,
entity, "per", shard)``. :class:`Children` draws them all once, to know the
totals, and keeps one running total per parent *shard*; the counts of a
shard are drawn again when a row needs them (a few shards stay cached), so
memory does not grow with the number of parents. Child ``j`` of the entity
belongs to parent ``p`` when ``offset(p) <= j < offset(p + 1)``, ``offset``
being the running total of the counts.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable

import numpy as np

from datagen.scenarios.distributions import Distribution
from datagen.seeding import SHARD_SIZE, derive_seed

CACHED = 8  # parent shards whose running totals are kept (a row shard spans one or two)


class Children:
    """The children counts of ``parents`` parent rows of entity ``name``."""

    def __init__(
        self,
        *,
        seed: int,
        name: str,
        distribution: Distribution,
        parents: int,
        minimum: tuple[int, Callable[[np.ndarray], np.ndarray]] | None = None,
    ):
        self.seed, self.name, self.distribution, self.parents = seed, name, distribution, parents
        self.minimum = minimum  # (count, which parent rows qualify): at least count children
        totals = np.zeros(-(-parents // SHARD_SIZE), dtype=np.int64)
        low, high, total = None, None, 0
        for shard in range(len(totals)):
            counts = self.shard_counts(shard)
            totals[shard] = counts.sum()
            low = int(counts.min()) if low is None else min(low, int(counts.min()))
            high = int(counts.max()) if high is None else max(high, int(counts.max()))
            total += int(totals[shard])
        # The first child of each parent shard (and, last, the number of children).
        self.starts: np.ndarray = np.concatenate(([0], np.cumsum(totals)))
        self.total = total
        self.min, self.max = low or 0, high or 0
        self.mean = total / parents if parents else 0.0
        self._offsets: OrderedDict[int, np.ndarray] = OrderedDict()

    def shard_counts(self, shard: int) -> np.ndarray:
        """The children of each parent of parent shard ``shard``."""
        start = shard * SHARD_SIZE
        size = min(start + SHARD_SIZE, self.parents) - start
        rng = np.random.default_rng(derive_seed(self.seed, self.name, "per", shard))
        counts: np.ndarray = self.distribution.sample(rng, size)
        if self.minimum is not None:
            least, qualifies = self.minimum
            raised = qualifies(np.arange(start, start + size, dtype=np.int64))
            counts[raised] = np.maximum(counts[raised], least)
        return counts

    def counts(self) -> np.ndarray:
        """Every parent's children (a number per parent: for reports and tests)."""
        shards = [self.shard_counts(shard) for shard in range(len(self.starts) - 1)]
        return np.concatenate(shards) if shards else np.zeros(0, dtype=np.int64)

    def owners(self, children: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each child's parent row and its 1-based position among its siblings."""
        parents = np.empty(len(children), dtype=np.int64)
        position = np.empty(len(children), dtype=np.int64)
        shards = np.searchsorted(self.starts, children, side="right") - 1
        for shard in np.unique(shards).tolist():
            these = shards == shard
            offsets = self._offsets_of(shard)
            local = np.searchsorted(offsets, children[these], side="right") - 1
            parents[these] = shard * SHARD_SIZE + local
            position[these] = children[these] - offsets[local] + 1
        return parents, position

    def ranges(self, parents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The children ``[low, high)`` of each of ``parents`` (all valid parent rows)."""
        low = np.empty(len(parents), dtype=np.int64)
        high = np.empty(len(parents), dtype=np.int64)
        shards = parents // SHARD_SIZE
        for shard in np.unique(shards).tolist():
            these = shards == shard
            offsets = self._offsets_of(shard)
            local = parents[these] - shard * SHARD_SIZE
            low[these], high[these] = offsets[local], offsets[local + 1]
        return low, high

    def _offsets_of(self, shard: int) -> np.ndarray:
        """Running totals of parent shard ``shard`` (one more than its parents), cached."""
        offsets = self._offsets.get(shard)
        if offsets is None:
            counts = self.shard_counts(shard)
            offsets = self.starts[shard] + np.concatenate(([0], np.cumsum(counts)))
            self._offsets[shard] = offsets
            if len(self._offsets) > CACHED:
                self._offsets.popitem(last=False)
        else:
            self._offsets.move_to_end(shard)
        return offsets
