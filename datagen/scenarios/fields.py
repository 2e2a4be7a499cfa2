"""Column fields only a scenario has: a row's place, its children, what records give.

A scenario knows what a document run does not: who owns whom. These specs
read it from the :class:`datagen.scenarios.lineage.ScenarioLineage`:

- :class:`RowIndex`, :class:`Position`, :class:`ParentIndex`: a template's
  ``{index}``, ``{n}`` and ``{parent_index}``;
- :class:`ChildCount` and :class:`ChildExtreme`: a parent's number of
  children of an entity, and the latest (or earliest) of a field of theirs
  (``last_run_at: {max: job_run.started_at}``);
- :class:`InOrder`: a field's values sorted among siblings, so that a
  parent's n-th child has the n-th smallest (runs start one after another);
- :class:`Given`: the values explicit records give, over the generated ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from datagen.fields import NULL_TIME, Batch, Columns, constant, evaluate, is_column, objects
from datagen.fields import python_values, to_times
from datagen.scenarios.lineage import ScenarioLineage
from datagen.scenarios.shard_columns import ShardColumns
from datagen.specs import Emitter, Spec


def _lineage(batch: Batch) -> ScenarioLineage:
    lineage = batch.lineage
    assert isinstance(lineage, ScenarioLineage)
    return lineage


@dataclass(frozen=True)
class RowIndex(Spec):
    """The row's 0-based index in its entity (a template's ``{index}``)."""

    kind = "index"


@dataclass(frozen=True)
class Position(Spec):
    """The row's 1-based place among its parent's generated children (``{n}``)."""

    kind = "n"


@dataclass(frozen=True)
class ParentIndex(Spec):
    """The row's parent row (``{parent_index}``, ``{org_index}``)."""

    kind = "parent_index"


@dataclass(frozen=True)
class ChildCount(Spec):
    """How many rows of ``entity`` (built ``per`` this one) the row has."""

    entity: str
    kind = "count"


@dataclass(frozen=True)
class ChildExtreme(Spec):
    """The largest (``how="max"``) or smallest of ``path`` over the row's ``entity`` children."""

    entity: str
    path: str
    how: str = "max"
    kind = "children"


@dataclass(frozen=True)
class InOrder(Spec):
    """``item``'s values, sorted among siblings: the n-th child gets the n-th smallest."""

    item: Any
    kind = "in_order"


@dataclass(frozen=True, eq=False)
class Given(Spec):
    """``item``'s values, except where a record gives one (``values``: row -> value)."""

    item: Any
    values: dict[int, Any] = field(default_factory=dict)
    kind = "given"
    transparent = True  # drawn row by row, it is its item (the records' values are set after)

    def emit(self, c: Emitter) -> str:
        return c.expr(self.item)  # drawn row by row: the record's value is set over it


def _same(item: Any, batch: Batch, path: str) -> np.ndarray:
    """The values of a wrapped spec, drawn as if it stood at ``path`` alone (the same seeds)."""
    return evaluate(item, batch, path) if isinstance(item, Spec) else constant(item, batch)


@evaluate.register
def _index(spec: RowIndex, batch: Batch, path: str) -> np.ndarray:
    return objects(batch.rows.tolist())


@evaluate.register
def _position(spec: Position, batch: Batch, path: str) -> np.ndarray:
    _, position = _lineage(batch).parents_and_positions(batch.columns.entity, batch.rows)
    return objects(position.tolist())


@evaluate.register
def _parent_index(spec: ParentIndex, batch: Batch, path: str) -> np.ndarray:
    parents = _lineage(batch).parents(batch.columns.entity, batch.rows)
    return objects([p if p >= 0 else None for p in parents.tolist()])


