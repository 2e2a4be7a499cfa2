"""Build the rows of a planned entity, a shard at a time, deterministically.

A row is the provider's document (its compiled Mimesis template, with the
scenario's weighted/choice/mimesis overrides put in the template before it
is compiled), then, in this order: the parent's key, the other references
(picked with a numpy Generator seeded from the shard's seed and the field
name), constants and natural-key lookups, the record's given values, and
last the templates (``"http://engine-{org_index}-{n}.staging:18630"``).

Everything random in shard ``s`` of entity ``E`` derives from
``(seed, E, s)``; nothing from the worker, the clock or the target.
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any, Callable, Iterator

import numpy as np

from datagen.columns import ColumnCompiler, keys_of
from datagen.documents import get_provider
from datagen.errors import DataGenError, SchemaError
from datagen.scenarios.planning import EntityPlan, FieldDef, Plan, RefPlan
from datagen.schema import Choice, FieldFactory, MimesisField, Ref, Runtime, Spec
from datagen.seeding import Shard, derive_seed, plan_shards
from datagen.types import Document


def shards_of(plan: Plan, entity: EntityPlan) -> list[Shard]:
    """The shards of ``entity``'s rows; shard ``s`` is seeded from (seed, entity, s)."""
    return plan_shards(quantity=entity.total, seed=plan.seed, name=entity.name)


def spec_of(override: FieldDef) -> Spec:
    """The template spec of a weighted, choice or mimesis override."""
    if override.kind == "weighted":
        return FieldFactory().weighted(override.argument)
    if override.kind == "choice":
        return Choice(list(override.argument))
    return MimesisField(str(override.argument), dict(override.args))


def with_overrides(template: dict[str, Any], overrides: dict[str, FieldDef]) -> dict[str, Any]:
    """A copy of ``template`` with the specs at the overrides' (dotted) paths replaced."""
    result = dict(template)
    for path, override in overrides.items():
        node = result
        parts = path.split(".")
        for part in parts[:-1]:
            node[part] = dict(node[part])
            node = node[part]
        node[parts[-1]] = spec_of(override)
    return result


def set_path(row: Document, path: str, value: Any) -> None:
    node = row
    parts = path.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value


