"""Plan a scenario: the order, the number of rows of each entity and who owns whom.

Planning turns a loaded Scenario into a Plan, before any row is written:

- each entity's document provider, its parent field (``per``) and where each
  other reference field picks from (an entity, maybe of the same parent; a
  reference to a provider outside the scenario is left empty);
- the entities in dependency order (parents and referenced entities first);
- the number of children of every parent row, drawn from the distribution
  with a random state derived from (seed, entity, parent shard)
  (:class:`datagen.scenarios.children.Children`: a running total per parent
  shard is held, never a number per parent, nor rows);
- the explicit records, with natural-key lookups resolved to keys;
- each entity's template: the provider's, with the scenario's overrides as
  specs (:mod:`datagen.scenarios.overrides`) and the records' given values;
- the table of each provider, with primary, foreign and unique keys.

Rows are laid out per entity as ``[records…, generated…]``: record ``r`` is
row ``r``; generated row ``j`` is row ``len(records) + j``.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any, Callable, NoReturn

import numpy as np
from mimesis import Generic

from datagen.documents import get_provider, registry
from datagen.errors import InputError, SchemaError
from datagen.fields import Batch, holds
from datagen.limits import MAX_ROWS
from datagen.ordering import depth_first
from datagen.scenarios.children import Children
from datagen.scenarios.entity_plan import EntityPlan, RefPlan
from datagen.scenarios.model import EntityDef, MinimumDef, Scenario
from datagen.scenarios.overrides import Overrides
from datagen.scenarios.plan import Plan
from datagen.scenarios.records import (
    FIXED,
    check_kind,
    given_values,
    record_targets,
    resolve_lookups,
    resolve_records,
)
from datagen.scenarios.samples import built
from datagen.scenarios.templates import entity_template, unique_columns, unique_fields
from datagen.schema import walk_specs
from datagen.tablespec import Column, TableSpec
from datagen.specs import POSITION_KEYS, condition_of
from datagen.tables import column_type, table_for

SAMPLE_ROWS = 50


def plan_scenario(scenario: Scenario, *, seed: int, scale: float = 1.0) -> Plan:
    """Plan ``scenario`` for ``seed`` and ``scale`` (InputError naming file and line)."""
    if scale <= 0:
        raise InputError(f"scale must be above 0, got {scale}")
    definitions = _definitions(scenario)
    if not definitions:
        raise InputError(
            f"{scenario.files[0]} defines no entities: nothing to populate",
            hint="add 'entities:' or 'records:', as in the README's scenarios section",
        )
    entities = {name: _entity(definition, definitions) for name, definition in definitions.items()}
    _attach_fields(scenario, entities)
    order = _order(definitions, entities, scenario)
    plan = Plan(scenario, seed, scale, {name: entities[name] for name in order})

    for name in order:
        entity = entities[name]
        definition = definitions[name]
        resolve_lookups(plan, entity)
        resolve_records(plan, entity, scenario.records.get(name, []))
        entity.template = entity_template(plan, entity)
        _count(plan, entity, definition)
    for entity in plan.entities.values():
        entity.unique = unique_fields(entity)
    plan.tables = _tables(plan)
    return plan


# Entities and references ---------------------------------------------------------------


def _definitions(scenario: Scenario) -> dict[str, EntityDef]:
    """The scenario's entities in file order, plus those that only have records (count 0)."""
    definitions = {}
    for name in scenario.order:
        if name in scenario.entities:
            definitions[name] = scenario.entities[name]
        else:
            where = scenario.records[name][0].where
            definitions[name] = EntityDef(name=name, provider=name, where=where)
    for name, definition in definitions.items():
        if definition.provider not in registry.names():
            known = ", ".join(registry.names())
            where = definition.where
            raise where.error(f"unknown document provider {definition.provider!r}; known: {known}")
    return definitions


