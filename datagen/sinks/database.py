"""Database sinks: SQLite, PostgreSQL and MySQL/MariaDB through SQLAlchemy Core.

``open_database_sink(url)`` (:mod:`datagen.sinks.backends`) picks the backend by the
URL's scheme. Every sink
creates a table per TableSpec (the spec's key is the primary key) and upserts
batches of records on that key, on each backend's bulk path:

- PostgreSQL: COPY straight into the table while the keys are new; once a
  key meets an existing row, COPY into a temporary staging table, then one
  ``INSERT … SELECT … ON CONFLICT (key) DO UPDATE``;
- MySQL/MariaDB and SQLite: plain multi-row INSERTs while the keys are new,
  then updates joined on the key and inserts of the new keys
  (:mod:`datagen.sinks.key_upserts`), each batch in key order.

Every path matches rows on the primary key only: a record meeting another
row on another unique key fails, it never merges into it. Each batch is one
transaction, and the database's count of the rows it inserted and updated
must account for each of its keys (:mod:`datagen.sinks.readback`, which
also counts the tables a run created at its end: ``read_back``). Timestamps
are stored in UTC; nested values as JSON (JSONB on PostgreSQL). Failures
raise SinkError, whose message names the backend and ``host:port`` (or the
SQLite file) and never a password. A violated constraint raises SinkError
too, saying which (:mod:`datagen.sinks.constraints`) and what is committed;
its ``__cause__`` is the driver's IntegrityError.
This module holds what every backend shares (connecting, writing batches,
counting them back); :mod:`datagen.sinks.table_setup` creating the tables;
:mod:`datagen.sinks.backends` the per-database upserts;
:mod:`datagen.sinks.connections` engines, connections and messages;
:mod:`datagen.sinks.reading` reading tables back.
"""

from __future__ import annotations

from abc import abstractmethod
from contextlib import nullcontext
from itertools import chain
from typing import Any, ClassVar, ContextManager, Iterable, Iterator, Sequence

from sqlalchemy import Connection, Engine, MetaData
from sqlalchemy.exc import SQLAlchemyError

from datagen.errors import InputError, SinkError
from datagen.sinks.base import RecordSink, Summary, TableSpec
from datagen.sinks.constraints import violation
from datagen.sinks.dialects import RowValues, parents_first, row_builder
from datagen.sinks.table_setup import TableSetup
from datagen.sinks.readback import (
    DISTINCT,
    DISTINCT_AGAIN,
    Ledger,
    Miscount,
    check_batch,
    committed,
    read_back,
)
from datagen.sinks.database_urls import backend_label, Backend, location, parse_database_url
from datagen.types import Document
from datagen.sinks.rows import RowPlan, encoded_rows, in_key_order, last_of_each
from datagen.sinks.connections import (
    LOCKED,
    connect,
    create_engine_for,
    driver_errors,
    locked,
    quote_name,
    reason,
)


