"""Build the rows of a planned entity, a shard at a time, deterministically.

A row is the entity's template (the provider's, with the scenario's
overrides and its records' given values: see :mod:`datagen.scenarios.overrides`)
compiled a shard at a time (:mod:`datagen.columns`) over the scenario's
lineage (:mod:`datagen.scenarios.lineage`): the parent's key, the other
references, every column field are computed from the row's index; then the
fields drawn row by row, a record's given values, the derived fields and
the provider's ``finalize``.

Everything random in shard ``s`` of entity ``E`` derives from
``(seed, E, s)`` or from ``(seed, E, field, row)``; nothing from the worker,
the clock or the target.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from datagen.documents import get_provider
from datagen.errors import DataGenError, SchemaError
from datagen.scenarios.entity_plan import EntityPlan
from datagen.scenarios.plan import Plan
from datagen.schema import Runtime
from datagen.seeding import Shard, plan_shards
from datagen.types import Document

_NONE: Mapping[str, Any] = {}


def shards_of(plan: Plan, entity: EntityPlan) -> list[Shard]:
    """The shards of ``entity``'s rows; shard ``s`` is seeded from (seed, entity, s)."""
    return plan_shards(quantity=entity.total, seed=plan.seed, name=entity.name)


class EntityBuilder:
    """Builds rows ``[start, stop)`` of one entity of a plan (any range, any process)."""

    def __init__(self, plan: Plan, entity: EntityPlan):
        self.plan = plan
        self.entity = entity
        self.runtime = Runtime(
            locale=plan.locale, run_seed=plan.seed, reference_date=plan.reference_date
        )
        records = entity.records
        given = (lambda i: records[i] if i < len(records) else _NONE) if records else None
        try:
            self.build = get_provider(entity.provider).rows_factory(
                self.runtime, plan.lineage, entity=entity.name, given=given
            )
        except DataGenError as err:
            overrides = list(entity.overrides.values())
            where = overrides[0].where if len(overrides) == 1 else entity.where
            raise where.error(err.message, hint=err.hint) from None
        self.shards = shards_of(plan, entity)

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
        self.runtime.reseed(shard.seed)
        try:
            return self.build(shard.start, shard.stop if stop is None else stop)
        except SchemaError as err:  # a cross-row field that can't be computed
            raise self.entity.where.error(err.message, hint=err.hint) from None


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


__all__ = ["EntityBuilder", "build_shard", "install", "installed_plan", "tasks_of"]
