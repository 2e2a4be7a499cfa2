"""The SQL a workload sends, per dialect: merge upserts, inserts, parameters, views.

An upsert's merge rules become one ``INSERT … ON CONFLICT … DO UPDATE``
(PostgreSQL, SQLite) or ``INSERT … ON DUPLICATE KEY UPDATE`` (MySQL,
MariaDB) statement, so the database merges each write atomically under the
row's lock:

========  ===============================  =====================================
rule      the column becomes               when the row has NULL there
========  ===============================  =====================================
replace   the new value                    the new value
max       the larger of old and new        the new value
min       the smaller of old and new       the new value
sum       old + new                        the new value
keep      the old value                    the new value
========  ===============================  =====================================

A new row gets every merged column's new value. Parameters are named; a
``sql:`` template's ``:name`` becomes the driver's own style.
"""

from __future__ import annotations

import re
from typing import Callable

from datagen.workloads.model import TableDef, Upsert, ViewDef

Quote = Callable[[str], str]
_STRING = re.compile(r"('(?:[^']|'')*')")
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def quoter(dialect: str) -> Quote:
    if dialect == "mysql":
        return lambda name: "`" + name.replace("`", "``") + "`"
    return lambda name: '"' + name.replace('"', '""') + '"'


Statement = tuple[str, tuple[str, ...]]  # SQL with positional parameters, and their names


def placeholder(dialect: str) -> str:
    """A positional parameter: psycopg and PyMySQL adapt a tuple faster than a mapping."""
    return "?" if dialect == "sqlite" else "%s"


def merge_expression(dialect: str, rule: str, old: str, new: str) -> str:
    """The new value of a column under ``rule``, given SQL for its old and new values."""
    if rule == "replace":
        return new
    if rule == "keep":
        return f"COALESCE({old}, {new})"
    if rule == "sum":
        return f"COALESCE({old}, 0) + {new}"
    if dialect == "sqlite":  # SQLite's scalar max()/min() take several arguments
        function = "MAX" if rule == "max" else "MIN"
    else:
        function = "GREATEST" if rule == "max" else "LEAST"
    return f"{function}(COALESCE({old}, {new}), {new})"


def upsert_statement(dialect: str, upsert: Upsert) -> Statement:
    """One row's merge upsert; its parameters are the write's values of these names."""
    quote = quoter(dialect)
    table = quote(upsert.table)
    columns = [*upsert.key, *(m.column for m in upsert.merge)]
    sources = [*upsert.key, *(m.source for m in upsert.merge)]
    names = ", ".join(quote(c) for c in columns)
    values = ", ".join(placeholder(dialect) for _ in sources)
    head = f"INSERT INTO {table} ({names}) VALUES ({values})"
    if dialect == "mysql":
        updates = (
            ", ".join(
                f"{quote(m.column)} = "
                + merge_expression(dialect, m.rule, quote(m.column), f"VALUES({quote(m.column)})")
                for m in upsert.merge
            )
            or f"{quote(upsert.key[0])} = {quote(upsert.key[0])}"
        )
        return f"{head} ON DUPLICATE KEY UPDATE {updates}", tuple(sources)
    conflict = ", ".join(quote(c) for c in upsert.key)
    new = "EXCLUDED" if dialect == "postgresql" else "excluded"
    updates = ", ".join(
        f"{quote(m.column)} = "
        + merge_expression(
            dialect, m.rule, f"{table}.{quote(m.column)}", f"{new}.{quote(m.column)}"
        )
        for m in upsert.merge
    )
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    return f"{head} ON CONFLICT ({conflict}) {action}", tuple(sources)


def insert_statement(dialect: str, table: str, columns: list[str]) -> Statement:
    quote = quoter(dialect)
    names = ", ".join(quote(c) for c in columns)
    values = ", ".join(placeholder(dialect) for _ in columns)
    return f"INSERT INTO {quote(table)} ({names}) VALUES ({values})", tuple(columns)


def with_driver_parameters(dialect: str, sql: str) -> Statement:
    """A ``sql:`` template with its ``:name`` parameters made positional, and their names.

    Quoted strings are left alone, as are PostgreSQL casts (``::date``); for
    the ``%``-style drivers a literal ``%`` is doubled.
    """
    names: list[str] = []

    def positional(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return placeholder(dialect)

    parts = _STRING.split(sql)
    for index, part in enumerate(parts):
        if dialect != "sqlite":
            part = part.replace("%", "%%")
        parts[index] = part if index % 2 else _PARAMETER.sub(positional, part)
    return "".join(parts), tuple(names)


def parameters(sql: str) -> list[str]:
    """The ``:name`` parameters of a template, outside quoted strings."""
    return _PARAMETER.findall(_STRING.sub("''", sql))


def create_view(dialect: str, view: ViewDef) -> str | None:
    """The view's CREATE statement (None: the view has no SQL for this dialect)."""
    select = view.sql.for_dialect(dialect)
    if select is None:
        return None
    kind = "MATERIALIZED VIEW" if view.materialized and dialect == "postgresql" else "VIEW"
    return f"CREATE {kind} {quoter(dialect)(view.name)} AS {select}"


def drop_view(dialect: str, view: ViewDef) -> str:
    kind = "MATERIALIZED VIEW" if view.materialized and dialect == "postgresql" else "VIEW"
    return f"DROP {kind} IF EXISTS {quoter(dialect)(view.name)}"


def refresh_view(dialect: str, view: ViewDef) -> str | None:
    """``REFRESH MATERIALIZED VIEW`` on PostgreSQL; None elsewhere (a view is always fresh)."""
    if view.materialized and dialect == "postgresql":
        return f"REFRESH MATERIALIZED VIEW {quoter(dialect)(view.name)}"
    return None


def select_columns(dialect: str, table: TableDef, columns: list[str]) -> str:
    quote = quoter(dialect)
    return f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table.name)}"
