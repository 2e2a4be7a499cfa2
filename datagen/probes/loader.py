"""Load a probe file: YAML with line numbers, JSON Schema, then checks that name file:line.

The file is parsed as scenarios are (:func:`datagen.scenarios.loader.read_yaml`:
every mapping and list knows its lines), checked against
``probe.schema.json`` (published beside this module), then read into a
:class:`~datagen.probes.model.Probe`. Checks the schema can't express come
next, each naming file, line and key: every ``:name`` in a statement must be
one of its parameters (or ``:step.column`` of an earlier step that chooses a
row), a distribution's parameters must make sense, a Mimesis field must exist.
Whether a ``pick`` names an entity the scenario builds is checked once the
scenario is planned (:mod:`datagen.probes.params`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from jsonschema import Draft202012Validator
from mimesis import Generic

from datagen.limits import SCALE
from datagen.probes.model import (
    InvariantDef,
    ParamDef,
    Probe,
    QueryDef,
    Sql,
    StepDef,
    TransactionDef,
)
from datagen.probes.statements import parameters_of
from datagen.scenarios.distributions import PARAMETERS, check, from_mapping
from datagen.scenarios.loader import Marked, MarkedList, _plain, read_yaml, validate
from datagen.scenarios.model import Where

SCHEMA_PATH = Path(__file__).with_name("probe.schema.json")
PARAM_KINDS = ("value", "pick", "choice", "mimesis", "distribution", "uuid")


@lru_cache(maxsize=1)
def probe_validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def load_probe(path: str | Path) -> Probe:
    """Load ``path`` into a Probe (InputError naming file, line and key)."""
    shown = str(path)
    document = read_yaml(Path(path), shown, kind="probe")
    validate(document, shown, probe_validator())
    here = Where(shown, document.lines.get("scenario", 1), "scenario")
    scenario = Path(path).parent / str(document["scenario"])
    if not scenario.is_file():
        raise here.error(
            f"no such file {str(scenario)!r}", hint="the path is relative to the probe"
        )
    probe = Probe(
        name=str(document.get("name", Path(path).stem)),
        path=shown,
        scenario=str(scenario),
        where=here,
        seed=document.get("seed"),
        scales=tuple(float(s) for s in document.get("scales", ())),
        description=str(document.get("description", "")),
    )
    setup = document.get("setup", MarkedList())
    probe.setup = [
        _sql(item, Where(shown, setup.lines[i], f"setup[{i}]")) for i, item in enumerate(setup)
    ]
    for sql in probe.setup:
        _check_names(sql, set(), set(), "setup (setup takes no parameters)")
    for name, spec in document.get("queries", Marked()).items():
        where = Where(shown, document["queries"].lines[name], f"queries.{name}")
        probe.queries[name] = _query(name, spec, where)
    for name, spec in document.get("transactions", Marked()).items():
        where = Where(shown, document["transactions"].lines[name], f"transactions.{name}")
        probe.transactions[name] = _transaction(name, spec, where)
    for name, spec in document.get("invariants", Marked()).items():
        where = Where(shown, document["invariants"].lines[name], f"invariants.{name}")
        probe.invariants[name] = _invariant(name, spec, where)
    return probe


def _at(parent: Marked, key: str, where: Where) -> Where:
    """The place of ``key`` inside the mapping ``parent`` written at ``where``."""
    line = parent.lines.get(key, where.line) if isinstance(parent, Marked) else where.line
    return Where(where.file, line, f"{where.key}.{key}")


def _sql(value: Any, where: Where) -> Sql:
    if isinstance(value, str):
        return Sql({"default": value}, where)
    return Sql({str(k): (None if v is None else str(v)) for k, v in value.items()}, where)


def _query(name: str, spec: Marked, where: Where) -> QueryDef:
    params = _params(spec.get("params", Marked()), _at(spec, "params", where))
    sql = _sql(spec["sql"], _at(spec, "sql", where))
    _check_names(sql, set(params), set(), "this query")
    return QueryDef(
        name=name,
        sql=sql,
        params=params,
        where=where,
        repeat=spec.get("repeat"),
        share=spec.get("share"),
        description=str(spec.get("description", "")),
    )


def _transaction(name: str, spec: Marked, where: Where) -> TransactionDef:
    params = _params(spec.get("params", Marked()), _at(spec, "params", where))
    steps: list[StepDef] = []
    chosen: set[str] = set()
    items = spec["steps"]
    for index, item in enumerate(items):
        step_where = Where(where.file, items.lines[index], f"{where.key}.steps[{index}]")
        if isinstance(item, Marked) and "sql" in item:
            step_name = str(item.get("name", f"step{index + 1}"))
            sql = _sql(item["sql"], _at(item, "sql", step_where))
            step = StepDef(step_name, sql, step_where, item.get("choose"), item.get("on_empty"))
        else:
            step = StepDef(f"step{index + 1}", _sql(item, step_where), step_where)
        if any(s.name == step.name for s in steps):
            raise step_where.error(f"two steps are named {step.name!r}")
        _check_names(step.sql, set(params), chosen, "this transaction")
        if step.choose:
            chosen.add(step.name)
        steps.append(step)
    return TransactionDef(
        name=name,
        steps=tuple(steps),
        params=params,
        where=where,
        isolation=spec.get("isolation"),
        repeat=spec.get("repeat"),
        share=spec.get("share"),
        description=str(spec.get("description", "")),
    )


def _invariant(name: str, spec: Any, where: Where) -> InvariantDef:
    if isinstance(spec, Marked) and "sql" in spec:
        sql = _sql(spec["sql"], _at(spec, "sql", where))
        description = str(spec.get("description", ""))
    else:
        sql, description = _sql(spec, where), ""
    _check_names(sql, set(), set(), "an invariant (invariants take no parameters)")
    return InvariantDef(name, sql, where, description)


def _check_names(sql: Sql, params: set[str], steps: set[str], owner: str) -> None:
    """Every ``:name`` is a parameter, every ``:step.column`` names an earlier choosing step."""
    for text in sql.all_texts():
        for name in parameters_of(text):
            step, dot, _ = name.partition(".")
            if dot:
                if step not in steps:
                    known = ", ".join(sorted(steps)) or "none"
                    raise sql.where.error(
                        f"':{name}': no earlier step {step!r} chooses a row "
                        f"(steps with 'choose': {known})"
                    )
            elif name not in params:
                known = ", ".join(sorted(params)) or "none"
                raise sql.where.error(
                    f"':{name}' is not a parameter of {owner}; its parameters: {known}",
                    hint="declare it under 'params:'",
                )


def _params(spec: Mapping[str, Any], where: Where) -> dict[str, ParamDef]:
    params = {}
    for name, value in spec.items():
        at = _at(spec, name, where) if isinstance(spec, Marked) else where
        params[str(name)] = _param(str(name), value, at)
    return params


def _param(name: str, value: Any, where: Where) -> ParamDef:
    if not isinstance(value, dict):
        return ParamDef(name, "value", value, where)
    kind = next(k for k in PARAM_KINDS if k in value)
    argument = _plain(value[kind])
    args = dict(_plain(value.get("args", {})))
    if kind == "distribution":
        missing = [p for p in PARAMETERS[argument["type"]] if p not in argument]
        if missing:
            raise where.error(f"a {argument['type']} distribution needs {', '.join(missing)}")
        problem = check(argument["type"], {p: argument[p] for p in PARAMETERS[argument["type"]]})
        if problem:
            raise where.error(problem)
        argument = from_mapping(argument)
    if kind == "mimesis":
        _check_mimesis(str(argument), args, where)
    return ParamDef(name, kind, argument, where, args)


def _check_mimesis(path: str, args: dict[str, Any], where: Where) -> None:
    """The field exists and takes ``args``: it is called once now, as scenario overrides are
    while planning, so that bad ``args`` are one line here, not a traceback after populating."""
    provider, _, method = path.partition(".")
    field = getattr(getattr(Generic(seed=0), provider, None), method, None)
    if not callable(field):
        raise where.error(
            f"unknown Mimesis field {path!r}", hint="use 'provider.method', e.g. 'person.email'"
        )
    try:
        field(**args)
    except Exception as err:  # noqa: BLE001 - Mimesis' own error, whatever its type
        raise where.error(
            f"{path} with args {args!r} fails: {type(err).__name__}: {err}",
            hint="give the arguments the Mimesis method takes",
        ) from None


def check_scales(scales: tuple[float, ...], where: str) -> tuple[float, ...]:
    """Scales sorted, without repeats; InputError if one is outside ``limits.SCALE``."""
    return tuple(sorted({float(SCALE.check(scale, where)) for scale in scales}))