def children_of(batch: Batch, entity: str) -> tuple[np.ndarray, np.ndarray]:
    """Every child row of ``entity`` of the batch's rows, and which batch row owns each."""
    lineage = _lineage(batch)
    low, high = lineage.siblings(entity, batch.rows)
    counts = high - low
    owners = np.repeat(np.arange(batch.size), counts)
    starts = np.repeat(low - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    rows = starts + np.arange(int(counts.sum()))
    records = lineage.entity(entity).record_parents
    if records:
        place = {row: n for n, row in enumerate(batch.rows.tolist())}
        extra = [(r, place[p]) for r, p in sorted(records.items()) if p in place]
        if extra:
            rows = np.concatenate((rows, np.array([r for r, _ in extra], dtype=np.int64)))
            owners = np.concatenate((owners, np.array([o for _, o in extra], dtype=np.int64)))
    return rows, owners


@evaluate.register
def _count(spec: ChildCount, batch: Batch, path: str) -> np.ndarray:
    _, owners = children_of(batch, spec.entity)
    return objects(np.bincount(owners, minlength=batch.size).tolist())


@evaluate.register
def _extreme(spec: ChildExtreme, batch: Batch, path: str) -> np.ndarray:
    rows, owners = children_of(batch, spec.entity)
    values = _children_values(_lineage(batch).columns(spec.entity), spec.path, rows)
    if values.dtype == np.int64 or not len(values):
        times = to_times(values) if len(values) else np.zeros(0, dtype=np.int64)
        if spec.how == "max":
            result = np.full(batch.size, NULL_TIME, dtype=np.int64)
            np.maximum.at(result, owners, times)
        else:
            top = np.iinfo(np.int64).max
            result = np.full(batch.size, top, dtype=np.int64)
            np.minimum.at(result, owners, np.where(times == NULL_TIME, top, times))
            result[result == top] = NULL_TIME
        return result
    best: list[Any] = [None] * batch.size
    pick = max if spec.how == "max" else min
    for owner, value in zip(owners.tolist(), values.tolist()):
        if value is not None:
            best[owner] = value if best[owner] is None else pick(best[owner], value)
    return objects(best)


@evaluate.register
def _in_order(spec: InOrder, batch: Batch, path: str) -> np.ndarray:
    lineage = _lineage(batch)
    entity = batch.columns.entity
    parents, position = lineage.parents_and_positions(entity, batch.rows)
    records = len(lineage.entity(entity).records)
    generated = (batch.rows >= records) & (parents >= 0)
    if not generated.all():
        result = _same(spec.item, batch, path).copy()
        if not generated.any():
            return result
    owners, inverse = np.unique(parents[generated], return_inverse=True)
    low, high = lineage.siblings(entity, owners)
    counts = high - low
    group = np.repeat(np.arange(len(owners)), counts)
    rows = np.repeat(low - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    rows = rows + np.arange(int(counts.sum()))
    siblings = _unsorted(batch.columns, spec.item, path, rows)
    if siblings.dtype == np.int64:
        order = np.lexsort((siblings, group))
    else:
        keys = [(v is not None, v) for v in siblings.tolist()]
        order = np.array(
            sorted(range(len(rows)), key=lambda n: (group[n], keys[n])), dtype=np.int64
        )
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    picked = order[first[inverse] + position[generated] - 1]
    if generated.all():  # every row is a sibling: the batch's own values are among theirs
        ordered: np.ndarray = siblings[picked]
        return ordered
    result[generated] = siblings[picked]
    return result


def _unsorted(columns: Columns, item: Any, path: str, rows: np.ndarray) -> np.ndarray:
    """An ``in_order`` field's values before sorting (its item's) for ``rows``, whole shards kept.

    They are what the item gives at ``path`` (the in_order's own seeds), as ``_same`` draws them.
    """
    if isinstance(columns, ShardColumns):
        return columns.gather(f"{path}#unsorted", rows, lambda batch: _same(item, batch, path))
    return _same(item, Batch(columns, rows), path)


def _children_values(columns: Columns, path: str, rows: np.ndarray) -> np.ndarray:
    """Field ``path`` of ``rows``, all the children of some parents, maybe in another order.

    An ``in_order`` field only orders its values among siblings: over all of a
    parent's children they are the same values, so its largest or smallest is
    read from the values before sorting, which costs no sort and no siblings.
    """
    leaf = columns.leaves.get(path)
    given = leaf.values if isinstance(leaf, Given) else None
    inner = leaf.item if isinstance(leaf, Given) else leaf
    if not isinstance(inner, InOrder):
        return columns.values(path, rows)
    values = _unsorted(columns, inner.item, path, rows)
    return _with_given(values, rows, given) if given else values


@evaluate.register
def _given(spec: Given, batch: Batch, path: str) -> np.ndarray:
    return _with_given(_same(spec.item, batch, path), batch.rows, spec.values)


def _with_given(values: np.ndarray, rows: np.ndarray, given: dict[int, Any]) -> np.ndarray:
    """``values`` of ``rows``, with the value a record gives where it gives one (a copy)."""
    result = values.copy()
    times = result.dtype == np.int64
    for n, row in enumerate(rows.tolist()):
        if row in given:
            value = given[row]
            result[n] = to_times(objects([value]))[0] if times else value
    return result


@is_column.register(RowIndex)
@is_column.register(Position)
@is_column.register(ParentIndex)
@is_column.register(ChildCount)
@is_column.register(ChildExtreme)
def _always(spec: Spec, columns: Columns) -> bool:
    return True


@is_column.register(InOrder)
@is_column.register(Given)
def _inner(spec: InOrder | Given, columns: Columns) -> bool:
    return not isinstance(spec.item, Spec) or is_column(spec.item, columns)


__all__ = [
    "ChildCount",
    "ChildExtreme",
    "Given",
    "InOrder",
    "ParentIndex",
    "Position",
    "RowIndex",
    "python_values",
]
