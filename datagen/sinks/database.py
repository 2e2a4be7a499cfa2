"""Database sinks: SQLite, PostgreSQL and MySQL/MariaDB through SQLAlchemy Core.

``open_database_sink(url)`` picks the backend by the URL's scheme. Every sink
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
"""

from __future__ import annotations

import re
from abc import abstractmethod
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, ClassVar, ContextManager, Iterable, Iterator, Sequence

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError as SqlIntegrityError
from sqlalchemy.exc import SQLAlchemyError

from datagen.errors import InputError, SinkError
from datagen.sinks import key_upserts
from datagen.sinks.base import Column, RecordSink, Summary, TableSpec
from datagen.sinks.constraints import violation
from datagen.sinks.dialects import (
    MYSQL,
    POSTGRESQL,
    SQLITE,
    Backend,
    RowValues,
    build_table,
    decode,
    kind_of,
    location,
    parents_first,
    parse_database_url,
    row_builder,
    sql_type,
)
from datagen.sinks.readback import (
    DISTINCT,
    DISTINCT_AGAIN,
    Ledger,
    Miscount,
    check_batch,
    committed,
    read_back,
)
from datagen.types import Document

CONNECT_TIMEOUT = 10  # seconds
_SHORT_REASONS = (
    ("connection refused", "connection refused"),
    ("timed out", "connection timed out"),
    ("timeout expired", "connection timed out"),
    ("name or service not known", "unknown host"),
    ("could not translate host name", "unknown host"),
    ("nodename nor servname", "unknown host"),
    ("temporary failure in name resolution", "unknown host"),
    ("no route to host", "no route to host"),
)


@dataclass(frozen=True)
class _Plan:
    """How one table's records are written: column order, row builder, statement."""

    spec: TableSpec
    names: tuple[str, ...]
    row: Callable[[Document], RowValues]  # the record's values in column order, encoded
    key: int  # index of the key in a row
    statement: str


