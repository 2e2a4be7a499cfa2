"""Other rows' columns, computed a whole shard at a time and kept for the next shards.

A row's fields read the rows its references point to (a run starts after
its job was created, which was after its pipeline and engine, which were
after their org…) and its siblings (runs in order). A parent's children are
consecutive rows, so one shard of children reads one or two shards of each
entity it reaches, and the next shard reads the same ones. :class:`ShardColumns`
computes such a read for every row of the shards it touches and keeps the
last few shards of each entity, so each column of a shard is computed about
once instead of once per set of rows that asks for it.

A column's value for a row is a pure function of (seed, entity, field, row)
(:mod:`datagen.fields`): it is the same whichever other rows are computed
with it, so a value read from a kept shard is the value computed alone.
Reads that touch many shards (references picking anywhere in a large
entity) are computed for their rows only, as without the cache.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from datagen.columns import keys_of
from datagen.fields import Batch, Columns, objects
from datagen.seeding import SHARD_SIZE

KEPT = 6
"""Shards of one entity whose columns are kept (a shard's reads reach one or two of each)."""
SPREAD = 3
"""A read of rows in more shards than this is computed for its rows only (not kept)."""


class ShardColumns(Columns):
    """:class:`Columns` of an entity of ``total`` rows whose reads are served by whole shards."""

    def __init__(self, *args: Any, total: Callable[[], int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.total = total  # the entity's rows (known once it is planned)
        self._shards: OrderedDict[int, tuple[Batch, dict[str, np.ndarray]]] = OrderedDict()
        self._shared: set[str] = set()  # keys whose values hold dicts or lists: never kept

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_shards"] = OrderedDict()  # a cache: not sent to another process
        return state

    def values(self, path: str, rows: np.ndarray) -> np.ndarray:
        return self.gather(path, rows, lambda batch: batch.value(path))

    def keys(self, rows: np.ndarray) -> np.ndarray:
        """The keys of ``rows`` (``entity_key``), as an object array."""
        return self.gather("#key", rows, self._keys)

    def _keys(self, batch: Batch) -> np.ndarray:
        return objects(keys_of(self.run_seed, self.entity, batch.rows.tolist()))

    def batch_of(self, start: int, stop: int) -> Batch:
        """The batch of rows ``[start, stop)``: a kept shard's when they are one."""
        total = self.total()
        if start % SHARD_SIZE or stop != min(start + SHARD_SIZE, total):
            return Batch(self, np.arange(start, stop, dtype=np.int64))
        return self._shard(start // SHARD_SIZE, total)[0]

    def gather(
        self, key: str, rows: np.ndarray, compute: Callable[[Batch], np.ndarray]
    ) -> np.ndarray:
        """``compute(Batch(self, rows))``, read from the whole shards of ``rows``.

        ``key`` names what ``compute`` gives (a field's path, or a path and
        what is asked of it): the same key must always give the same values.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows) or key in self._shared:
            return _each_once(rows, self, compute)
        total = self.total()
        if int(rows.min()) < 0 or int(rows.max()) >= total:
            return _each_once(rows, self, compute)
        shards = rows // SHARD_SIZE
        first, last = int(shards.min()), int(shards.max())
        touched = np.unique(shards) if first != last else np.array([first])
        if len(touched) > SPREAD:
            return _each_once(rows, self, compute)
        parts = [self._shard_values(shard, total, key, compute) for shard in touched.tolist()]
        if key in self._shared:
            return _each_once(rows, self, compute)
        if first == last:
            one: np.ndarray = parts[0][rows - first * SHARD_SIZE]
            return one
        joined = np.concatenate(parts)  # touched's shards one after the other
        starts = np.concatenate(([0], np.cumsum([len(part) for part in parts])[:-1]))
        place = np.searchsorted(touched, shards)
        found: np.ndarray = joined[starts[place] + rows - shards * SHARD_SIZE]
        return found

    def _shard(self, shard: int, total: int) -> tuple[Batch, dict[str, np.ndarray]]:
        """Shard ``shard``'s batch and what was computed of it (kept, the oldest dropped)."""
        kept = self._shards.get(shard)
        if kept is None or kept[0].size != min(SHARD_SIZE, total - shard * SHARD_SIZE):
            start = shard * SHARD_SIZE
            rows = np.arange(start, min(start + SHARD_SIZE, total), dtype=np.int64)
            kept = self._shards[shard] = (Batch(self, rows), {})
            if len(self._shards) > KEPT:
                self._shards.popitem(last=False)
        else:
            self._shards.move_to_end(shard)
        return kept

    def _shard_values(
        self, shard: int, total: int, key: str, compute: Callable[[Batch], np.ndarray]
    ) -> np.ndarray:
        batch, computed = self._shard(shard, total)
        found = computed.get(key)
        if found is None:
            found = computed[key] = compute(batch)
            if found.dtype == object and _holds_containers(found):
                self._shared.add(key)  # the same dict in two rows' documents: compute anew
        return found


def _each_once(
    rows: np.ndarray, columns: Columns, compute: Callable[[Batch], np.ndarray]
) -> np.ndarray:
    """``compute`` of ``rows`` (repeated rows computed once)."""
    unique, inverse = np.unique(rows, return_inverse=True)
    if len(unique) == len(rows):
        return compute(Batch(columns, rows))
    found: np.ndarray = compute(Batch(columns, unique))[inverse]
    return found


def _holds_containers(values: np.ndarray) -> bool:
    return any(issubclass(kind, (dict, list)) for kind in set(map(type, values.tolist())))


__all__ = ["KEPT", "SPREAD", "ShardColumns"]
