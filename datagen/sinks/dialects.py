"""Per-backend details of the database sinks: drivers, column types, values.

The sinks in :mod:`datagen.sinks.database` move values to and from the
database drivers themselves (COPY, ``executemany``), so the conversions live
here rather than in SQLAlchemy types: ``encoder`` turns a record's value into
what the driver takes, ``decode`` turns what the driver returns back into the
value a document holds (JSON decoded, timestamps as aware UTC datetimes).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from operator import itemgetter
from typing import Any, Callable, Sequence

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    Float,
    ForeignKeyConstraint,
    UniqueConstraint,
)
from sqlalchemy import Column as SqlColumn
from sqlalchemy import Integer, MetaData, Table, Text
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.schema import SchemaItem
from sqlalchemy.types import TypeEngine, UserDefinedType

from datagen.errors import SchemaError
from datagen.ordering import depth_first
from datagen.tablespec import Column, TableSpec
from datagen.sinks.constraints import unique_columns, unique_name
from datagen.sinks.database_urls import BACKENDS, MYSQL, POSTGRESQL, SQLITE, Backend  # noqa: F401
from datagen.sinks.database_urls import location, parse_database_url  # noqa: F401 (re-exported)
from datagen.types import Document

UTC = timezone.utc
KINDS = ("text", "integer", "float", "boolean", "timestamp", "date", "json")
MYSQL_KEY_LENGTH = 64  # VARCHAR length of MySQL keys and foreign-key columns (TEXT can't be keyed)
MYSQL_UNIQUE_LENGTH = 255  # VARCHAR length of MySQL text columns declared unique


# Schema ------------------------------------------------------------------------------


class SQLiteJSON(UserDefinedType[Any]):
    """JSON in SQLite, declared ``JSON TEXT``.

    A column declared just ``JSON`` has NUMERIC affinity: SQLite would turn the
    JSON text ``42`` into an integer (and big ones into lossy reals).
    """

    cache_ok = True

    def get_col_spec(self, **_: Any) -> str:
        return "JSON TEXT"


def sql_type(
    kind: str, backend: Backend, *, keyed: bool = False, unique: bool = False
) -> TypeEngine[Any]:
    """The column type of a TableSpec ``kind`` (``keyed``: key or foreign-key column).

    Keyed text is compared byte by byte: PostgreSQL's "C" collation, which
    builds and checks key indexes without the locale's rules (a third faster
    on 370,000 keys); MySQL's binary collation is set per table. ``unique``
    text on MySQL is ``VARCHAR(255)``: a TEXT column can't be a plain unique
    key (MariaDB's long unique keys on TEXT are hashes, which MySQL lacks).
    """
    if kind == "text":
        if backend is MYSQL and keyed:
            return mysql.VARCHAR(MYSQL_KEY_LENGTH)
        if backend is MYSQL and unique:
            return mysql.VARCHAR(MYSQL_UNIQUE_LENGTH)
        return Text(collation="C") if backend is POSTGRESQL and keyed else Text()
    if kind == "integer":
        return BigInteger()
    if kind == "float":
        return Double()
    if kind == "boolean":
        return Boolean()
    if kind == "timestamp":
        return mysql.DATETIME(fsp=6) if backend is MYSQL else DateTime(timezone=True)
    if kind == "date":
        return Date()
    if kind == "json":
        if backend is SQLITE:
            return SQLiteJSON()
        return postgresql.JSONB() if backend is POSTGRESQL else JSON()
    raise SchemaError(f"unknown column type {kind!r}", hint=f"use one of {', '.join(KINDS)}")


def build_table(
    spec: TableSpec,
    metadata: MetaData,
    backend: Backend,
    *,
    foreign_keys: bool,
    collation: str | None = None,
) -> Table:
    """The SQLAlchemy table of ``spec``: its key is the primary key.

    Columns declared unique get a UNIQUE constraint each, named
    ``<table>_<column>_key``. With ``foreign_keys``, references to tables
    already in ``metadata`` (or to itself) become FOREIGN KEY constraints;
    references to other tables are left out.
    """
    names = [column.name for column in spec.columns]
    if spec.key not in names:
        raise SchemaError(f"key {spec.key!r} is not a column", where=f"table {spec.name!r}")
    unique = unique_columns(spec)
    strays = [name for name in unique if name not in names]
    if strays:
        raise SchemaError(
            f"unique {', '.join(map(repr, strays))} is not a column", where=f"table {spec.name!r}"
        )
    columns = [
        SqlColumn(
            column.name,
            sql_type(
                column.type,
                backend,
                keyed=column.name in spec.foreign_keys,
                unique=column.name in unique,
            ),
            nullable=column.nullable and column.name != spec.key,
        )
        for column in spec.columns
        if column.name != spec.key
    ]
    key_column = next(column for column in spec.columns if column.name == spec.key)
    key = SqlColumn(
        spec.key,
        sql_type(key_column.type, backend, keyed=True),
        primary_key=True,
        autoincrement=False,
    )
    items: list[SchemaItem] = [key, *columns]
    items.extend(UniqueConstraint(name, name=unique_name(spec.name, name)) for name in unique)
    if foreign_keys:
        for name, (target, target_column) in spec.foreign_keys.items():
            if name in names and (target in metadata.tables or target == spec.name):
                items.append(ForeignKeyConstraint([name], [f"{target}.{target_column}"]))
    options: dict[str, Any] = {}
    if backend is MYSQL:
        options = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
        if collation:
            options["mysql_collate"] = collation
    return Table(spec.name, metadata, *items, **options)


def parents_first(specs: Sequence[TableSpec]) -> list[TableSpec]:
    """``specs`` ordered so referenced tables come before those that refer to them.

    An order that is already so (every caller's: a plan's, a publish's) is kept.
    """
    by_name = {spec.name: spec for spec in specs}

    def parents(name: str) -> list[str]:
        return [t for t, _ in by_name[name].foreign_keys.values() if t in by_name and t != name]

    return [by_name[name] for name in depth_first(by_name, parents)]


# Values ------------------------------------------------------------------------------

Encoder = Callable[[Any], Any]
RowValues = tuple[Any, ...]
_fromisoformat = datetime.fromisoformat


def to_json(value: Any) -> str:
    """A JSON document of ``value`` (nested datetimes as ISO 8601 strings)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # e.g. integers beyond 64 bits
        return json.dumps(value, ensure_ascii=False, default=str)


def to_utc(value: Any) -> Any:
    """An aware UTC datetime of a datetime or ISO string (naive ones are taken as UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_text(value: Any) -> Any:
    """A text column's value: strings as they are, JSON of nested values, else ``str``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return to_json(value)
    if isinstance(value, datetime):
        return to_utc(value).isoformat()
    return str(value)


def _json(value: Any) -> Any:
    return None if value is None else to_json(value)


def utc_text(value: Any) -> Any:
    """A timestamp as naive UTC text ``YYYY-MM-DD HH:MM:SS.ffffff`` (SQLite, MySQL).

    Takes datetimes (naive ones are UTC) and ISO 8601 strings; anything else,
    and strings that are not timestamps, are returned as they are. Strings in
    UTC as documents hold them (``2023-08-04T09:23:57+00:00``) are reformatted
    without building a datetime.
    """
    if value.__class__ is str:
        size = len(value)
        if (
            (size == 25 or (size == 32 and value[19] == "."))
            and value[10] == "T"
            and value.endswith("+00:00")
        ):
            try:
                _fromisoformat(value)  # a real timestamp, not just its shape
            except ValueError:
                return value
            return (
                f"{value[:10]} {value[11:19]}.000000"
                if size == 25
                else f"{value[:10]} {value[11:26]}"
            )
        value = to_utc(value)
    if isinstance(value, datetime):
        if value.tzinfo is not UTC:
            value = to_utc(value)
        return value.isoformat(" ", "microseconds")[:26]
    return value


def _pg_timestamp(value: Any) -> Any:
    """What PostgreSQL's COPY takes: aware UTC datetimes and UTC ISO strings as they are."""
    if value.__class__ is str and value.endswith("+00:00"):
        return value  # PostgreSQL reads ISO 8601 with its offset (and rejects what isn't)
    if value.__class__ is datetime and value.tzinfo is UTC:
        return value
    return to_utc(value)


def _sqlite_date(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def encoder(kind: str, backend: Backend) -> Encoder | None:
    """How a value of ``kind`` is passed to ``backend``'s driver (None: as it is).

    Encoders are called with values that are not None.
    """
    if kind == "text":
        return to_text
    if kind == "json":
        return _json
    if kind == "timestamp":
        return _pg_timestamp if backend is POSTGRESQL else utc_text
    if kind == "date" and backend is SQLITE:
        return _sqlite_date
    return None


def row_builder(columns: Sequence[Column], backend: Backend) -> Callable[[Document], RowValues]:
    """A function giving a record's values in ``columns``' order, as the driver takes them.

    Fields missing from the record are None; text columns take strings as they
    are and anything else through ``to_text``; JSON columns get JSON text;
    other kinds go through their ``encoder``. It runs for every row, so it is
    compiled once per table into straight-line code, as document templates are.
    """
    names = [column.name for column in columns]
    values = [f"v{index}" for index in range(len(columns))]
    unpack = "".join(f"{value}, " for value in values)
    lines = [
        "def row(record):",
        "    try:",
        f"        {unpack}= {'(record[names[0]],)' if len(names) == 1 else 'fields(record)'}",
        "    except KeyError:  # missing fields are NULL",
        "        get = record.get",
        *(f"        {value} = get({name!r})" for value, name in zip(values, names)),
    ]
    scope: dict[str, Any] = {
        "names": names,
        "fields": itemgetter(*names),
        "to_text": to_text,
        "to_json": to_json,
        "dumps": orjson.dumps,
        "NON_STR_KEYS": orjson.OPT_NON_STR_KEYS,
    }
    for index, (value, column) in enumerate(zip(values, columns)):
        encode = encoder(column.type, backend)
        if encode is to_text:
            lines.append(f"    if {value}.__class__ is not str and {value} is not None:")
            lines.append(f"        {value} = to_text({value})")
        elif encode is _json:  # to_json, inlined
            lines.append(f"    if {value} is not None:")
            lines.append("        try:")
            lines.append(f"            {value} = dumps({value}, option=NON_STR_KEYS).decode()")
            lines.append("        except TypeError:")
            lines.append(f"            {value} = to_json({value})")
        elif encode is not None:
            scope[f"encode{index}"] = encode
            lines.append(f"    if {value} is not None:")
            lines.append(f"        {value} = encode{index}({value})")
    lines.append(f"    return ({unpack})")
    exec(compile("\n".join(lines) + "\n", "<row builder>", "exec"), scope)
    return scope["row"]  # type: ignore[no-any-return]


def decode(kind: str, value: Any) -> Any:
    """A value read from any backend as the document held it."""
    if value is None:
        return None
    if kind == "json":
        if isinstance(value, (bytes, bytearray)):
            value = value.decode()
        return json.loads(value)  # read as text: a JSON string stays a string
    if kind == "timestamp":
        return to_utc(value)
    if kind == "date":
        if isinstance(value, str):
            return date.fromisoformat(value[:10])
        return value.date() if isinstance(value, datetime) else value
    if kind == "boolean":
        return bool(value)
    if kind == "integer" and not isinstance(value, int):
        return int(value)
    if kind == "float" and not isinstance(value, float):
        return float(value)
    return value


def kind_of(sql: TypeEngine[Any]) -> str:
    """The TableSpec kind of a reflected column type."""
    if isinstance(sql, JSON):
        return "json"
    if isinstance(sql, mysql.TINYINT) and getattr(sql, "display_width", None) == 1:
        return "boolean"
    if isinstance(sql, Boolean):
        return "boolean"
    if isinstance(sql, DateTime):
        return "timestamp"
    if isinstance(sql, Date):
        return "date"
    if isinstance(sql, Integer):
        return "integer"
    if isinstance(sql, Float):
        return "float"
    return "text"