class DatabaseSink(RecordSink):
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
        self.label = "MariaDB" if url.lower().startswith("mariadb") else backend.name
        self.where = location(backend, self._url)
        self._engine: Engine | None = None
        self._conn: Connection | None = None
        self._metadata = MetaData()
        self._plans: dict[str, _Plan] = {}
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

    def _prepare(self, specs: list[TableSpec], *, reset: bool) -> None:
        conn = self._connection()
        tables = self._tables(conn, specs)
        with conn.begin():
            self._create_tables(conn, specs, tables, reset=reset)

    def _tables(self, conn: Connection, specs: list[TableSpec]) -> list[Table]:
        """The SQLAlchemy tables of ``specs`` (referenced tables reflected if needed)."""
        collation = self._collation(conn)
        if self.foreign_keys:
            self._reflect_parents(conn, specs)
        tables = []
        for spec in specs:
            if spec.name in self._metadata.tables:
                self._metadata.remove(self._metadata.tables[spec.name])
            table = build_table(
                spec,
                self._metadata,
                self.backend,
                foreign_keys=self.foreign_keys,
                collation=collation,
            )
            tables.append(table)
        return tables

    def _create_tables(
        self, conn: Connection, specs: list[TableSpec], tables: list[Table], *, reset: bool
    ) -> None:
        """Drop (``reset``) and create the tables; check the columns of those kept.

        Every kept table is checked before anything changes (MySQL commits each
        change of schema at once: a refusal must come first).
        """
        existing = set(inspect(conn).get_table_names())
        kept = (
            {} if reset else {s.name: self._missing(conn, s) for s in specs if s.name in existing}
        )
        if reset:
            for table in reversed(tables):  # children first
                if table.name in existing:
                    self._drop(conn, table)
                    existing.discard(table.name)
        for spec, table in zip(specs, tables):
            if table.name in existing:
                self._add_columns(conn, spec, kept[spec.name])
            else:
                self._create(conn, table)
                self.ledger.forget(table.name)  # rows written before a reset are gone
                self.summary.written.pop(table.name, None)
                self.ledger.created.add(table.name)
        for spec in specs:
            self._plans[spec.name] = self._plan(spec)

    def _create(self, conn: Connection, table: Table) -> None:
        table.create(conn)

    def _reflect_parents(self, conn: Connection, specs: list[TableSpec]) -> None:
        """Load the referenced tables not opened here, so constraints can name them."""
        opening = {spec.name for spec in specs}
        existing: set[str] | None = None
        for spec in specs:
            for column, (parent, _) in spec.foreign_keys.items():
                if parent in opening or parent in self._metadata.tables:
                    continue
                if existing is None:
                    existing = set(inspect(conn).get_table_names())
                if parent not in existing:
                    raise SinkError(
                        f"{spec.name}.{column} refers to table {parent!r}, which is not in "
                        f"{self.label} at {self.where}",
                        hint=f"write the {parent!r} records first, or leave foreign keys off",
                    )
                Table(parent, self._metadata, autoload_with=conn, resolve_fks=False)
        if existing is not None:
            conn.rollback()  # end the reflection's implicit transaction

    def _drop(self, conn: Connection, table: Table) -> None:
        try:
            table.drop(conn)
        except (SQLAlchemyError, self._driver_error()) as exc:
            raise SinkError(
                f"cannot drop table {table.name!r} in {self.label} at {self.where}: "
                f"{self._reason(exc)}",
                hint="if other tables refer to it, reset them too",
            ) from None

    def _missing(self, conn: Connection, spec: TableSpec) -> list[Column]:
        """The columns of ``spec`` an existing table lacks: all addable, or a SinkError."""
        found = {column["name"] for column in inspect(conn).get_columns(spec.name)}
        missing = [column for column in spec.columns if column.name not in found]
        lacking = [column.name for column in missing if not column.addable]
        if lacking:
            raise SinkError(
                f"table {spec.name!r} in {self.label} at {self.where} has no column "
                + ", ".join(repr(name) for name in lacking),
                hint="it was made for other data: reset it to recreate it",
            )
        return missing

    def _add_columns(self, conn: Connection, spec: TableSpec, columns: list[Column]) -> None:
        """Add ``columns`` (nullable) to ``spec``'s table, e.g. a journey step's own."""
        for column in columns:
            kind = sql_type(column.type, self.backend).compile(dialect=conn.dialect)
            conn.exec_driver_sql(
                f"ALTER TABLE {self.quote(spec.name)} ADD COLUMN {self.quote(column.name)} {kind}"
            )

    def _collation(self, conn: Connection) -> str | None:
        return None

    def _plan(self, spec: TableSpec) -> _Plan:
        names = tuple(column.name for column in spec.columns)
        row = row_builder(spec.columns, self.backend)
        return _Plan(spec, names, row, names.index(spec.key), self._statement(spec, names))

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
        rows = self._rows(plan, records, keys)
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

    @staticmethod
    def _rows(plan: _Plan, records: Iterable[Document], keys: set[Any]) -> Iterator[RowValues]:
        """The records' rows, encoded, as they are read; their keys are added to ``keys``."""
        build, key, add = plan.row, plan.key, keys.add
        for record in records:
            row = build(record)
            value = row[key]
            if value is None:
                raise SinkError(f"a {plan.spec.name!r} record has no key {plan.spec.key!r}")
            add(value)
            yield row

    @abstractmethod
    def _statement(self, spec: TableSpec, names: tuple[str, ...]) -> str:
        """The statement ``_upsert`` writes ``spec``'s rows with (its fast path's)."""

    @abstractmethod
    def _upsert(
        self, dbapi_connection: Any, plan: _Plan, rows: Iterator[RowValues]
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


class PostgresSink(DatabaseSink):
    """PostgreSQL via psycopg 3: COPY, and an upsert once keys meet existing rows.

    A batch is first COPied straight into its table (inside a savepoint): the
    fastest way in, and the whole story while the keys are new. When a key is
    already there (a run published again, or resumed), the savepoint is rolled
    back and that table's batches go the upsert way from then on: COPY into a
    staging table, then one ``INSERT … SELECT … ON CONFLICT (key) DO UPDATE``.
    """

    backend = POSTGRESQL
    UNIQUE_VIOLATION = "23505"
    SCHEMA_LOCK = 0x64617461_67656E  # "datagen": the advisory lock key of schema changes

    def _create_tables(
        self, conn: Connection, specs: list[TableSpec], tables: list[Table], *, reset: bool
    ) -> None:
        """As DatabaseSink's, one run at a time: two runs creating a table at once would
        collide in the catalog (``pg_type_typname_nsp_index``). The lock is the
        transaction's: the second run waits, then finds the tables made."""
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({self.SCHEMA_LOCK})")
        super()._create_tables(conn, specs, tables, reset=reset)

    def _statement(self, spec: TableSpec, names: tuple[str, ...]) -> str:
        columns = ", ".join(self.quote(name) for name in names)
        key = self.quote(spec.key)
        updates = self._update_list(spec, names, "{column} = EXCLUDED.{column}")
        action = f"DO UPDATE SET {updates or f'{key} = EXCLUDED.{key}'}"  # counted, as updates
        return (
            f"INSERT INTO {self.quote(spec.name)} ({columns}) "
            f"SELECT {columns} FROM {self._stage(spec)} "
            f"ON CONFLICT ({self.quote(spec.key)}) {action}"
        )

    def _stage(self, spec: TableSpec) -> str:
        return self.quote(f"datagen_stage_{spec.name}"[:63])

    def _upsert(
        self, dbapi_connection: Any, plan: _Plan, rows: Iterator[RowValues]
    ) -> tuple[int, int]:
        table = self.quote(plan.spec.name)
        sent: list[RowValues] = []  # kept for the upsert if the COPY meets a key
        with dbapi_connection.cursor() as cursor:
            if plan.spec.name not in self._upserting:
                cursor.execute("SAVEPOINT datagen_copy")
                try:
                    self._copy(cursor, table, plan, rows, sent)
                except self._driver_error() as exc:
                    if getattr(exc, "sqlstate", None) != self.UNIQUE_VIOLATION:
                        raise
                    cursor.execute("ROLLBACK TO SAVEPOINT datagen_copy")
                    self._upserting.add(plan.spec.name)
                else:
                    copied = int(cursor.rowcount)  # the server's count ("COPY n")
                    cursor.execute("RELEASE SAVEPOINT datagen_copy")
                    return copied, 0
            sent.extend(rows)  # what the failed COPY had not read yet
            unique = {row[plan.key]: row for row in sent}  # the last of a key wins
            stage = self._stage(plan.spec)
            cursor.execute(
                f"CREATE TEMPORARY TABLE {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            self._copy(cursor, stage, plan, iter(unique.values()), [])
            return key_upserts.postgres_merge(cursor, plan.statement)

    def _copy(
        self,
        cursor: Any,
        table: str,
        plan: _Plan,
        rows: Iterator[RowValues],
        sent: list[RowValues],
    ) -> None:
        """COPY ``rows`` into ``table`` as they come, appending each to ``sent`` first."""
        columns = ", ".join(self.quote(name) for name in plan.names)
        keep = sent.append
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                keep(row)
                write(row)


class MySQLSink(DatabaseSink):
    """MySQL and MariaDB via PyMySQL: multi-row INSERT … ON DUPLICATE KEY UPDATE.

    Keys and foreign-key columns are VARCHAR(64) (TEXT can't be a key), with a
    binary collation so keys differing in case or trailing spaces stay distinct.
    Timestamps are DATETIME(6) in UTC.
    """

    backend = MYSQL
    key_order = True  # InnoDB tables are clustered on the primary key

    def _collation(self, conn: Connection) -> str | None:
        dialect = conn.dialect
        version = dialect.server_version_info or ()
        if getattr(dialect, "is_mariadb", False):
            return "utf8mb4_nopad_bin" if version >= (10, 2) else "utf8mb4_bin"
        return "utf8mb4_0900_bin" if version >= (8, 0) else "utf8mb4_bin"

    def _statement(self, spec: TableSpec, names: tuple[str, ...]) -> str:
        columns = ", ".join(self.quote(name) for name in names)
        values = ", ".join(["%s"] * len(names))
        return f"INSERT INTO {self.quote(spec.name)} ({columns}) VALUES ({values})"

    def quote(self, name: str) -> str:
        return super().quote(name).replace("%", "%%")  # the statements are %-formatted

    def _upsert(
        self, dbapi_connection: Any, plan: _Plan, rows: Iterator[RowValues]
    ) -> tuple[int, int]:
        """Plain INSERTs while the keys are new, else staged (see :mod:`key_upserts`)."""
        batch = list(rows)
        name = plan.spec.name
        with dbapi_connection.cursor() as cursor:
            if name not in self._upserting:
                integrity = self._driver_integrity_error()
                inserted = key_upserts.mysql_insert(cursor, plan.statement, batch, integrity)
                if inserted is not None:
                    return inserted, 0
                self._upserting.add(name)
            return key_upserts.mysql_merge(
                cursor, self.quote, name, plan.spec.key, plan.names, batch
            )

    def _index_columns(self, table: str, index: str) -> tuple[str, ...]:
        dbapi: Any = self._connection().connection.dbapi_connection  # PyMySQL's
        with dbapi.cursor() as cursor:
            return key_upserts.mysql_key_columns(cursor, table, index)


class SQLiteSink(DatabaseSink):
    """An SQLite file: INSERT while keys are new, then ON CONFLICT (key) DO UPDATE.

    Foreign keys are enforced.
    """

    backend = SQLITE
    key_order = True

    def write(self, table: TableSpec, records: Iterable[Document]) -> int:
        """As DatabaseSink's; a full disk also says where the rows written before wait."""
        try:
            return super().write(table, records)
        except SinkError as err:
            if "disk is full" not in err.message:
                raise
            raise SinkError(
                f"{err.message}; the batches written before are kept, the last of them in "
                f"{self.where}-wal until there is room to fold them into {self.where}",
                hint="free some space and run the command again (or remove the database "
                "file with its -wal and -shm files to start over)",
            ) from err.__cause__

    def _statement(self, spec: TableSpec, names: tuple[str, ...]) -> str:
        columns = ", ".join(self.quote(name) for name in names)
        values = ", ".join(["?"] * len(names))
        return f"INSERT INTO {self.quote(spec.name)} ({columns}) VALUES ({values})"

    def _upsert(
        self, dbapi_connection: Any, plan: _Plan, rows: Iterator[RowValues]
    ) -> tuple[int, int]:
        """Plain INSERTs while the keys are new, else an upsert (see :mod:`key_upserts`)."""
        batch = list(rows)
        spec = plan.spec
        if spec.name not in self._upserting:
            inserted = key_upserts.sqlite_insert(dbapi_connection, plan.statement, batch)
            if inserted is not None:
                return inserted, 0
            self._upserting.add(spec.name)
        updates = self._update_list(spec, plan.names, "{column} = excluded.{column}")
        key = self.quote(spec.key)
        upsert = f"{plan.statement} ON CONFLICT ({key}) DO UPDATE SET {updates or f'{key} = {key}'}"
        return key_upserts.sqlite_merge(
            dbapi_connection, self.quote, spec.name, spec.key, upsert, batch, plan.key
        )

    def _index_name(self, table: str, columns: tuple[str, ...]) -> str | None:
        dbapi = self._connection().connection.dbapi_connection
        return key_upserts.sqlite_unique_index(dbapi, self.quote, table, columns)


def last_of_each(rows: list[RowValues], key: int) -> list[RowValues]:
    """``rows`` with only the last row of each key, in the order of their first."""
    return list({row[key]: row for row in rows}.values())


def in_key_order(rows: list[RowValues], key: int) -> list[RowValues]:
    """``rows`` sorted by their key (in place), unless keys of different types can't be.

    B-tree inserts in key order fill one page after another instead of
    jumping around the index (a quarter less work for SQLite, more for
    InnoDB). The sort is stable: of rows sharing a key the last still wins.
    """
    try:
        rows.sort(key=itemgetter(key))
    except TypeError:  # e.g. integers and strings in one key column
        pass
    return rows


SINKS: dict[Backend, type[DatabaseSink]] = {
    POSTGRESQL: PostgresSink,
    MYSQL: MySQLSink,
    SQLITE: SQLiteSink,
}


def open_database_sink(url: str, *, foreign_keys: bool = False) -> DatabaseSink:
    """The sink of a database URL (not yet connected: call ``open``).

    ``sqlite:///FILE.db``, ``postgresql://…`` or ``postgres://…`` (psycopg 3),
    ``mysql://…``, ``mysql+pymysql://…`` or ``mariadb://…`` (PyMySQL).
    Raises InputError for other or malformed URLs.
    """
    backend, _ = parse_database_url(url)
    return SINKS[backend](url, foreign_keys=foreign_keys)


# Engines, connections and messages -------------------------------------------------


def create_engine_for(backend: Backend, url: URL, label: str, where: str) -> Engine:
    """An engine for ``url``; SinkError if its driver is missing or its file can't be made."""
    connect_args: dict[str, Any] = {}
    if backend is SQLITE:
        database = url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise SinkError(
                    f"cannot open {label} database at {where}: {exc.strerror or exc}"
                ) from None
    elif "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    try:
        engine = create_engine(url, connect_args=connect_args)
    except ImportError:
        raise SinkError(
            f"{label} needs the {backend.module} driver, which is not installed",
            hint=f"pip install '{backend.package}'",
        ) from None
    if backend is SQLITE:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    """Foreign keys enforced; WAL with synchronous=NORMAL, so a commit needs no fsync.

    (A commit survives the process crashing; only a power loss may lose the
    last ones — fine for generated data, and 40× faster per commit on disk.)
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    if cursor.execute("PRAGMA database_list").fetchone()[2]:  # a file, not :memory:
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def connect(engine: Engine, label: str, where: str, password: str | None) -> Connection:
    """A connection; SinkError naming ``where`` (never the password) if it fails."""
    try:
        return engine.connect()
    except (SQLAlchemyError, driver_errors(engine)[0]) as exc:
        engine.dispose()
        raise SinkError(
            f"cannot connect to {label} at {where}: {reason(exc, password)}",
            hint=(
                (LOCKED if locked(exc) else SQLITE_PATH)
                if label == SQLITE.name
                else "check that the server runs and the URL's host, port, user and database"
            ),
        ) from None


SQLITE_PATH = "check that the path names a database file (not a folder) you may write"
LOCKED = (
    "another process holds a lock on the database: wait for it to finish or stop it, "
    "then run the command again"
)


def locked(exc: BaseException) -> bool:
    """Is ``exc`` SQLite's 'database is locked' (another connection holds the file)?"""
    orig = getattr(exc, "orig", None) or exc
    return getattr(orig, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED") or (
        "database is locked" in str(orig)
    )


def driver_errors(engine: Engine | None) -> tuple[type[Exception], type[Exception]]:
    """The driver's base Error and IntegrityError classes."""
    dbapi = getattr(engine.dialect, "loaded_dbapi", None) if engine is not None else None
    if dbapi is None:
        return SQLAlchemyError, SqlIntegrityError
    return dbapi.Error, dbapi.IntegrityError


def reason(exc: BaseException, password: str | None, *, full: bool = False) -> str:
    """A short cause of a driver error: its message, never the SQL, params or password."""
    orig = getattr(exc, "orig", None) or exc
    args: tuple[Any, ...] = getattr(orig, "args", ())
    if len(args) >= 2 and isinstance(args[0], int) and isinstance(args[1], str):
        message = args[1]  # PyMySQL: (code, message)
    else:
        message = str(orig)
    lowered = message.lower()
    short = next((text for needle, text in _SHORT_REASONS if needle in lowered), None)
    if short is not None and not full:
        return short
    message = re.sub(r"^connection failed: (connection to server at .*? failed: )?", "", message)
    message = re.sub(r"^(FATAL|ERROR):\s+", "", message.strip())
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return type(orig).__name__
    message = " ".join(lines) if full else lines[0]
    if password:
        message = message.replace(password, "***")
    return message[:400]


@contextmanager
def connected(url: str) -> Iterator[tuple[Backend, Connection, str]]:
    """A connection to the existing database at ``url``: failures become SinkErrors."""
    backend, parsed = parse_database_url(url)
    label = "MariaDB" if url.lower().startswith("mariadb") else backend.name
    where = location(backend, parsed)
    if backend is SQLITE and not Path(parsed.database or "").is_file():
        raise SinkError(f"no {label} database at {where}")
    engine = create_engine_for(backend, parsed, label, where)
    try:
        with connect(engine, label, where, parsed.password) as conn:
            try:
                yield backend, conn, where
            except (SQLAlchemyError, driver_errors(engine)[0]) as exc:
                raise SinkError(
                    f"cannot read {label} at {where}: {reason(exc, parsed.password, full=True)}"
                ) from None
    finally:
        engine.dispose()


def quote_name(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


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
        fetched = conn.exec_driver_sql(f"SELECT {columns} FROM {quote(spec.name)}").fetchall()
    kinds = [(column.name, column.type) for column in spec.columns]
    rows = [
        {name: decode(kind, value) for (name, kind), value in zip(kinds, row)} for row in fetched
    ]
    return sorted(rows, key=lambda row: row[spec.key])


def count_rows(url: str, table_name: str) -> int:
    """How many rows ``table_name`` has (SinkError if there is no such table)."""
    with connected(url) as (_, conn, where):
        if not inspect(conn).has_table(table_name):
            raise SinkError(f"no table {table_name!r} in the database at {where}")
        quote = conn.dialect.identifier_preparer.quote_identifier
        count = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {quote(table_name)}").scalar_one()
    return int(count)
