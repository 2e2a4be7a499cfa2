"""Rows built while planning: samples that type a table's columns, and the records' rows."""

from __future__ import annotations

from typing import Any

from datagen.errors import DataGenError
from datagen.scenarios.entity_plan import EntityPlan
from datagen.scenarios.plan import Plan
from datagen.scenarios.rows import EntityBuilder


def record_rows(plan: Plan, entity: str) -> list[dict[str, Any]]:
    """The built rows of ``entity``'s records (for lookups by generated fields)."""
    if entity not in plan.record_cache:
        found = plan.entities[entity]
        plan.record_cache[entity] = built(plan, found, len(found.records))
    return plan.record_cache[entity]


def built(plan: Plan, entity: EntityPlan, stop: int) -> list[dict[str, Any]]:
    """Rows ``[0, stop)`` of ``entity``; what fails in building them is the file's fault.

    A Mimesis field given arguments it does not take (``args: {bogus: 1}``) or
    cannot use (``start: 10, end: 1``) fails here, while planning, with the
    place of the entity's field overrides rather than a traceback.
    """
    try:
        return EntityBuilder(plan, entity).rows(0, stop)
    except DataGenError:
        raise
    except Exception as err:  # noqa: BLE001 - the provider's or Mimesis' own error
        mimesis = [o for o in entity.overrides.values() if o.kind == "mimesis"]
        where = mimesis[0].where if len(mimesis) == 1 else entity.where
        raise where.error(
            f"cannot build {entity.name!r} rows: {type(err).__name__}: {err}",
            hint="check the field overrides' Mimesis arguments" if mimesis else None,
        ) from None