class EntityBuilder:
    """Builds rows ``[start, stop)`` of one entity of a plan (any range, any process)."""

    def __init__(self, plan: Plan, entity: EntityPlan):
        self.plan = plan
        self.entity = entity
        self.runtime = Runtime(
            locale=plan.locale, run_seed=plan.seed, reference_date=plan.reference_date
        )
        provider = get_provider(entity.provider)
        refs = {target: 1 for target in provider.references().values()}
        compiler = ColumnCompiler(
            self.runtime,
            provider=entity.provider,
            quantity=1,
            ref_counts=refs,
            key_namespace=entity.name,
        )
        try:
            # Reference fields are set from the plan: don't make keys to throw away.
            template = with_overrides(provider.template(), entity.pre)
            for name, value in template.items():
                if isinstance(value, Ref):
                    template[name] = None
            self.build = provider.rows_factory_from(compiler, template)
        except DataGenError as err:
            where = next(iter(entity.pre.values())).where if entity.pre else entity.where
            raise where.error(err.message, hint=err.hint) from None
        self.shards = shards_of(plan, entity)
        self.templates = [o for o in entity.post.values() if o.kind == "template"]
        self.values = [o for o in entity.post.values() if o.kind == "value"]
        self._record_places: tuple[np.ndarray, Counter[int]] | None = None  # see _places

    def rows(self, start: int, stop: int) -> list[Document]:
        """Rows ``start`` to ``stop`` (each shard is replayed from its beginning)."""
        rows: list[Document] = []
        for shard in self.shards:
            if shard.stop <= start or shard.start >= stop:
                continue
            built = self.shard_rows(shard, min(stop, shard.stop))
            rows.extend(built[max(start - shard.start, 0) :])
        return rows

    def shard_rows(self, shard: Shard, stop: int | None = None) -> list[Document]:
        """The rows of ``shard`` (up to ``stop``): a pure function of the plan and the shard."""
        plan, entity = self.plan, self.entity
        stop = shard.stop if stop is None else stop
        size = stop - shard.start
        self.runtime.reseed(shard.seed)
        columns = np.random.default_rng(derive_seed(shard.seed, "columns"))
        rows = self.build(shard.start, shard.stop, columns)[:size]  # the whole shard: see build
        indices = np.arange(shard.start, stop)
        records = len(entity.records)
        parents, position = self._parents(shard, indices, records)
        # What templates may use besides the row's fields (made only if there are templates).
        extras: list[dict[str, Any]] = (
            [{"index": i, "n": n} for i, n in zip(indices.tolist(), position.tolist())]
            if self.templates
            else []
        )
        seed = plan.seed
        if entity.parent_field and entity.parent:
            parent, name = entity.parent, entity.parent_field
            label = f"{parent}_index"
            for row, key in zip(rows, _keys(seed, parent, parents)):
                row[name] = key
            for extra, p in zip(extras, parents.tolist()):
                extra["parent_index"] = extra[label] = p
        for ref in entity.refs:
            if ref.distinct:
                picks = self._distinct_picks(ref, parents, self._places(indices, parents, position))
            else:
                rng = np.random.default_rng(derive_seed(shard.seed, "ref", ref.field))
                picks = self._picks(ref.target, ref.same, rng.random(size), parents)
            for row, key in zip(rows, _keys(seed, ref.target, picks)):
                row[ref.field] = key
        for name in entity.nulls:
            for row in rows:
                row[name] = None
        self._finish(rows, extras, shard.start, records)
        return rows

    def _parents(
        self, shard: Shard, indices: np.ndarray, records: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each row's parent row (-1: none) and its 1-based position among its siblings."""
        entity = self.entity
        size = len(indices)
        position = indices + 1
        if entity.parent is None:
            return np.full(size, -1), position
        parent_total = self.plan.entities[entity.parent].total
        rng = np.random.default_rng(derive_seed(shard.seed, "parent"))
        parents = np.floor(rng.random(size) * parent_total).astype(np.int64)
        for n, index in enumerate(indices[indices < records]):
            parents[n] = entity.record_parents.get(int(index), parents[n])
        generated = indices >= records
        if entity.children is not None and generated.any():
            owners, place = entity.children.owners(indices[generated] - records)
            parents[generated] = owners
            position = position.copy()
            position[generated] = place
        return parents, position

    def _picks(
        self, target: str, same: str | None, uniform: np.ndarray, parents: np.ndarray
    ) -> np.ndarray:
        """Rows of ``target`` picked by ``uniform`` draws (-1 where there is none)."""
        low, high = self._range(target, same, parents)
        picks = low + np.floor(uniform * (high - low)).astype(np.int64)
        chosen: np.ndarray = np.where(high > low, picks, -1)
        return chosen

    def _range(
        self, target: str, same: str | None, parents: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The rows ``[low, high)`` of ``target`` each row picks from (empty: none)."""
        plan = self.plan.entities[target]
        size = len(parents)
        if same is None:
            return np.zeros(size, dtype=np.int64), np.full(size, plan.total, dtype=np.int64)
        children = plan.children
        assert children is not None
        if not children.parents:
            return np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64)
        low, high = children.ranges(np.clip(parents, 0, children.parents - 1))
        high = np.where(parents >= 0, high, low)
        records = len(plan.records)
        return records + low, records + high

    def _places(self, indices: np.ndarray, parents: np.ndarray, position: np.ndarray) -> np.ndarray:
        """Each row's 0-based place among all its parent's children: its records first."""
        records = len(self.entity.records)
        places: np.ndarray = position - 1
        if not records:
            return places
        if self._record_places is None:
            starts = [s for s in self.shards if s.start < records]
            owners = np.concatenate(
                [
                    self._parents(s, np.arange(s.start, min(s.stop, records)), records)[0]
                    for s in starts
                ]
            ).tolist()
            seen: Counter[int] = Counter()
            before = []
            for owner in owners:
                before.append(seen[owner])
                seen[owner] += 1
            self._record_places = (np.array(before, dtype=np.int64), seen)
        of_records, per_parent = self._record_places
        places = places.copy()
        mine = indices < records
        places[mine] = of_records[indices[mine]]
        after = [per_parent.get(p, 0) for p in parents[~mine].tolist()]
        places[~mine] += np.array(after, dtype=np.int64)
        return places

    def _distinct_picks(self, ref: RefPlan, parents: np.ndarray, places: np.ndarray) -> np.ndarray:
        """Rows of ``ref.target`` such that the children of one parent pick different ones.

        Each parent ``p`` has its own order of the rows it picks from, drawn from
        ``p`` alone (so siblings agree whichever shard they are in), and its n-th
        child (its records first: see ``_places``) takes the n-th row of that
        order, coming round again after the last.
        The order is a shuffle of up to :data:`SHUFFLED` rows, beyond that
        ``(a·(n - 1) + b) mod width`` with ``a`` coprime with the width.
        """
        low, high = self._range(ref.target, ref.same, parents)
        width = np.maximum(high - low, 1)
        step = places % width
        seed = derive_seed(self.plan.seed, self.entity.name, "distinct", ref.field)
        offset = np.empty(len(parents), dtype=np.int64)
        small = width <= SHUFFLED
        if small.any():
            offset[small] = _shuffled(parents[small], width[small], step[small], seed)
        if not small.all():
            offset[~small] = _affine(parents[~small], width[~small], step[~small], seed)
        chosen: np.ndarray = np.where(high > low, low + offset, -1)
        return chosen

    def _finish(
        self, rows: list[Document], extras: list[dict[str, Any]], start: int, records: int
    ) -> None:
        entity = self.entity
        for override in self.values:
            value, mutable = override.argument, isinstance(override.argument, (dict, list))
            for row in rows:
                set_path(row, override.path, copy.deepcopy(value) if mutable else value)
        for path, key in entity.lookups.items():
            for row in rows:
                set_path(row, path, key)
        given: list[set[str]] = [set()] * len(rows)
        if start < records:
            for n in range(min(records - start, len(rows))):
                values = entity.records[start + n]
                rows[n].update(copy.deepcopy(values))
                given[n] = set(values)
        for override in self.templates:
            fill = _template(override)
            for row, extra, fixed in zip(rows, extras, given):
                if override.path not in fixed:
                    set_path(row, override.path, fill(row, extra))


SHUFFLED = 64  # targets of up to this many rows get a real shuffle per parent


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


def _keys(seed: int, target: str, rows: np.ndarray) -> list[str | None]:
    """The keys of ``target``'s ``rows`` (None for -1), each computed once."""
    unique, positions = np.unique(rows, return_inverse=True)
    keys: list[str | None] = list(keys_of(seed, target, unique[unique >= 0].tolist()))
    if len(unique) and unique[0] < 0:
        keys.insert(0, None)
    return [keys[n] for n in positions.tolist()]


def _template(override: FieldDef) -> Callable[[Document, dict[str, Any]], str]:
    text = str(override.argument)

    def fill(row: Document, extra: dict[str, Any]) -> str:
        names = {**row, **extra}
        try:
            return text.format_map(names)
        except KeyError as err:
            known = ", ".join(sorted(names))
            raise override.where.error(
                f"template {text!r} uses {{{err.args[0]}}}, which is not a field; known: {known}"
            ) from None
        except (ValueError, IndexError, AttributeError) as err:
            raise override.where.error(f"bad template {text!r}: {err}") from None

    return fill


# Running shards in worker processes ----------------------------------------------------------

_state: dict[str, Any] = {"plan": None, "builders": {}}


def install(plan: Plan) -> None:
    """Make ``plan`` the one shard tasks use (set before worker processes are forked)."""
    _state["plan"] = plan
    _state["builders"] = {}


def installed_plan() -> Plan:
    """The plan ``install`` made current in this process."""
    plan: Plan = _state["plan"]
    return plan


def build_shard(task: tuple[str, Shard]) -> tuple[str, list[Document]]:
    """The rows of one shard of one entity of the installed plan."""
    name, shard = task
    builders: dict[str, EntityBuilder] = _state["builders"]
    builder = builders.get(name)
    if builder is None:
        plan: Plan = _state["plan"]
        builder = builders[name] = EntityBuilder(plan, plan.entities[name])
    return name, builder.shard_rows(shard)


def tasks_of(plan: Plan) -> Iterator[tuple[str, Shard]]:
    """Every (entity, shard) of ``plan``, entities in dependency order."""
    for entity in plan.entities.values():
        for shard in shards_of(plan, entity):
            yield entity.name, shard


__all__ = ["EntityBuilder", "SchemaError", "build_shard", "install", "installed_plan", "tasks_of"]
