"""A scenario's lineage: which parent owns a row, which rows its references pick.

Rows are laid out per entity as ``[records…, generated…]``. A row of an
entity built ``per`` a parent belongs to the parent whose children range
holds it (:class:`datagen.scenarios.children.Children`); a record names its
parent by natural key. Another reference picks a row of its target entity,
anywhere or among the rows of the same parent (``same:``), all siblings
picking different rows with ``distinct: true``. Every pick is a pure
function of (seed, entity, field, row), so a row's references, and through
them its parents' fields, are known without building any other row.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from datetime import datetime
import numpy as np

from datagen.codes import field_seed
from datagen.counters import uniforms
from datagen.documents import get_provider
from datagen.lineage import Lineage, generic
from datagen.scenarios.entity_plan import EntityPlan, RefPlan, table_offset
from datagen.scenarios.shard_columns import ShardColumns
from datagen.seeding import derive_seed

SHUFFLED = 64  # targets of up to this many rows get a real shuffle per parent
CACHED = 32  # sets of rows whose parents are kept (one shard asks for them several times)


class ScenarioLineage(Lineage):
    """The rows of a planned scenario (see the module's docstring)."""

    def __init__(
        self, entities: dict[str, EntityPlan], *, seed: int, reference_date: datetime, locale: str
    ):
        super().__init__(run_seed=seed, reference_date=reference_date, locale=locale)
        self.entities = entities
        self._record_places: dict[str, tuple[np.ndarray, Counter[int]]] = {}
        self._parents: OrderedDict[tuple[str, bytes], tuple[np.ndarray, np.ndarray]] = OrderedDict()

    def entity(self, name: str) -> EntityPlan:
        return self.entities[name]

    def make_columns(self, entity: str) -> ShardColumns:
        found = self.entity(entity)
        return ShardColumns(
            found.template,
            total=lambda: self.entity(entity).total,
            entity=entity,
            provider=found.provider,
            lineage=self,
            table=found.provider,
            code_offset=table_offset(self.entities, entity),
            pools=lambda spec: list(spec.values(generic(self.locale))),  # type: ignore[operator]
        )

    def target(self, entity: str, field: str) -> str | None:
        return self.entity(entity).references_to().get(field)

    def created_field(self, entity: str) -> str | None:
        return get_provider(self.entity(entity).provider).created_field()

    def ref_rows(self, entity: str, field: str, rows: np.ndarray) -> np.ndarray:
        found = self.entity(entity)
        rows = np.asarray(rows, dtype=np.int64)
        if field == found.parent_field:
            return self.parents(entity, rows)
        ref = next((r for r in found.refs if r.field == field), None)
        if ref is None:
            return np.full(len(rows), -1, dtype=np.int64)
        parents = self.parents(entity, rows)
        if ref.distinct:
            chosen = self._distinct_picks(entity, ref, rows, parents)
        else:
            low, high = self.pick_range(ref.target, ref.same, parents)
            drawn = uniforms(field_seed(self.run_seed, entity, field, "ref"), rows)
            picks = low + np.floor(drawn * (high - low)).astype(np.int64)
            chosen = np.where(high > low, picks, -1)
        given = found.record_refs.get(field)
        if given:  # records that looked the row up by natural key
            for n in np.nonzero(rows < len(found.records))[0].tolist():
                chosen[n] = given.get(int(rows[n]), chosen[n])
        result: np.ndarray = chosen
        return result

    def field_of(self, entity: str, field: str, path: str, rows: np.ndarray) -> np.ndarray:
        """Column ``path`` of the rows ``field`` points to, read from their whole shards."""
        target = self.target(entity, field)
        if target is not None and path in (columns := self.columns(target)).leaves:
            picks = self.ref_rows(entity, field, rows)
            if len(picks) and int(picks.min()) >= 0:  # no row without a target
                return columns.values(path, picks)
        return super().field_of(entity, field, path, rows)

    def keys_of(self, entity: str, field: str, rows: np.ndarray) -> list[str | None]:
        """The keys ``field`` holds for ``rows``, the target's keys read from its whole shards."""
        target = self.target(entity, field)
        if target is not None:
            picks = self.ref_rows(entity, field, rows)
            if len(picks) and int(picks.min()) >= 0:
                columns = self.columns(target)
                assert isinstance(columns, ShardColumns)
                keys: list[str | None] = columns.keys(picks).tolist()
                return keys
        return super().keys_of(entity, field, rows)

    # Parents and siblings -------------------------------------------------------------

    def parents(self, entity: str, rows: np.ndarray) -> np.ndarray:
        """Each row's parent row (-1: the entity has no parent)."""
        return self.parents_and_positions(entity, rows)[0]

    def parents_and_positions(self, entity: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's parent row (-1: none) and its 1-based place among its generated siblings.

        A record's place is its row number plus one.
        """
        rows = np.asarray(rows, dtype=np.int64)
        key = (entity, rows.tobytes())
        cached = self._parents.get(key)
        if cached is None:
            cached = self._parents[key] = self._parents_and_positions(entity, rows)
            if len(self._parents) > CACHED:
                self._parents.popitem(last=False)
        return cached

    def _parents_and_positions(
        self, entity: str, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        found = self.entity(entity)
        position = rows + 1
        if found.parent is None:
            return np.full(len(rows), -1, dtype=np.int64), position
        records = len(found.records)
        parent_total = self.entity(found.parent).total
        drawn = uniforms(field_seed(self.run_seed, entity, "", "parent"), rows)
        parents = np.floor(drawn * parent_total).astype(np.int64)
        for n in np.nonzero(rows < records)[0].tolist():
            parents[n] = found.record_parents.get(int(rows[n]), parents[n])
        generated = rows >= records
        if found.children is not None and generated.any():
            owners, place = found.children.owners(rows[generated] - records)
            parents[generated] = owners
            position = position.copy()
            position[generated] = place
        return parents, position

    def siblings(self, entity: str, parents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The generated children ``[low, high)`` of each parent row (as rows of ``entity``)."""
        found = self.entity(entity)
        children = found.children
        records = len(found.records)
        if children is None or not children.parents:
            empty = np.full(len(parents), records, dtype=np.int64)
            return empty, empty.copy()
        valid = parents >= 0
        low, high = children.ranges(np.clip(parents, 0, children.parents - 1))
        low, high = np.where(valid, low, 0), np.where(valid, high, 0)
        return records + low, records + high

    def position_is(self, entity: str, key: str, rows: np.ndarray) -> np.ndarray:
        """Whether each row is the ``last`` (``first``) of its parent's generated children."""
        parents, position = self.parents_and_positions(entity, rows)
        low, high = self.siblings(entity, parents)
        generated = (rows >= len(self.entity(entity).records)) & (parents >= 0)
        if key == "first":
            is_first: np.ndarray = generated & (position == 1)
            return is_first
        is_last: np.ndarray = generated & (position == high - low)
        return is_last

    def record_children(self, entity: str, parents: np.ndarray) -> np.ndarray:
        """How many records of ``entity`` each parent row has."""
        found = self.entity(entity)
        per_parent = Counter(found.record_parents.values())
        return np.array([per_parent.get(p, 0) for p in parents.tolist()], dtype=np.int64)

    # Picks ------------------------------------------------------------------------------

    def pick_range(
        self, target: str, same: str | None, parents: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The rows ``[low, high)`` of ``target`` each row picks from (empty: none)."""
        found = self.entity(target)
        size = len(parents)
        if same is None:
            return np.zeros(size, dtype=np.int64), np.full(size, found.total, dtype=np.int64)
        children = found.children
        assert children is not None
        if not children.parents:
            return np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64)
        low, high = children.ranges(np.clip(parents, 0, children.parents - 1))
        high = np.where(parents >= 0, high, low)
        records = len(found.records)
        return records + low, records + high

    def _places(self, entity: str, rows: np.ndarray) -> np.ndarray:
        """Each row's 0-based place among all its parent's children: its records first."""
        found = self.entity(entity)
        parents, position = self.parents_and_positions(entity, rows)
        records = len(found.records)
        places: np.ndarray = position - 1
        if not records:
            return places
        if entity not in self._record_places:
            owners = self.parents_and_positions(entity, np.arange(records))[0].tolist()
            seen: Counter[int] = Counter()
            before = []
            for owner in owners:
                before.append(seen[owner])
                seen[owner] += 1
            self._record_places[entity] = (np.array(before, dtype=np.int64), seen)
        of_records, per_parent = self._record_places[entity]
        places = places.copy()
        mine = rows < records
        places[mine] = of_records[rows[mine]]
        after = [per_parent.get(p, 0) for p in parents[~mine].tolist()]
        places[~mine] += np.array(after, dtype=np.int64)
        return places

    def _distinct_picks(
        self, entity: str, ref: RefPlan, rows: np.ndarray, parents: np.ndarray
    ) -> np.ndarray:
        """Rows of ``ref.target`` such that the children of one parent pick different ones.

        Each parent ``p`` has its own order of the rows it picks from, drawn from
        ``p`` alone (so siblings agree whichever shard they are in), and its n-th
        child (its records first: see ``_places``) takes the n-th row of that
        order, coming round again after the last.
        The order is a shuffle of up to :data:`SHUFFLED` rows, beyond that
        ``(a·(n - 1) + b) mod width`` with ``a`` coprime with the width.
        """
        low, high = self.pick_range(ref.target, ref.same, parents)
        width = np.maximum(high - low, 1)
        step = self._places(entity, rows) % width
        seed = derive_seed(self.run_seed, entity, "distinct", ref.field)
        offset = np.empty(len(parents), dtype=np.int64)
        small = width <= SHUFFLED
        if small.any():
            offset[small] = _shuffled(parents[small], width[small], step[small], seed)
        if not small.all():
            offset[~small] = _affine(parents[~small], width[~small], step[~small], seed)
        chosen: np.ndarray = np.where(high > low, low + offset, -1)
        return chosen


def _shuffled(parents: np.ndarray, width: np.ndarray, step: np.ndarray, seed: int) -> np.ndarray:
    """Row ``step`` of a shuffle of ``range(width)`` drawn from each parent."""
    columns = np.arange(int(width.max()))
    sort_keys = _mixed(parents[:, None] * SHUFFLED + columns[None, :], seed)
    sort_keys[columns[None, :] >= width[:, None]] = np.iinfo(np.int64).max  # not rows
    order = np.argsort(sort_keys, axis=1, kind="stable")
    picked: np.ndarray = order[np.arange(len(parents)), step]
    return picked


def _affine(parents: np.ndarray, width: np.ndarray, step: np.ndarray, seed: int) -> np.ndarray:
    """``(a·step + b) mod width``, ``a`` coprime with ``width`` and ``b`` drawn from each parent."""
    a = 1 + _mixed(parents, seed + 1) % (width - 1)
    while (bad := np.gcd(a, width) != 1).any():
        a[bad] = a[bad] % width[bad] + 1  # reaches 1, coprime with anything
    b = _mixed(parents, seed + 2) % width
    if int(width.max()) < 3 * 10**9:  # a·step below 2**63
        result: np.ndarray = (a * step + b) % width
        return result
    values = zip(*(v.tolist() for v in (a, step, b, width)))
    return np.array([(x * y + z) % w for x, y, z, w in values], dtype=np.int64)


def _mixed(values: np.ndarray, seed: int) -> np.ndarray:
    """A well-mixed non-negative int64 of each value (splitmix64's finalizer), for ``seed``."""
    with np.errstate(over="ignore"):
        z = values.astype(np.uint64) + np.uint64(seed % 2**64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    mixed: np.ndarray = (z >> np.uint64(1)).astype(np.int64)
    return mixed
