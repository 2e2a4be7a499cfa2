"""Reading a database's tables back: every row as a document, or a count."""

from __future__ import annotations

import re
from typing import Iterator

from sqlalchemy import Connection, inspect, text

from datagen.errors import SinkError
from datagen.tablespec import Column, TableSpec
from datagen.sinks.connections import connected, quote_name
from datagen.sinks.dialects import decode, kind_of
from datagen.sinks.database_urls import MYSQL, POSTGRESQL, SQLITE, Backend
from datagen.types import Document

FETCH = 5_000  # rows fetched at a time


def _reflect(conn: Connection, backend: Backend, name: str, where: str) -> TableSpec:
    inspector = inspect(conn)
    if not inspector.has_table(name):
        raise SinkError(f"no table {name!r} in the database at {where}")
    columns = inspector.get_columns(name)
    primary = inspector.get_pk_constraint(name).get("constrained_columns") or []
    json_columns: set[str] = set()
    if backend is SQLITE:  # declared JSON TEXT, reflected as TEXT
        info = conn.exec_driver_sql(f"PRAGMA table_info({quote_name(conn, name)})").fetchall()
        json_columns = {row[1] for row in info if str(row[2]).upper().startswith("JSON")}
    if backend is MYSQL and getattr(conn.dialect, "is_mariadb", False):
        # MariaDB's JSON is LONGTEXT CHECK (json_valid(`column`))
        checks = conn.execute(
            text(
                "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                "WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = :name"
            ),
            {"name": name},
        )
        for (clause,) in checks:
            json_columns.update(re.findall(r"json_valid\(`([^`]+)`\)", str(clause)))
    return TableSpec(
        name=name,
        key=primary[0] if primary else columns[0]["name"],
        columns=tuple(
            Column(c["name"], "json" if c["name"] in json_columns else kind_of(c["type"]))
            for c in columns
        ),
    )


def read_rows(url: str, table: str | TableSpec) -> list[Document]:
    """Every row of ``table``, ordered by key, as documents.

    JSON columns are decoded, timestamps are aware UTC datetimes and booleans
    bools. Given a table name the column types come from the database itself.
    """
    with connected(url) as (backend, conn, where):
        spec = table if isinstance(table, TableSpec) else _reflect(conn, backend, table, where)
        if isinstance(table, TableSpec) and not inspect(conn).has_table(spec.name):
            raise SinkError(f"no table {spec.name!r} in the database at {where}")
        rows = list(documents(conn, backend, spec))
    return sorted(rows, key=lambda row: row[spec.key])


def documents(
    conn: Connection, backend: Backend, spec: TableSpec, *, fetch: int = FETCH
) -> Iterator[Document]:
    """Every row of ``spec``'s table as a document, streamed ``fetch`` rows at a time.

    The one read-back: ``read_rows`` and ``verify-target``'s digests
    (:mod:`datagen.scenarios.digest`) both read through it.
    """
    quote = conn.dialect.identifier_preparer.quote_identifier
    columns = ", ".join(
        # JSON comes back as text everywhere (psycopg would decode JSONB itself)
        (
            f"CAST({quote(column.name)} AS TEXT)"
            if column.type == "json" and backend is POSTGRESQL
            else quote(column.name)
        )
        for column in spec.columns
    )
    kinds = [(column.name, column.type) for column in spec.columns]
    result = conn.execution_options(stream_results=True).exec_driver_sql(
        f"SELECT {columns} FROM {quote(spec.name)}"
    )
    try:
        while batch := result.fetchmany(fetch):
            for row in batch:
                yield {name: decode(kind, value) for (name, kind), value in zip(kinds, row)}
    finally:
        result.close()


def count_rows(url: str, table_name: str) -> int:
    """How many rows ``table_name`` has (SinkError if there is no such table)."""
    with connected(url) as (_, conn, where):
        if not inspect(conn).has_table(table_name):
            raise SinkError(f"no table {table_name!r} in the database at {where}")
        quote = conn.dialect.identifier_preparer.quote_identifier
        count = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {quote(table_name)}").scalar_one()
    return int(count)
