"""Constraints the database sinks declare, and the violations they report as what they are.

A TableSpec's ``unique`` columns become UNIQUE constraints named
``<table>_<column>_key`` (PostgreSQL's own convention), so a message can
name them on every database. When a write breaks a constraint, the driver's
error becomes a ``Violation``: its kind (primary key, unique, foreign key,
not null, check), the table, the constraint and its columns, and for a
duplicate the value, but only when every column is the table's key or
declared unique by the provider (identifiers: an id, an email, a name). A
value of any other column may be a secret, so it is never shown.

Each backend says it its own way: PostgreSQL by SQLSTATE and diagnostics
(``Key (email)=(…) already exists.``), MySQL/MariaDB by error code and
message (``Duplicate entry '…' for key 'user_email_key'``; the columns of a
key we did not declare are read from the server), SQLite by its extended
error name and message (``UNIQUE constraint failed: user.email``, no value).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

from datagen.tablespec import TableSpec

NAME_LENGTH = 63  # PostgreSQL's limit on identifiers (MySQL's is 64)
_PG_KEY = re.compile(
    r"^Key \((?P<columns>.*?)\)=\((?P<value>.*)\) (already exists|is duplicated)\."
)
_PG_REFERENCE = re.compile(r"^Key \((?P<columns>.*?)\)=")
_MYSQL_DUPLICATE = re.compile(r"^Duplicate entry '(?P<value>.*)' for key '(?P<key>[^']*)'$", re.S)
_SQLITE_COLUMNS = re.compile(r"constraint failed: (?P<columns>.*)$")

IndexColumns = Callable[[str, str], tuple[str, ...]]
"""The columns of a table's index, by table and index name (empty if unknown)."""
IndexName = Callable[[str, tuple[str, ...]], "str | None"]
"""The name of a table's unique index on exactly these columns (None if unknown)."""


def unique_name(table: str, column: str) -> str:
    """The name of the UNIQUE constraint on ``table.column`` (at most 63 characters)."""
    name = f"{table}_{column}_key"
    if len(name) <= NAME_LENGTH:
        return name
    digest = hashlib.blake2b(name.encode(), digest_size=4).hexdigest()
    return f"{name[: NAME_LENGTH - 13]}_{digest}_key"


def unique_columns(spec: TableSpec) -> tuple[str, ...]:
    """The columns of ``spec`` declared unique on their own (the key is unique already)."""
    return tuple(dict.fromkeys(column for column in spec.unique if column != spec.key))


@dataclass(frozen=True)
class Violation:
    """A constraint a write broke, as the database named it."""

    kind: str  # "primary key", "unique", "foreign key", "not null" or "check"
    table: str
    constraint: str | None = None
    columns: tuple[str, ...] = ()
    value: str | None = None  # the duplicated value, when it may be shown
    hidden: bool = False  # the database named a value that is not shown (it may be a secret)

    @property
    def duplicate(self) -> bool:
        return self.kind in ("primary key", "unique")

    def describe(self, *, loaded: bool = False) -> str:
        """A duplicate as one clause: which constraint, on which columns, by what value.

        ``loaded``: the constraint was added once all the rows were in (a bulk
        load), so the duplicate is between rows of this run. (Other violations
        are told in the database's own words, which name the constraint.)
        """
        columns = ", ".join(self.columns) or "?"
        place = f"{self.table}.{columns}" if len(self.columns) <= 1 else f"{self.table}({columns})"
        if self.kind == "primary key":
            text = f"primary key {place} violated"
        else:
            named = f" {self.constraint!r}" if self.constraint else ""
            text = f"{self.kind} constraint{named} on {place} violated"
        return f"{text}: {self.offender(loaded=loaded)}"

    def offender(self, *, loaded: bool = False) -> str:
        """``'a@b.example' is already in the table, or twice in this batch``."""
        subject = repr(self.value) if self.value is not None else "a value"
        if self.hidden:
            subject += " (not shown: the column is not declared unique)"
        if loaded:
            return f"{subject} is in more than one row"
        return f"{subject} is already in the table, or twice in this batch"


def duplicate(
    spec: TableSpec | None,
    table: str,
    constraint: str | None,
    columns: Sequence[str],
    value: str | None,
) -> Violation:
    """A primary-key or unique violation; ``value`` is kept only where it may be shown."""
    columns = tuple(columns)
    primary = spec is not None and columns == (spec.key,)
    allowed = {spec.key, *spec.unique} if spec is not None else set()
    shown = value is not None and bool(columns) and all(column in allowed for column in columns)
    return Violation(
        "primary key" if primary else "unique",
        table,
        None if primary else constraint,
        columns,
        value if shown else None,
        hidden=value is not None and not shown,
    )


