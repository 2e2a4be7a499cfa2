"""An entity's template, with its overrides and records' given values, and its unique fields.

The overrides become specs in :mod:`datagen.scenarios.overrides`; here they
replace the provider's specs at their paths.
"""

from __future__ import annotations

from typing import Any

from datagen.documents import get_provider
from datagen.scenarios.entity_plan import EntityPlan
from datagen.scenarios.fields import Given
from datagen.scenarios.overrides import Overrides
from datagen.scenarios.plan import Plan
from datagen.schema import walk_specs


def entity_template(plan: Plan, entity: EntityPlan) -> dict[str, Any]:
    """The provider's template with ``entity``'s overrides and its records' given values."""
    names = Overrides(plan, entity)
    template = _copied(names.template)
    for path, override in entity.overrides.items():
        _set(template, path, names.spec(override, _get(template, path)))
    if entity.records:
        for path, leaf in walk_specs(template):
            given = {
                row: value
                for row, record in enumerate(entity.records)
                for found, value in [_dig(record, path)]
                if found
            }
            if given:
                _set(template, path, Given(leaf, given))
    return template


def unique_fields(entity: EntityPlan) -> tuple[str, ...]:
    """The fields ``entity``'s rows keep distinct: the provider's, as its overrides leave them."""
    provider = get_provider(entity.provider)
    fields = list(provider.unique)
    for path, override in entity.overrides.items():
        flag = override.options.get("unique")
        if flag is True and path not in fields:
            fields.append(path)
        elif flag is False and path in fields:
            fields.remove(path)
        elif flag is None and path in fields:
            raise override.where.error(
                f"{path!r} is unique in {entity.provider!r}: an override must say whether it "
                "stays so",
                hint="add 'unique: true' (a template with {index}, or a mimesis, choice or "
                "weighted override) or 'unique: false'",
            )
    return tuple(fields)


def unique_columns(plan: Plan, provider: str) -> tuple[str, ...]:
    """The columns of ``provider``'s table that every entity writing it keeps distinct."""
    entities = [e for e in plan.entities.values() if e.provider == provider]
    kept = [path for path in entities[0].unique if all(path in e.unique for e in entities)]
    if len(entities) > 1:
        for entity in entities:
            for path in kept:
                override = entity.overrides.get(path)
                if override is not None and override.kind == "template":
                    raise override.where.error(
                        f"a unique template can't keep {path!r} distinct across the entities "
                        f"of table {provider!r} ({', '.join(e.name for e in entities)})",
                        hint="say 'unique: false', or leave the field to the provider",
                    )
    return tuple(path for path in kept if "." not in path)


def _copied(template: dict[str, Any]) -> dict[str, Any]:
    return {k: _copied(v) if isinstance(v, dict) else v for k, v in template.items()}


def _get(template: dict[str, Any], path: str) -> Any:
    node: Any = template
    for part in path.split("."):
        node = node[part]
    return node


def _set(template: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = template
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


def _dig(record: dict[str, Any], path: str) -> tuple[bool, Any]:
    node: Any = record
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node
