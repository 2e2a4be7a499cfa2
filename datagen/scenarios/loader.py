"""Load a scenario: YAML with line numbers, includes in order, JSON Schema validation.

Each file is parsed by PyYAML into mappings and lists that remember the line
of every key and item, checked against ``scenario.schema.json`` (published
beside this module; see :mod:`datagen.scenarios.marked`), then merged with
the files it includes: included files first, in the order given, then the
including file. A later definition of an entity replaces an earlier one,
field overrides are merged field by field, and records are appended.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from datagen.limits import parse_date
from datagen.scenarios.distributions import check, from_mapping
from datagen.scenarios.marked import (  # noqa: F401 - _message, line_of: re-exported (workloads)
    Marked,
    MarkedList,
    _message,
    _plain,
    line_of,
    read_yaml,
    validate,
)
from datagen.scenarios.model import (
    CheckDef,
    EntityDef,
    FieldDef,
    MinimumDef,
    RecordDef,
    RefDef,
    Scenario,
    Where,
)
from datagen.scenarios.overrides import kind_of

# Loading and merging ----------------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Load ``path`` and its includes into one Scenario (InputError naming file and line)."""
    shown = str(path)
    scenario = Scenario(name=Path(path).stem, path=shown)
    _load(Path(path), shown, scenario, scale=1.0, stack=[], top=True)
    return scenario


def _load(
    path: Path, shown: str, scenario: Scenario, *, scale: float, stack: list[Path], top: bool
) -> None:
    document = read_yaml(path, shown)
    validate(document, shown)
    resolved = path.resolve()
    stack = [*stack, resolved]
    scale *= float(document.get("scale", 1))
    scenario.files.append(shown)
    includes = document.get("include", MarkedList())
    for position, item in enumerate(includes):
        where = Where(shown, includes.lines[position], f"include[{position}]")
        target = path.parent / item
        if target.resolve() in stack:
            chain = " -> ".join(p.name for p in [*stack, target.resolve()])
            raise where.error(f"include cycle: {chain}")
        if not target.is_file():
            raise where.error(f"no such file {str(target)!r}")
        _load(target, str(target), scenario, scale=scale, stack=stack, top=False)
    if top:
        scenario.name = str(document.get("name", scenario.name))
        if "seed" in document:
            scenario.seed = int(document["seed"])
    if "reference_date" in document:  # the including file, read last, wins
        where = Where(shown, document.lines["reference_date"], "reference_date")
        scenario.reference_date = _reference_date(document["reference_date"], where)
    _entities(document, shown, scenario, scale)
    _fields(document, shown, scenario)
    _records(document, shown, scenario)
    _checks(document, shown, "views", scenario.views)
    _checks(document, shown, "checks", scenario.checks)


def _checks(document: Marked, shown: str, key: str, found: dict[str, CheckDef]) -> None:
    """The file's ``checks:`` (or ``views:``, the SQL checks read) into ``found``."""
    checks = document.get(key, Marked())
    for name, given in checks.items():
        where = Where(shown, checks.lines[name], f"{key}.{name}")
        if isinstance(given, str):
            sql: Any = given
            description = ""
        else:
            sql, description = _plain(given["sql"]), str(given.get("description", ""))
        found.pop(str(name), None)  # a later file's check of the same name wins
        found[str(name)] = CheckDef(str(name), sql, where, description)


def _reference_date(value: Any, where: Where) -> datetime:
    """The file's reference date, within the bounds of ``--reference-date`` (datagen.limits)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    try:
        return parse_date(value)
    except ValueError as err:
        raise where.error(str(err)) from None


def _entities(document: Marked, shown: str, scenario: Scenario, scale: float) -> None:
    entities = document.get("entities", Marked())
    for name, spec in entities.items():
        where = Where(shown, entities.lines[name], f"entities.{name}")
        distribution = None
        if "distribution" in spec:
            data = spec["distribution"]
            distribution = from_mapping(data)
            problem = check(distribution.kind, distribution.params)
            low, high = data.get("min"), data.get("max")
            if problem is None and low is not None and high is not None and low > high:
                problem = "min must not be above max"
            if problem:
                line = spec.lines["distribution"]
                raise Where(shown, line, f"{where.key}.distribution").error(problem)
        references = {}
        refs = spec.get("references", Marked())
        for field_name, target in refs.items():
            ref_where = Where(shown, refs.lines[field_name], f"{where.key}.references.{field_name}")
            if isinstance(target, str):
                references[field_name] = RefDef(field_name, target, None, ref_where)
            else:
                references[field_name] = RefDef(
                    field_name,
                    target["entity"],
                    target.get("same"),
                    ref_where,
                    distinct=bool(target.get("distinct", False)),
                )
        minimum = None
        if "minimum" in spec:
            data = spec["minimum"]
            line = spec.lines["minimum"]
            minimum = MinimumDef(
                int(data["count"]),
                _plain(data.get("if", {})),
                Where(shown, line, f"{where.key}.minimum"),
            )
        scenario.mention(name)
        scenario.entities.pop(name, None)
        scenario.entities[name] = EntityDef(
            name=name,
            provider=str(spec.get("provider", name)),
            where=where,
            count=spec.get("count"),
            per=spec.get("per"),
            via=spec.get("via"),
            distribution=distribution,
            references=references,
            scale=scale,
            minimum=minimum,
        )


def _fields(document: Marked, shown: str, scenario: Scenario) -> None:
    fields = document.get("fields", Marked())
    for entity, overrides in fields.items():
        merged = scenario.fields.setdefault(entity, {})
        for path, override in overrides.items():
            where = Where(shown, overrides.lines[path], f"fields.{entity}.{path}")
            if isinstance(override, dict):
                kind = kind_of(override, where)
                argument = override[kind]
                options = {k: _plain(v) for k, v in override.items() if k != kind}
                _check_weights(_plain(override), where)
            else:
                kind, argument, options = "value", override, {}
            merged[str(path)] = FieldDef(entity, str(path), kind, _plain(argument), where, options)


def _check_weights(override: Any, where: Where) -> None:
    """Every ``weighted`` in an override (its cases' too) has weights with a positive sum."""
    if isinstance(override, dict):
        weights = override.get("weighted")
        if isinstance(weights, dict) and not sum(weights.values()) > 0:
            raise where.error("weighted needs weights with a positive sum")
        for value in override.values():
            _check_weights(value, where)
    elif isinstance(override, list):
        for item in override:
            _check_weights(item, where)


def _records(document: Marked, shown: str, scenario: Scenario) -> None:
    records = document.get("records", Marked())
    for entity, items in records.items():
        scenario.mention(entity)
        merged = scenario.records.setdefault(entity, [])
        for position, item in enumerate(items):
            number = len(merged)
            where = Where(shown, items.lines[position], f"records.{entity}[{number}]")
            lines = {str(k): v for k, v in item.lines.items()}
            values = {str(k): _plain(v) for k, v in item.items()}
            merged.append(RecordDef(entity, values, where, lines))
