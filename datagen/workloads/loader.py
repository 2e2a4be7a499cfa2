"""Load a workload: YAML with line numbers, checked against the published JSON Schema.

The file is parsed with the scenarios' YAML loader (mappings and lists that
remember their lines), validated against ``workload.schema.json``
(``syntax.py``), then checked for what a schema cannot say: a merge rule on a
column the table lacks, a key pool that does not exist, a rate that is not
positive. Every error names ``file:line: key``.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from datagen.errors import InputError
from datagen.scenarios.loader import Marked, _plain, read_yaml
from datagen.scenarios.model import Where
from datagen.tables import table_for
from datagen.tablespec import Column
from datagen.workloads.model import (
    MERGE_RULES,
    BySql,
    Generator,
    KeyPool,
    Merge,
    TableDef,
    Upsert,
    ViewDef,
    Workload,
    WriterDef,
)
from datagen.workloads.sql import parameters
from datagen.workloads.schedules import ScheduleReader
from datagen.workloads.syntax import validate

GENERATOR_KINDS = (
    "key",
    "integer",
    "decimal",
    "choice",
    "weighted",
    "mimesis",
    "value",
    "template",
    "number",
)


def load_workload(path: str | Path) -> Workload:
    """Load and check the workload file at ``path`` (InputError naming file and line)."""
    shown = str(path)
    if not Path(path).is_file():
        raise InputError(f"no workload file {shown!r}", hint="e.g. workloads/usage.yaml")
    try:
        document = read_yaml(Path(path), shown)
    except InputError as err:
        if "must be a mapping" in err.message:
            raise InputError("a workload file must be a mapping (writers:, …)", where=shown)
        raise
    validate(document, shown)
    return _Builder(document, shown).build()


class _Builder(ScheduleReader):
    """Turns a validated document into a Workload, checking what the schema can't."""

    def __init__(self, document: Marked, shown: str) -> None:
        self.doc = document
        self.shown = shown

    def build(self) -> Workload:
        doc = self.doc
        workload = Workload(name=str(doc.get("name", Path(self.shown).stem)), path=self.shown)
        if "seed" in doc:
            workload.seed = int(doc["seed"])
        workload.runs_per_hour = float(doc.get("runs_per_hour", 1))
        if "duration" in doc:
            workload.duration = self.duration(doc, "duration", "duration")
        workload.services = tuple(doc.get("services", ()))
        workload.keys = self.keys()
        workload.tables = self.tables()
        workload.views = self.views()
        workload.setup = tuple(
            self.sql(item, Where(self.shown, doc["setup"].lines[n], f"setup[{n}]"))
            for n, item in enumerate(doc.get("setup", ()))
        )
        writers = doc["writers"]
        for name, spec in writers.items():
            where = self.at(writers, name, f"writers.{name}")
            workload.writers[str(name)] = self.writer(str(name), spec, where, workload)
        for service in workload.services:
            known = {w.service for w in workload.writers.values()} | set(workload.writers)
            if service not in known:
                where = Where(self.shown, doc.lines["services"], "services")
                raise where.error(f"no writer or service {service!r}")
        return workload

    # Pieces ---------------------------------------------------------------------

    def sql(self, item: Any, where: Where) -> BySql:
        if isinstance(item, str):
            return BySql({"default": item}, where)
        return BySql({str(k): str(v) for k, v in item.items()}, where)

    def keys(self) -> dict[str, KeyPool]:
        keys = self.doc.get("keys", Marked())
        pools = {}
        for name, spec in keys.items():
            where = self.at(keys, name, f"keys.{name}")
            if "date" in spec:
                pools[name] = KeyPool(name, where, day=self.day(spec["date"], where))
                continue
            template = str(spec["template"])
            try:
                template.format(n=1)
            except (KeyError, IndexError, ValueError) as err:
                raise where.error(
                    f"template {template!r} cannot be formatted with n ({err})",
                    hint="use {n}, e.g. mlw_{n:03d}",
                ) from None
            pools[name] = KeyPool(name, where, template=template, count=int(spec["count"]))
        return pools

    @staticmethod
    def day(value: Any, where: Where) -> date:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise where.error(f"{value!r} is not a date such as 2017-11-29") from None

    def tables(self) -> dict[str, TableDef]:
        tables = self.doc.get("tables", Marked())
        result = {}
        for name, spec in tables.items():
            where = self.at(tables, name, f"tables.{name}")
            if "provider" in spec:
                provider = str(spec["provider"])
                try:
                    table = table_for(provider)
                except InputError as err:
                    raise self.at(spec, "provider", f"{where.key}.provider").error(
                        err.message
                    ) from None
                columns = tuple(Column(c.name, c.type, c.nullable) for c in table.columns)
                result[name] = TableDef(name, columns, (table.key,), where, provider)
                continue
            cols = spec["columns"]
            columns = tuple(Column(str(c), str(kind)) for c, kind in cols.items())
            key = self.names(spec["key"])
            for column in key:
                if column not in cols:
                    raise self.at(spec, "key", f"{where.key}.key").error(
                        f"key column {column!r} is not one of the columns"
                    )
            result[name] = TableDef(name, columns, key, where)
        return result

    @staticmethod
    def names(value: Any) -> tuple[str, ...]:
        return (str(value),) if isinstance(value, str) else tuple(str(v) for v in value)

    def views(self) -> dict[str, ViewDef]:
        views = self.doc.get("views", Marked())
        return {
            name: ViewDef(
                name,
                self.sql(spec["sql"], self.at(spec, "sql", f"views.{name}.sql")),
                bool(spec.get("materialized", False)),
                self.at(views, name, f"views.{name}"),
            )
            for name, spec in views.items()
        }

    def generators(self, node: Marked, dotted: str, workload: Workload) -> dict[str, Generator]:
        result = {}
        for name, spec in node.items():
            where = self.at(node, name, f"{dotted}.{name}")
            kind = next(k for k in GENERATOR_KINDS if k in spec)
            argument = _plain(spec[kind])
            if kind == "key" and argument not in workload.keys:
                known = ", ".join(workload.keys) or "none"
                raise where.error(f"no key pool {argument!r} (keys: {known})")
            if kind in ("integer", "decimal") and argument[0] > argument[1]:
                raise where.error(f"{kind} needs [low, high] with low <= high")
            if kind == "weighted" and not sum(argument.values()) > 0:
                raise where.error("weighted needs weights with a positive sum")
            result[str(name)] = Generator(kind, argument, where, _plain(spec.get("args", {})))
        return result

    def writer(self, name: str, spec: Marked, where: Where, workload: Workload) -> WriterDef:
        schedule = self.batch(spec, where) if "batch" in spec else self.stream(spec, where)
        action = next(k for k in ("upsert", "insert", "sql") if k in spec)
        after: list[BySql] = []
        refresh: list[str] = []
        for n, item in enumerate(spec.get("after", ())):
            item_where = Where(self.shown, spec["after"].lines[n], f"{where.key}.after[{n}]")
            if isinstance(item, dict) and "refresh" in item:
                if item["refresh"] not in workload.views:
                    raise item_where.error(f"no view {item['refresh']!r} under views:")
                refresh.append(str(item["refresh"]))
            else:
                after.append(self.sql(item, item_where))
        common: dict[str, Any] = {
            "name": name,
            "service": str(spec["service"]) if "service" in spec else None,
            "where": where,
            "schedule": schedule,
            "after": tuple(after),
            "refresh": tuple(refresh),
            "connections": int(spec.get("connections", 1)),
            "affinity": spec.get("affinity", "key") == "key",
        }
        if action == "sql":
            return self.sql_writer(spec, where, workload, common)
        body = spec[action]
        body_where = self.at(spec, action, f"{where.key}.{action}")
        table = self.table(body, body_where, workload)
        values = self.generators(body.get("values", Marked()), f"{body_where.key}.values", workload)
        upsert = None
        if action == "upsert":
            key = self.names(body["key"]) if "key" in body else table.key
            key_where = self.at(body, "key", f"{body_where.key}.key")
            if set(key) != set(table.key):
                raise key_where.error(
                    f"the upsert key {list(key)} is not the key of table {table.name!r} "
                    f"({list(table.key)})",
                    hint="an upsert needs the table's primary key to find the row",
                )
            pooled: dict[str, Generator] = {}
            for column in key:
                if column not in values:
                    if column not in workload.keys:
                        raise key_where.error(
                            f"key column {column!r} has no value: give it under values: "
                            "or add a key pool of that name under keys:"
                        )
                    pooled[column] = Generator("key", column, key_where)
            values = {**pooled, **values}
            merge = self.merges(body, body_where, values, table, key, lambda c: c in values)
            upsert = Upsert(table.name, key, merge, body_where)
        sources = {m.source for m in upsert.merge} if upsert is not None else set()
        for column, generator in values.items():
            if table.column(column) is None and column not in sources:
                raise generator.where.error(
                    f"table {table.name!r} has no column {column!r}",
                    hint=(
                        "an upsert's value that is not a column must be a merge rule's source"
                        if upsert is not None
                        else None
                    ),
                )
        return WriterDef(**common, action=action, table=table.name, values=values, upsert=upsert)

    def table(self, body: Marked, where: Where, workload: Workload) -> TableDef:
        name = body["table"]
        if name not in workload.tables:
            known = ", ".join(workload.tables) or "none"
            raise self.at(body, "table", f"{where.key}.table").error(
                f"no table {name!r} under tables: (known: {known})"
            )
        return workload.tables[name]

    def merges(
        self,
        body: Marked,
        where: Where,
        values: dict[str, Generator],
        columns: TableDef,
        key: tuple[str, ...],
        is_value: Any,
        *,
        implicit: bool = True,
    ) -> tuple[Merge, ...]:
        """The merge rules: each named one, then ``replace`` for the other written columns."""
        rules = body.get("merge", Marked())
        table = columns.name
        merges: dict[str, Merge] = {}
        for column, rule in rules.items():
            rule_where = self.at(rules, column, f"{where.key}.merge.{column}")
            if columns.column(str(column)) is None:
                raise rule_where.error(f"table {table!r} has no column {column!r}")
            if column in key:
                raise rule_where.error("a key column is not merged: it finds the row")
            kind, source = (rule, column) if isinstance(rule, str) else next(iter(rule.items()))
            if not is_value(source):
                raise rule_where.error(
                    f"{kind} of {source!r}: the write has no value {source!r}",
                    hint="name one of: " + ", ".join(n for n in values if n not in key),
                )
            assert kind in MERGE_RULES
            merges[str(column)] = Merge(str(column), str(kind), str(source))
        for column in values if implicit else ():
            if column not in key and column not in merges and columns.column(column):
                merges[column] = Merge(column, "replace", column)
        return tuple(merges.values())

    def sql_writer(
        self, spec: Marked, where: Where, workload: Workload, common: dict[str, Any]
    ) -> WriterDef:
        items = spec["sql"] if isinstance(spec["sql"], list) else [spec["sql"]]
        sql_where = self.at(spec, "sql", f"{where.key}.sql")
        statements = tuple(self.sql(item, sql_where) for item in items)
        params = self.generators(spec.get("params", Marked()), f"{where.key}.params", workload)
        for statement in statements[:1]:  # later ones may use what a SELECT read
            for text in statement.statements.values():
                for name in parameters(text):
                    if name not in params:
                        raise sql_where.error(
                            f"parameter :{name} has no generator under params:",
                            hint="add it, e.g. params: {" + name + ": {integer: [1, 100]}}",
                        )
        upsert = None
        table = None
        if "effect" in spec:
            effect = spec["effect"]
            effect_where = self.at(spec, "effect", f"{where.key}.effect")
            definition = self.table(effect, effect_where, workload)
            table = definition.name
            key = self.names(effect["key"]) if "key" in effect else definition.key
            if set(key) != set(definition.key):
                raise self.at(effect, "key", f"{effect_where.key}.key").error(
                    f"the effect's key {list(key)} is not the key of table {table!r}"
                )
            for column in key:
                if column not in params:
                    raise effect_where.error(f"key column {column!r} is not one of the params")
            merge = self.merges(
                effect,
                effect_where,
                params,
                definition,
                key,
                lambda source: source in params,
                implicit=False,
            )
            upsert = Upsert(table, key, merge, effect_where)
        return WriterDef(
            **common, action="sql", table=table, values=params, upsert=upsert, sql=statements
        )


__all__ = ["load_workload"]