class DatabaseSink(TableSetup, RecordSink):
    """A database reached through SQLAlchemy; subclasses add the bulk upsert.

    ``foreign_keys``: create the TableSpecs' references as FOREIGN KEY
    constraints, so the database rejects a record whose parent row is missing.
    A referenced table must be opened too (parents are created first, whatever
    the order given) or already be in the database; otherwise open() fails.
    """

    backend: ClassVar[Backend]
    key_order: ClassVar[bool] = False  # write each batch sorted by key (see in_key_order)
    commits_batches: ClassVar[bool] = True  # each write is committed (not so in bulk loads)

    def __init__(self, url: str, *, foreign_keys: bool = False) -> None:
        backend, self._url = parse_database_url(url)
        if backend is not self.backend:
            raise InputError(f"{type(self).__name__} does not take {backend.name} URLs")
        super().__init__(url)
        self.foreign_keys = foreign_keys
        self.label = backend_label(url, backend)
        self.where = location(backend, self._url)
        self._engine: Engine | None = None
        self._conn: Connection | None = None
        self._metadata = MetaData()
        self._plans: dict[str, RowPlan] = {}
        self.ledger = Ledger()
        self._upserting: set[str] = set()  # tables where a key met an existing row
        self.says_committed = True  # a failed write says what is committed (replay: no)

    # Connection and schema -------------------------------------------------------

    def open(self, tables: Sequence[TableSpec], *, reset: bool = False) -> None:
        """Connect; create the missing ``tables`` (``reset``: drop and recreate them)."""
        if self._conn is None:
            self._engine = self._create_engine()
            self._conn = connect(self._engine, self.label, self.where, self._url.password)
        self._upserting.difference_update(spec.name for spec in tables)
        try:
            self._prepare(parents_first(tables), reset=reset)
        except SinkError:
            self.close()
            raise
        except (SQLAlchemyError, self._driver_error()) as exc:
            self.close()
            raise SinkError(
                f"cannot create tables in {self.label} at {self.where}: {self._reason(exc)}"
            ) from None

    def _create_engine(self) -> Engine:
        return create_engine_for(self.backend, self._url, self.label, self.where)

    def _batch(self, conn: Connection) -> ContextManager[Any]:
        """The transaction one ``write`` runs in: its own, committed at its end."""
        return conn.begin()

    def _plan(self, spec: TableSpec) -> RowPlan:
        names = tuple(column.name for column in spec.columns)
        row = row_builder(spec.columns, self.backend)
        return RowPlan(spec, names, row, names.index(spec.key), self._statement(spec, names))

    def quote(self, name: str) -> str:
        assert self._engine is not None
        return self._engine.dialect.identifier_preparer.quote_identifier(name)

    # Writing -----------------------------------------------------------------------

    def write(self, table: TableSpec, records: Iterable[Document]) -> int:
        """Upsert ``records`` in one transaction; returns the rows the database wrote.

        ``records`` is read once, as the rows go out, so it can be a stream.
        Records without a column's field write NULL there; of records sharing
        a key the last wins. The database's count of the rows it inserted and
        updated must be the batch's distinct keys (else SinkError, the batch
        rolled back).
        """
        conn = self._connection()
        plan = self._plans.get(table.name)
        if plan is None or plan.spec != table:
            raise SinkError(
                f"table {table.name!r} was not opened on {self.label} at {self.where}",
                hint="pass its TableSpec to open() first",
            )
        keys: set[Any] = set()
        rows = encoded_rows(plan, records, keys)
        if self.key_order:
            listed = in_key_order(list(rows), plan.key)
            rows = iter(listed if len(listed) == len(keys) else last_of_each(listed, plan.key))
        first = next(rows, None)
        if first is None:
            return 0
        try:
            with self._batch(conn):
                dbapi = conn.connection.dbapi_connection
                new, updated = self._upsert(dbapi, plan, chain((first,), rows))
                check_batch(table.name, len(keys), new, updated)
        except (SQLAlchemyError, self._driver_error(), Miscount) as exc:
            raise self._write_error(table, exc) from (getattr(exc, "orig", None) or exc)
        self.ledger.record(table.name, new, updated)
        self.summary.add(table.name, new + updated)
        return new + updated

    def read_back(self) -> Summary:
        """Count the rows of the tables this run created, in the database; the summary.

        Call it once every write is done: a table made by this run must hold
        the rows it inserted (SinkError naming both numbers if not), and that
        count is what the summary reports for it.
        """
        conn = self._connection()
        try:
            with nullcontext() if conn.in_transaction() else conn.begin():
                found = read_back(self.ledger, self._count, f"{self.label} at {self.where}")
        except (SQLAlchemyError, self._driver_error()) as exc:
            raise SinkError(
                f"cannot count the rows written to {self.label} at {self.where}: "
                f"{self._reason(exc)}"
            ) from None
        self.summary.written.update(found)
        return self.summary

    def commit(self) -> None:
        """Every batch is committed as it is written: count the tables this run made."""
        self.read_back()

    def _count(self, table: str) -> int:
        """``SELECT COUNT(*)`` of ``table``, in the open transaction."""
        conn = self._connection()
        statement = f"SELECT COUNT(*) FROM {quote_name(conn, table)}"
        return int(conn.exec_driver_sql(statement).scalar_one())

    def _write_error(self, table: TableSpec, exc: BaseException) -> SinkError:
        """What a failed write broke (a constraint, named), and what is committed."""
        broken = violation(
            exc,
            table,
            table.name,
            index_columns=self._index_columns,
            index_name=self._index_name,
        )
        duplicate = broken is not None and broken.duplicate
        if isinstance(exc, Miscount):
            reason = exc.message
        else:
            reason = broken.describe() if broken and duplicate else self._reason(exc, full=True)
        hint = None
        if broken is not None and broken.kind == "foreign key":
            hint = "write the referenced records first, or create the tables without foreign keys"
        elif duplicate:
            hint = DISTINCT if self.commits_batches and self.says_committed else DISTINCT_AGAIN
        elif locked(exc):
            hint = LOCKED
        if not self.commits_batches:
            state = "; nothing was written"
        elif self.says_committed:
            state = f"; {committed(self.ledger)}"
        else:
            state = ""
        return SinkError(
            f"cannot write {table.name!r} records to {self.label} at {self.where}: "
            f"{reason}{state}",
            hint=hint,
        )

    def _index_columns(self, table: str, index: str) -> tuple[str, ...]:
        """The columns of ``table``'s index ``index`` (MySQL names keys, not their columns)."""
        return ()

    def _index_name(self, table: str, columns: tuple[str, ...]) -> str | None:
        """The unique index of ``table`` on ``columns`` (SQLite names columns, not indexes)."""
        return None

    @abstractmethod
    def _statement(self, spec: TableSpec, names: tuple[str, ...]) -> str:
        """The statement ``_upsert`` writes ``spec``'s rows with (its fast path's)."""

    @abstractmethod
    def _upsert(
        self, dbapi_connection: Any, plan: RowPlan, rows: Iterator[RowValues]
    ) -> tuple[int, int]:
        """Write ``rows`` (encoded, at least one) inside the open transaction.

        Rows may share a key (the last one must win), except where
        ``key_order`` keeps the last of each. Returns the database's counts of
        rows inserted and of rows updated, matched on the primary key only.
        """

    def _update_list(self, spec: TableSpec, names: tuple[str, ...], template: str) -> str:
        return ", ".join(
            template.format(column=self.quote(name)) for name in names if name != spec.key
        )

    def _commit(self) -> None:
        """Commit the open transaction (the bulk loads' one); SinkError if it fails."""
        try:
            self._connection().commit()
        except (SQLAlchemyError, self._driver_error()) as exc:
            raise SinkError(
                f"cannot commit to {self.label} at {self.where}: {self._reason(exc)} "
                "(nothing was written)"
            ) from None

    # Closing and errors ----------------------------------------------------------------

    def close(self) -> Summary:
        """Disconnect (idempotent); returns what was written."""
        if self._conn is not None:
            try:
                self._conn.close()
            except (SQLAlchemyError, self._driver_error()):
                pass
            self._conn = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        return self.summary

    def _connection(self) -> Connection:
        if self._conn is None:
            raise SinkError(f"the {self.label} sink at {self.where} is not open")
        return self._conn

    def _driver_error(self) -> type[Exception]:
        return driver_errors(self._engine)[0]

    def _driver_integrity_error(self) -> type[Exception]:
        return driver_errors(self._engine)[1]

    def _reason(self, exc: BaseException, *, full: bool = False) -> str:
        return reason(exc, self._url.password, full=full)
