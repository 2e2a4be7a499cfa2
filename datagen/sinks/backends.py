"""The per-database sinks: PostgreSQL (COPY), MySQL/MariaDB and SQLite upserts."""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from sqlalchemy import Connection, Table

from datagen.errors import SinkError
from datagen.sinks import key_upserts
from datagen.tablespec import TableSpec
from datagen.sinks.dialects import (
    RowValues,
)
from datagen.sinks.database_urls import MYSQL, POSTGRESQL, SQLITE, Backend, parse_database_url
from datagen.types import Document
from datagen.sinks.database import DatabaseSink
from datagen.sinks.rows import RowPlan


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

    def _create_stage(self, cursor: Any, spec: TableSpec) -> str:
        """The staging table of ``spec`` (dropped at commit): the one way rows meet keys.

        Rows are COPied into it, then merged by ``plan.statement`` (``INSERT …
        SELECT … ON CONFLICT (key) DO UPDATE``, :func:`key_upserts.postgres_merge`).
        """
        stage = self._stage(spec)
        cursor.execute(
            f"CREATE TEMPORARY TABLE {stage} "
            f"(LIKE {self.quote(spec.name)} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        return stage

    def _upsert(
        self, dbapi_connection: Any, plan: RowPlan, rows: Iterator[RowValues]
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
            stage = self._create_stage(cursor, plan.spec)
            self._copy(cursor, stage, plan, iter(unique.values()), [])
            return key_upserts.postgres_merge(cursor, plan.statement)

    def _copy(
        self,
        cursor: Any,
        table: str,
        plan: RowPlan,
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
        self, dbapi_connection: Any, plan: RowPlan, rows: Iterator[RowValues]
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
        self, dbapi_connection: Any, plan: RowPlan, rows: Iterator[RowValues]
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
