"""A scenario's explicit records: natural-key lookups, and values checked against columns.

Records come first in their entity's rows (record ``r`` is row ``r``). A key
naming a referenced entity (``org:``) or a reference field (``org_id:``)
with a mapping value is looked up among that entity's records by the given
fields; no match, or more than one, is an error naming the record.
"""

from __future__ import annotations

from typing import Any

from datagen.documents import get_provider
from datagen.scenarios.entity_plan import EntityPlan
from datagen.scenarios.model import FieldDef, RecordDef, Where
from datagen.scenarios.plan import Plan
from datagen.scenarios.samples import record_rows
from datagen.seeding import entity_key
from datagen.tables import column_type, table_for


def record_field(entity: EntityPlan, key: str) -> str:
    """The field a record key sets: itself, or the reference to an entity named ``key``."""
    by_entity = [f for f, target in entity.references_to().items() if target == key]
    template = get_provider(entity.provider).template()
    if key not in template and len(by_entity) == 1:
        return by_entity[0]
    return key


def record_targets(entity: EntityPlan, record: RecordDef) -> set[str]:
    """The entities a record looks up by natural key."""
    targets = entity.references_to()
    found = set()
    for key, value in record.values.items():
        field_name = record_field(entity, key)
        if field_name in targets and isinstance(value, dict):
            found.add(targets[field_name])
    return found


def lookup(plan: Plan, target: str, natural: dict[str, Any], what: str, where: Where) -> int:
    """The row of ``target``'s records whose fields equal ``natural`` (exactly one)."""
    found = plan.entities[target]
    rows = found.records
    if any(k not in row for row in rows for k in natural):  # a generated field: build the rows
        rows = record_rows(plan, target)
    matches = [
        index
        for index, row in enumerate(rows)
        if all(_equal(row.get(k), v) for k, v in natural.items())
    ]
    shown = ", ".join(f"{k}={v!r}" for k, v in natural.items())
    if not matches:
        raise where.error(
            f"{what}: no {target!r} record has {shown}",
            hint=f"add it under 'records: {target}:'" if not rows else None,
        )
    if len(matches) > 1:
        raise where.error(f"{what}: {len(matches)} {target!r} records have {shown}")
    return matches[0]


def _equal(actual: Any, wanted: Any) -> bool:
    return bool(actual == wanted or (actual is not None and str(actual) == str(wanted)))


def resolve_lookups(plan: Plan, entity: EntityPlan) -> None:
    """The key each ``lookup`` override names, by natural key among the target's records."""
    targets = entity.references_to()
    for path, override in entity.overrides.items():
        if override.kind != "lookup":
            continue
        target = targets[path]
        index = lookup(plan, target, override.argument, "lookup", override.where)
        entity.lookups[path] = entity_key(plan.seed, target, index)


def resolve_records(plan: Plan, entity: EntityPlan, records: list[RecordDef]) -> None:
    """The records' values, with natural-key references resolved to keys."""
    template = get_provider(entity.provider).template()
    targets = entity.references_to()
    for position, record in enumerate(records):
        values: dict[str, Any] = {}
        for key, value in record.values.items():
            field_name = record_field(entity, key)
            where = record.at(key)
            if field_name not in template:
                raise where.error(
                    f"{entity.provider!r} has no field {key!r}; fields: {', '.join(template)}"
                )
            if field_name in targets and isinstance(value, dict):
                target = targets[field_name]
                index = lookup(plan, target, value, record.label(), where)
                values[field_name] = entity_key(plan.seed, target, index)
                if field_name == entity.parent_field:
                    entity.record_parents[position] = index
                else:
                    entity.record_refs.setdefault(field_name, {})[position] = index
            else:
                check_kind(entity, field_name, value, where)
                values[field_name] = value
        entity.records.append(values)


FIXED = {"value": "constant", "weighted": "weighted choice", "choice": "choice", "lookup": "lookup"}
"""Overrides that repeat their values across rows (no good for a key)."""


def given_values(override: FieldDef) -> list[Any]:
    """The values an override may put in a field as they are (not templates or Mimesis)."""
    if override.kind == "value":
        return [override.argument]
    if override.kind in ("weighted", "choice"):
        return list(override.argument)
    return []


def check_kind(entity: EntityPlan, path: str, value: Any, where: Where) -> None:
    """A value given for a top-level field must suit the provider's column for it."""
    columns = {column.name: column.type for column in table_for(entity.provider).columns}
    expected, given = columns.get(path), column_type(value)
    if given == "integer" and expected in ("integer", "float") and not -(2**63) <= value < 2**63:
        raise where.error(f"{value} is beyond the 64-bit integers a column holds")
    if expected in (None, "json", given) or given is None:
        return
    if (expected, given) == ("float", "integer"):
        return
    hints = {
        "timestamp": "give a UTC time unquoted: {value: 2024-01-01T00:00:00Z} under 'fields:', "
        "2024-01-01T00:00:00Z in a record",
        "text": "quote it in the YAML file",
    }
    raise where.error(
        f"{path!r} of {entity.provider!r} is {expected}; {value!r} is {given}",
        hint=hints.get(expected),
    )