def violation(
    exc: BaseException,
    spec: TableSpec | None,
    table: str,
    *,
    index_columns: IndexColumns | None = None,
    index_name: IndexName | None = None,
) -> Violation | None:
    """The constraint violation ``exc`` (a driver error) reports, or None if it is another.

    ``table`` is the table being written (PostgreSQL and SQLite name theirs).
    For a unique key ``spec`` does not declare, ``index_columns`` finds its
    columns (MySQL names the key only), ``index_name`` its name (SQLite names
    the columns only).
    """
    orig: Any = getattr(exc, "orig", None) or exc
    driver = type(orig).__module__.split(".")[0]
    args: tuple[Any, ...] = getattr(orig, "args", ())
    if driver == "psycopg" and getattr(orig, "sqlstate", None):
        return _postgres(orig, orig.sqlstate, spec, table)
    if driver == "pymysql" and len(args) >= 2 and isinstance(args[0], int):
        return _mysql(args[0], str(args[1]), spec, table, index_columns)
    if driver == "sqlite3":
        found = _sqlite(orig, spec, table)
        if found is not None and found.kind == "unique" and not found.constraint and index_name:
            found = replace(found, constraint=index_name(found.table, found.columns))
        return found
    return None


def _postgres(orig: Any, sqlstate: str, spec: TableSpec | None, table: str) -> Violation | None:
    diag = getattr(orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    table = getattr(diag, "table_name", None) or table
    detail = getattr(diag, "message_detail", None) or ""
    if sqlstate == "23505":
        match = _PG_KEY.match(detail)
        columns = tuple(_split(match["columns"])) if match else _declared(spec, name or "")
        return duplicate(spec, table, name, columns, match["value"] if match else None)
    if sqlstate == "23503":
        found = _PG_REFERENCE.match(detail)
        return Violation(
            "foreign key", table, name, tuple(_split(found["columns"])) if found else ()
        )
    if sqlstate == "23502":
        column = getattr(diag, "column_name", None)
        return Violation("not null", table, None, (column,) if column else ())
    if sqlstate.startswith("23"):
        return Violation("check", table, name)
    return None


def _mysql(
    code: int,
    message: str,
    spec: TableSpec | None,
    table: str,
    index_columns: IndexColumns | None,
) -> Violation | None:
    if code == 1062:  # Duplicate entry '…' for key '…'
        match = _MYSQL_DUPLICATE.match(message)
        if not match:
            return Violation("unique", table)
        key = match["key"].rsplit(".", 1)[-1]  # MySQL 8 says 'table.key'
        columns = _declared(spec, key) or (index_columns(table, key) if index_columns else ())
        return duplicate(spec, table, key, columns, match["value"])
    if code in (1451, 1452):  # a foreign key constraint fails
        column = re.search(r"FOREIGN KEY \(`(?P<column>[^`]*)`\)", message)
        name = re.search(r"CONSTRAINT `(?P<name>[^`]*)`", message)
        return Violation(
            "foreign key",
            table,
            name["name"] if name else None,
            (column["column"],) if column else (),
        )
    if code in (1048, 1364):  # Column '…' cannot be null / has no default value
        column = re.search(r"'(?P<column>[^']*)'", message)
        return Violation("not null", table, None, (column["column"],) if column else ())
    if code in (3819, 4025):  # a CHECK constraint fails (MySQL, MariaDB)
        return Violation("check", table)
    return None


def _sqlite(orig: Any, spec: TableSpec | None, table: str) -> Violation | None:
    name = getattr(orig, "sqlite_errorname", "") or ""
    match = _SQLITE_COLUMNS.search(str(orig))
    qualified = [part.strip() for part in match["columns"].split(",")] if match else []
    columns = tuple(part.split(".", 1)[-1] for part in qualified)
    if qualified and "." in qualified[0]:
        table = qualified[0].split(".", 1)[0]
    if name in ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"):
        ours = spec is not None and len(columns) == 1 and columns[0] in unique_columns(spec)
        constraint = unique_name(table, columns[0]) if ours else None  # SQLite names none
        return duplicate(spec, table, constraint, columns, None)
    if name == "SQLITE_CONSTRAINT_FOREIGNKEY":
        return Violation("foreign key", table)
    if name == "SQLITE_CONSTRAINT_NOTNULL":
        return Violation("not null", table, None, columns)
    if name.startswith("SQLITE_CONSTRAINT"):
        return Violation("check", table)
    return None


def _declared(spec: TableSpec | None, name: str) -> tuple[str, ...]:
    """The column(s) of ``spec``'s primary key or UNIQUE constraint called ``name``."""
    if spec is None:
        return ()
    if name in ("PRIMARY", f"{spec.name}_pkey"):
        return (spec.key,)
    for column in unique_columns(spec):
        if unique_name(spec.name, column) == name:
            return (column,)
    return ()


def _split(columns: str) -> list[str]:
    return [part.strip().strip('"') for part in columns.split(",") if part.strip()]