def _entity(definition: EntityDef, definitions: dict[str, EntityDef]) -> EntityPlan:
    where = definition.where
    provider = get_provider(definition.provider)
    references = provider.references()
    entity = EntityPlan(definition.name, definition.provider, where)
    if definition.per is not None:
        parent = definitions.get(definition.per)
        if parent is None:
            raise where.error(f"'per: {definition.per}' names an entity that is not defined")
        entity.parent, entity.distribution = parent.name, definition.distribution
        if definition.via is not None:
            if references.get(definition.via) != parent.provider:
                raise where.error(
                    f"'via: {definition.via}' is not a reference of {definition.provider!r} "
                    f"to {parent.provider!r}"
                )
            entity.parent_field = definition.via
        else:
            fields = [f for f, target in references.items() if target == parent.provider]
            if len(fields) != 1:
                raise where.error(
                    f"{definition.provider!r} has {len(fields) or 'no'} reference fields to "
                    f"{parent.provider!r}" + (f" ({', '.join(fields)})" if fields else ""),
                    hint="say which with 'via:'" if fields else "choose another 'per'",
                )
            entity.parent_field = fields[0]
    for name, ref in definition.references.items():
        if name not in references:
            known = ", ".join(references) or "none"
            raise ref.where.error(
                f"{definition.provider!r} has no reference field {name!r}; its references: {known}"
            )
        if name == entity.parent_field:
            raise ref.where.error(f"{name!r} holds the parent's key ('per'); it can't be set here")
    for name, target_provider in references.items():
        if name == entity.parent_field:
            continue
        chosen = definition.references.get(name)
        if chosen is not None:
            ref = chosen
            target = definitions.get(ref.entity)
            if target is None:
                raise ref.where.error(f"entity {ref.entity!r} is not defined")
            if target.provider != target_provider:
                raise ref.where.error(
                    f"{name!r} refers to {target_provider!r}, but {ref.entity!r} is a "
                    f"{target.provider!r}"
                )
            if ref.same is not None and not (definition.per == ref.same and target.per == ref.same):
                raise ref.where.error(
                    f"'same: {ref.same}' needs both {definition.name!r} and {ref.entity!r} "
                    f"to be built 'per: {ref.same}'"
                )
            if ref.distinct and definition.per is None:
                raise ref.where.error(
                    f"'distinct' needs {definition.name!r} to be built 'per' a parent: "
                    "it makes the children of one parent pick different rows"
                )
            entity.refs.append(RefPlan(name, ref.entity, ref.same, ref.distinct))
            continue
        candidates = [d.name for d in definitions.values() if d.provider == target_provider]
        if not candidates:
            entity.nulls.append(name)
        elif len(candidates) == 1:
            entity.refs.append(RefPlan(name, candidates[0]))
        else:
            raise where.error(
                f"{name!r} could refer to any of {', '.join(candidates)}",
                hint=f"say which under 'references: {{{name}: ENTITY}}'",
            )
    return entity


def _attach_fields(scenario: Scenario, entities: dict[str, EntityPlan]) -> None:
    for entity_name, overrides in scenario.fields.items():
        for path, override in overrides.items():
            entity = entities.get(entity_name)
            if entity is None:
                raise override.where.error(f"entity {entity_name!r} is not defined")
            template = get_provider(entity.provider).template()
            paths = {p for p, _ in walk_specs(template)} | set(template)
            if path not in paths:
                raise override.where.error(
                    f"{entity.provider!r} has no field {path!r}; fields: "
                    + ", ".join(p for p, _ in walk_specs(template))
                )
            if override.kind == "lookup" and path not in entity.references_to():
                raise override.where.error(
                    f"{path!r} is not a reference to an entity of this scenario; "
                    "'lookup' finds the key of a record of the referenced entity"
                )
            if path == entity.parent_field:
                raise override.where.error(f"{path!r} holds the parent's key ('per')")
            if path == get_provider(entity.provider).key and override.kind in FIXED:
                raise override.where.error(
                    f"{path!r} is the key of {entity.provider!r}: a {FIXED[override.kind]} "
                    "would give rows the same key",
                    hint="leave it generated, or give a template with {index}",
                )
            for value in given_values(override):
                check_kind(entity, path, value, override.where)
            if override.kind == "mimesis" and not _is_mimesis_field(str(override.argument)):
                raise override.where.error(
                    f"unknown Mimesis field {override.argument!r}",
                    hint="use 'provider.method', e.g. 'person.email'",
                )
            entity.overrides[path] = override


@lru_cache(maxsize=1)
def _mimesis() -> Generic:
    return Generic()


def _is_mimesis_field(path: str) -> bool:
    provider, _, method = path.partition(".")
    return callable(getattr(getattr(_mimesis(), provider, None), method, None))


