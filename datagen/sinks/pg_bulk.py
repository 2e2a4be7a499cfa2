"""Loading whole tables into PostgreSQL in one transaction, their keys after their rows.

``populate`` fills the tables it creates. The fastest safe way in is what
``pg_restore`` does: create each table bare, COPY its rows, and only then
add its PRIMARY KEY and UNIQUE constraints (one sorted index build each
instead of a B-tree insert per row: COPY of 373,000 job runs takes 0.76 s +
0.18 s instead of 1.37 s) and its FOREIGN KEYs, which PostgreSQL validates
in one pass per constraint instead of a trigger per row (a 1.1-million-row
population spends about half its time in those triggers otherwise). Once a
table has its keys, its rows are counted (one ``COUNT(*)``): they must be
the rows its COPYs reported. All of it, the ``--reset`` drops included, is
one transaction: a duplicate, an orphan row, a count that is off, any error
or Ctrl-C leaves the database as it was. Except after ``share_tables()`` (a
Dask cluster's load, :mod:`datagen.scenarios.cluster_load`): the drops and
the bare tables are committed first, so the workers can COPY into them, and
a failed run drops them.

Tables that already exist (no ``--reset``) keep their constraints; their
rows go through a staging table and ``INSERT … ON CONFLICT (key) DO UPDATE``,
as ``publish`` does, so populating again is idempotent.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from sqlalchemy import (
    Column,
    Connection,
    Constraint,
    ForeignKeyConstraint,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import AddConstraint, ColumnCollectionConstraint, CreateTable

from datagen.errors import SinkError
from datagen.sinks import key_upserts
from datagen.tablespec import TableSpec
from datagen.sinks.constraints import violation
from datagen.sinks.copy_text import copy_text_encoder
from datagen.sinks.backends import PostgresSink
from datagen.sinks.readback import DISTINCT_AGAIN, Miscount, check_batch
from datagen.types import Document

Chunk = tuple[int, bytes]  # rows, and their lines in COPY text format
SHARDS_TABLE = "datagen_shards"
"""The shards other connections loaded (see share_tables): a rerun shard is not loaded twice."""


class PostgresBulkLoad(PostgresSink):
    """A PostgreSQL sink whose writes are one transaction, committed by ``commit()``.

    ``copy(table, chunks)`` sends rows already encoded as COPY text (see
    :mod:`datagen.sinks.copy_text`); ``write`` encodes records itself;
    ``finish(table)`` adds a table's keys once its rows are in (``commit()``
    finishes those left). Closing without ``commit()`` rolls everything back.
    """

    commits_batches = False  # everything is committed by commit()
    takes_copy_text = True

    def __init__(self, url: str) -> None:
        super().__init__(url, foreign_keys=True)
        self._fresh: set[str] = set()  # tables created in this transaction
        # Their keys, added once their rows are in (see finish()).
        self._primary: dict[str, list[Constraint]] = {}  # the primary key, then UNIQUEs
        self._foreign: list[ForeignKeyConstraint] = []
        self._finished: set[str] = set()
        self._staged: set[str] = set()  # existing tables whose staging table is made
        self._tracking = False  # share_tables() made the shards' ledger

    def _prepare(self, specs: list[TableSpec], *, reset: bool) -> None:
        conn = self._connection()
        tables = self._tables(conn, specs)
        self._create_tables(conn, specs, tables, reset=reset)  # in the transaction commit() ends

    def _create(self, conn: Connection, table: Table) -> None:
        """Create ``table`` without its keys, which finish() adds after its rows."""
        bare = Table(
            table.name,
            MetaData(),
            *(Column(column.name, column.type, nullable=column.nullable) for column in table.c),
        )
        conn.execute(CreateTable(bare))
        self._fresh.add(table.name)
        unique = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
        self._primary[table.name] = [table.primary_key, *sorted(unique, key=lambda c: str(c.name))]
        self._foreign.extend(sorted(table.foreign_key_constraints, key=lambda c: [*c.column_keys]))

    def write(self, table: TableSpec, records: Iterable[Document]) -> int:
        """Encode ``records`` and copy them in (in the open transaction)."""
        rows = list(records)
        return self.copy(table, [(len(rows), copy_text_encoder(table.columns)(rows).encode())])

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
                    self._create_stage(cursor, table)  # (as PostgresSink's upsert)
                    self._staged.add(table.name)
                with cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
                    for count, data in chunks:
                        copy.write(data)
                        rows += count
                if fresh:
                    new, updated = int(cursor.rowcount), 0  # the server's count ("COPY n")
                else:
                    new, updated = key_upserts.postgres_merge(cursor, plan.statement)
                    cursor.execute(f"TRUNCATE {target}")
            check_batch(table.name, rows, new, updated)
        except (self._driver_error(), Miscount) as exc:
            raise self._write_error(table, exc) from exc
        self.ledger.record(table.name, new, updated)
        self.summary.add(table.name, new + updated)
        return new + updated

    def finish(self, table: TableSpec) -> None:
        """No more rows for ``table``: add its primary key, and the foreign keys now possible.

        A foreign key is added once its table is finished and the table it
        refers to has its primary key. Called between tables, PostgreSQL
        checks the keys of one while the rows of the next are being made.
        """
        self._finished.add(table.name)
        self._add_keys()

    def _add_keys(self) -> None:
        conn = self._connection()
        for name in [name for name in self._primary if name in self._finished]:
            for constraint in self._primary.pop(name):
                self._add(conn, constraint)
            self._read_back(name)
        ready = [
            constraint
            for constraint in self._foreign
            if constraint.table.name in self._finished
            and constraint.referred_table.name not in self._primary
        ]
        for constraint in ready:
            self._add(conn, constraint)
            self._foreign.remove(constraint)

    def _add(self, conn: Connection, constraint: Constraint) -> None:
        try:
            conn.execute(AddConstraint(constraint))
        except (SQLAlchemyError, self._driver_error()) as exc:
            table = constraint.table.name
            plan = self._plans.get(table)
            broken = violation(exc, plan.spec if plan else None, table)
            unique = broken is not None and broken.kind == "unique"
            if broken is not None and broken.duplicate:
                reason = broken.offender(loaded=True)
            else:
                reason = self._reason(exc, full=True)
            raise SinkError(
                f"cannot add the {_described(constraint)} in {self.label} at {self.where}: "
                f"{reason}; nothing was written",
                hint=DISTINCT_AGAIN if unique else None,
            ) from None

    def _read_back(self, table: str) -> None:
        """A table made here, with its keys: its rows counted (one COUNT(*), SinkError if off)."""
        ledger = self.ledger
        counted = self._count(table) if ledger.batches[table] else 0
        expected = ledger.new[table]
        if counted != expected:
            raise SinkError(
                f"table {table!r} in {self.label} at {self.where} holds {counted:,} rows, "
                f"but its COPYs loaded {expected:,}; nothing was written"
            )
        self.summary.written[table] = counted

    def commit(self) -> None:
        """Finish every table (each key checked over all rows, its rows counted) and commit."""
        self._finished.update(self._fresh)
        self._add_keys()
        if self._tracking:
            self._connection().exec_driver_sql(f"DROP TABLE {SHARDS_TABLE}")
        self._commit()

    # Rows loaded by other connections (Dask workers) ------------------------------------

    @property
    def kept(self) -> list[str]:
        """The opened tables that already existed (the others were created bare)."""
        return sorted(set(self._plans) - self._fresh)

    def share_tables(self) -> None:
        """Commit the bare tables made so far, with a ledger of the shards loaded
        (``datagen_shards``), so that other connections can COPY into them; ``commit()``
        adds their keys and counts their rows later."""
        self._connection().exec_driver_sql(
            f"DROP TABLE IF EXISTS {SHARDS_TABLE}; CREATE TABLE {SHARDS_TABLE} "
            "(entity text, shard integer, PRIMARY KEY (entity, shard))"
        )
        self._tracking = True
        self._commit()

    def loaded(self, table: str, rows: int) -> None:
        """``rows`` were copied into ``table`` by another connection (counted by commit())."""
        self.ledger.record(table, rows, 0)
        self.summary.add(table, rows)

    def drop_shared(self, lock_timeout: str = "10s") -> None:
        """Best effort, after a failure: drop the tables ``share_tables`` committed."""
        if not self._tracking:
            return
        conn = self._connection()
        conn.rollback()
        conn.exec_driver_sql(f"SET lock_timeout = '{lock_timeout}'")
        for name in [*sorted(self._fresh), SHARDS_TABLE]:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.quote(name)} CASCADE")
        conn.commit()
        self._tracking = False

    def open(self, tables: Sequence[TableSpec], *, reset: bool = False) -> None:
        self._fresh.clear()
        self._primary.clear()
        self._foreign.clear()
        self._finished.clear()
        self._staged.clear()
        super().open(tables, reset=reset)


def _described(constraint: Constraint) -> str:
    """``primary key t.id``, ``unique constraint 't_email_key' on t.email`` or
    ``foreign key t.parent_id -> parent``."""
    assert isinstance(constraint, ColumnCollectionConstraint)
    table, columns = constraint.table.name, ", ".join(c.name for c in constraint.columns)
    if isinstance(constraint, ForeignKeyConstraint):
        return f"foreign key {table}.{columns} -> {constraint.referred_table.name}"
    if isinstance(constraint, PrimaryKeyConstraint):
        return f"primary key {table}.{columns}"
    return f"unique constraint {constraint.name!r} on {table}.{columns}"
