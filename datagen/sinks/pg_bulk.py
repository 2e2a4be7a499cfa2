"""Loading whole tables into PostgreSQL in one transaction, foreign keys last.

``populate`` fills the tables it creates. The fastest safe way in is what
``pg_restore`` does: create each table with its primary key, COPY its rows,
and only then add its FOREIGN KEYs, which PostgreSQL validates in one pass
per constraint instead of a trigger per row (a 1.1-million-row population
spends about half its time in those triggers otherwise). All of it, the
``--reset`` drops included, is one transaction: an orphan row, any error or
Ctrl-C leaves the database as it was.

Tables that already exist (no ``--reset``) keep their constraints; their
rows go through a staging table and ``INSERT … ON CONFLICT (key) DO UPDATE``,
as ``publish`` does, so populating again is idempotent.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from sqlalchemy import Connection, ForeignKeyConstraint, Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import AddConstraint, CreateTable

from datagen.errors import SinkError
from datagen.sinks.base import TableSpec
from datagen.sinks.copy_text import copy_line_encoder
from datagen.sinks.database import PostgresSink
from datagen.types import Document

Chunk = tuple[int, bytes]  # rows, and their lines in COPY text format


class PostgresBulkLoad(PostgresSink):
    """A PostgreSQL sink whose writes are one transaction, committed by ``commit()``.

    ``copy(table, chunks)`` sends rows already encoded as COPY text (see
    :mod:`datagen.sinks.copy_text`); ``write`` encodes records itself. Closing
    without ``commit()`` rolls everything back.
    """

    def __init__(self, url: str) -> None:
        super().__init__(url, foreign_keys=True)
        self._fresh: set[str] = set()  # tables created in this transaction
        self._deferred: list[ForeignKeyConstraint] = []  # their FOREIGN KEYs, added last
        self._staged: set[str] = set()  # existing tables whose staging table is made

    def _prepare(self, specs: list[TableSpec], *, reset: bool) -> None:
        conn = self._connection()
        tables = self._tables(conn, specs)
        self._create_tables(conn, specs, tables, reset=reset)  # in the transaction commit() ends

    def _create(self, conn: Connection, table: Table) -> None:
        """Create ``table`` without its FOREIGN KEYs, which commit() adds after the rows."""
        conn.execute(CreateTable(table, include_foreign_key_constraints=[]))
        self._fresh.add(table.name)
        constraints = table.foreign_key_constraints
        self._deferred.extend(sorted(constraints, key=lambda c: tuple(c.column_keys)))

    def write(self, table: TableSpec, records: Iterable[Document]) -> int:
        """Encode ``records`` and copy them in (in the open transaction)."""
        line = copy_line_encoder(table.columns)
        lines = [line(record) for record in records]
        return self.copy(table, [(len(lines), "".join(lines).encode())])

    def copy(self, table: TableSpec, chunks: Iterable[Chunk]) -> int:
        """COPY the chunks' lines into ``table``; returns the rows sent."""
        plan = self._plans.get(table.name)
        if plan is None or plan.spec != table:
            raise SinkError(
                f"table {table.name!r} was not opened on {self.label} at {self.where}",
                hint="pass its TableSpec to open() first",
            )
        fresh = table.name in self._fresh
        target = self.quote(table.name) if fresh else self._stage(table)
        columns = ", ".join(self.quote(name) for name in plan.names)
        rows = 0
        try:
            dbapi: Any = self._connection().connection.dbapi_connection  # psycopg's
            with dbapi.cursor() as cursor:
                if not fresh and table.name not in self._staged:
                    cursor.execute(
                        f"CREATE TEMPORARY TABLE {target} "
                        f"(LIKE {self.quote(table.name)} INCLUDING DEFAULTS) ON COMMIT DROP"
                    )
                    self._staged.add(table.name)
                with cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
                    for count, data in chunks:
                        copy.write(data)
                        rows += count
                if not fresh:
                    cursor.execute(plan.statement)
                    cursor.execute(f"TRUNCATE {target}")
        except self._driver_error() as exc:
            raise SinkError(
                f"cannot write {table.name!r} records to {self.label} at {self.where}: "
                f"{self._reason(exc, full=True)} (nothing was written)"
            ) from exc
        self.summary.add(table.name, rows)
        return rows

    def commit(self) -> None:
        """Add the new tables' FOREIGN KEYs (each checked over all rows) and commit."""
        conn = self._connection()
        for constraint in self._deferred:
            try:
                conn.execute(AddConstraint(constraint))
            except (SQLAlchemyError, self._driver_error()) as exc:
                table, column = constraint.table.name, ", ".join(constraint.column_keys)
                raise SinkError(
                    f"cannot add the foreign key {table}.{column} -> "
                    f"{constraint.referred_table.name} in {self.label} at {self.where}: "
                    f"{self._reason(exc, full=True)} (nothing was written)"
                ) from None
        try:
            conn.commit()
        except (SQLAlchemyError, self._driver_error()) as exc:
            raise SinkError(
                f"cannot commit to {self.label} at {self.where}: {self._reason(exc)} "
                "(nothing was written)"
            ) from None

    def open(self, tables: Sequence[TableSpec], *, reset: bool = False) -> None:
        self._fresh.clear()
        self._deferred.clear()
        self._staged.clear()
        super().open(tables, reset=reset)