def _order(
    definitions: dict[str, EntityDef], entities: dict[str, EntityPlan], scenario: Scenario
) -> list[str]:
    """Entities with everything they depend on first (file order otherwise)."""
    depends: dict[str, set[str]] = {}
    for name, entity in entities.items():
        needs = set(entity.references_to().values())
        for record in scenario.records.get(name, []):
            needs.update(record_targets(entity, record))
        depends[name] = needs - {name}
    position = list(definitions).index

    def cycle(names: list[str]) -> NoReturn:
        chain = " -> ".join(names)
        raise definitions[names[0]].where.error(f"entities refer to each other in a cycle: {chain}")

    return depth_first(definitions, lambda name: sorted(depends[name], key=position), cycle=cycle)


# Counts ------------------------------------------------------------------------------------


def _count(plan: Plan, entity: EntityPlan, definition: EntityDef) -> None:
    if definition.count is not None:
        scaled = definition.count * definition.scale * plan.scale
        entity.generated = max(1, int(scaled + 0.5)) if definition.count else 0
    elif entity.parent is not None and entity.distribution is not None:
        parents = plan.entities[entity.parent].total
        entity.children = Children(
            seed=plan.seed,
            name=entity.name,
            distribution=entity.distribution,
            parents=parents,
            minimum=_minimum(plan, entity, definition.minimum),
        )
        entity.generated = entity.children.total
    if entity.generated > MAX_ROWS:
        raise entity.where.error(
            f"{entity.generated:.3g} rows planned, more than {MAX_ROWS:,}",
            hint="give its distribution a max, or a smaller count or --scale",
        )


def _minimum(
    plan: Plan, entity: EntityPlan, minimum: MinimumDef | None
) -> tuple[int, Callable[[np.ndarray], np.ndarray]] | None:
    """``(count, qualifies)``: at least ``count`` children for the parents that qualify."""
    if minimum is None or entity.parent is None:
        return None
    parent = plan.entities[entity.parent]
    where = minimum.where
    if any(key in POSITION_KEYS for key in minimum.condition):
        raise where.error("'minimum' is decided by the parent's fields, not its place")
    names = Overrides(plan, parent)
    try:
        condition = (
            condition_of({names.path(str(k), where): v for k, v in minimum.condition.items()})
            if minimum.condition
            else ()
        )
    except SchemaError as err:
        raise where.error(err.message) from None
    columns = plan.lineage.columns(parent.name)

    def qualifies(rows: np.ndarray) -> np.ndarray:
        if not condition:
            return np.ones(len(rows), dtype=bool)
        try:
            return holds(condition, Batch(columns, rows), f"{entity.name}/minimum")
        except SchemaError as err:
            raise where.error(err.message, hint=err.hint) from None

    return minimum.count, qualifies


# Tables ------------------------------------------------------------------------------------


def _tables(plan: Plan) -> dict[str, TableSpec]:
    """One table per provider: columns typed from sample rows, keys and foreign keys."""
    samples: dict[str, list[dict[str, Any]]] = {}
    for entity in plan.entities.values():
        rows = samples.setdefault(entity.provider, [])
        rows.extend(built(plan, entity, min(entity.total, SAMPLE_ROWS)))
    written = set(samples)
    tables = {}
    for provider, rows in samples.items():
        base = table_for(provider)
        columns = []
        for column in base.columns:
            kinds = {column_type(row.get(column.name)) for row in rows} - {None}
            if kinds == {"integer", "float"}:
                kinds = {"float"}
            found = {kind for kind in kinds if kind is not None}
            kind = (found.pop() if len(found) == 1 else "json") if found else column.type
            columns.append(Column(column.name, kind, column.nullable))
        foreign = {c: target for c, target in base.foreign_keys.items() if target[0] in written}
        unique = unique_columns(plan, provider)
        tables[provider] = replace(
            base, columns=tuple(columns), foreign_keys=foreign, unique=unique
        )
    return tables


def parent_stats(entity: EntityPlan) -> dict[str, float]:
    """Min, mean and max of the children per parent row, as planned."""
    children = entity.children
    if children is None or not children.parents:
        return {"parents": 0, "min": 0, "mean": 0.0, "max": 0}
    return {
        "parents": children.parents,
        "min": children.min,
        "mean": children.mean,
        "max": children.max,
    }
