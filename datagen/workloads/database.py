"""The workload's database access: set-up, the writers' connections, reading back.

All of it goes through the sinks' helpers (``parse_database_url``,
``create_engine_for``, ``connect``, ``reason``), so a wrong URL or a server
that is down gets the same one-line message as ``publish``, and through the
replay's rules for which failures are worth another try. It is the one
module of the package that touches a database, so that it can move into the
targets package with the rest.

Writers use the driver's connection directly, in autocommit mode: a one-row
write is one statement and one round trip (as pgbench sends it); a larger
transaction is ``BEGIN`` … ``COMMIT`` (``BEGIN IMMEDIATE`` on SQLite, which
takes the file's write lock up front rather than failing to upgrade a read).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Sequence

from sqlalchemy import Column as SqlColumn
from sqlalchemy import Connection, Engine, MetaData, Table, inspect
from sqlalchemy.exc import SQLAlchemyError

from datagen.errors import InputError, SinkError
from datagen.replay.targets import _transient_database_error
from datagen.sinks.urls import backend_label, redact
from datagen.sinks.connections import connect, create_engine_for, driver_errors, reason
from datagen.sinks.urls import MYSQL, POSTGRESQL, SQLITE, location, parse_database_url
from datagen.sinks.dialects import sql_type, to_json
from datagen.workloads import sql
from datagen.workloads.model import TableDef, Workload

SQLITE_BUSY_TIMEOUT_MS = 60_000  # SQLite: how long a writer waits for another's lock
DIALECTS = {POSTGRESQL: "postgresql", MYSQL: "mysql", SQLITE: "sqlite"}

# Error classes of the report (what a failed attempt was), by SQLSTATE / MySQL code.
_PG_CLASSES = {"40P01": "deadlock", "40001": "serialization", "55P03": "lock timeout"}
_MYSQL_CLASSES = {1213: "deadlock", 1020: "serialization", 1205: "lock timeout"}
_MYSQL_LOST = {2002, 2003, 2006, 2013, 1040}
_MYSQL_CONSTRAINT = {1062, 1451, 1452, 1048, 1364}


@dataclass(frozen=True)
class Failure:
    """A failed attempt: its class for the report, whether to retry, a one-line reason."""

    kind: str  # deadlock | serialization | lock timeout | connection | constraint | other
    transient: bool
    message: str


class Database:
    """One database URL: where it is, its dialect, and connections to it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.backend, self.parsed = parse_database_url(url)
        self.dialect = DIALECTS[self.backend]
        self.label = backend_label(url, self.backend)
        self.where = location(self.backend, self.parsed)
        self.shown = redact(url)
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine_for(self.backend, self.parsed, self.label, self.where)
        return self._engine

    def connect(self, engine: Engine | None = None) -> Connection:
        """A connection in autocommit mode; SinkError naming host:port if it fails.

        ``engine``: a writer connection's own (an engine's pool holds 15 at most).
        """
        conn = connect(engine or self.engine(), self.label, self.where, self.parsed.password)
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if self.backend is SQLITE:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        return conn

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def failure(self, exc: BaseException) -> Failure:
        """What a driver error means for the writer (retry or not) and for the report."""
        cause = getattr(exc, "orig", None) or exc
        wrapped = SinkError(reason(cause, self.parsed.password, full=True))
        wrapped.__cause__ = cause
        transient = _transient_database_error(wrapped)
        sqlstate = getattr(cause, "sqlstate", None)
        args = getattr(cause, "args", ())
        code = args[0] if args and isinstance(args[0], int) else None
        names = {kind.__name__ for kind in type(cause).__mro__}
        if sqlstate is not None:
            kind = _PG_CLASSES.get(sqlstate) or (
                "connection"
                if sqlstate[:2] in ("08", "57")
                else "constraint" if sqlstate[:2] == "23" else "other"
            )
        elif code is not None:
            kind = _MYSQL_CLASSES.get(code) or (
                "connection"
                if code in _MYSQL_LOST
                else "constraint" if code in _MYSQL_CONSTRAINT else "other"
            )
        elif "IntegrityError" in names:
            kind = "constraint"
        elif transient and self.backend is SQLITE:
            kind = "lock timeout"
        elif transient:
            kind = "connection"
        else:
            kind = "other"
        return Failure(kind, transient, wrapped.message)

    # Set-up ---------------------------------------------------------------------------

    def prepare(self, workload: Workload, tables: Sequence[TableDef], *, reset: bool) -> None:
        """``reset``: drop and create the tables, views and set-up SQL; else check they exist."""
        conn = self.connect()
        try:
            if reset:
                self._reset(conn, workload, tables)
            else:
                self._check(conn, workload, tables)
        except (SQLAlchemyError, driver_errors(self._engine)[0]) as exc:
            raise SinkError(
                f"cannot set up the workload's tables in {self.label} at {self.where}: "
                f"{reason(exc, self.parsed.password, full=True)}"
            ) from None
        finally:
            conn.close()

    def _reset(self, conn: Connection, workload: Workload, tables: Sequence[TableDef]) -> None:
        for view in reversed(list(workload.views.values())):
            conn.exec_driver_sql(sql.drop_view(self.dialect, view))
        metadata = MetaData()
        built = [self._table(table, metadata) for table in tables]
        existing = set(inspect(conn).get_table_names())
        for table in reversed(built):
            if table.name in existing:
                table.drop(conn)
        for table in built:
            table.create(conn)
        for view in workload.views.values():
            create = sql.create_view(self.dialect, view)
            if create is not None:
                conn.exec_driver_sql(create)
        for statement in workload.setup:
            text = statement.for_dialect(self.dialect)
            if text is not None:
                conn.exec_driver_sql(text)

    def _table(self, table: TableDef, metadata: MetaData) -> Table:
        columns = [
            SqlColumn(
                column.name,
                sql_type(column.type, self.backend, keyed=column.name in table.key),
                primary_key=column.name in table.key,
                autoincrement=False,
                nullable=column.name not in table.key,
            )
            for column in table.columns
        ]
        options: dict[str, Any] = {}
        if self.backend is MYSQL:
            options = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
        return Table(table.name, metadata, *columns, **options)

    def _check(self, conn: Connection, workload: Workload, tables: Sequence[TableDef]) -> None:
        inspector = inspect(conn)
        existing = set(inspector.get_table_names())
        views = set(inspector.get_view_names())
        if self.backend is POSTGRESQL:
            views |= set(inspector.get_materialized_view_names())
        for table in tables:
            if table.name not in existing:
                raise InputError(
                    f"table {table.name!r} is not in {self.label} at {self.where}",
                    where=str(table.where),
                    hint="run with --reset to create the workload's tables",
                )
            found = {column["name"] for column in inspector.get_columns(table.name)}
            missing = [c.name for c in table.columns if c.name not in found]
            if missing:
                raise InputError(
                    f"table {table.name!r} in {self.label} at {self.where} has no column "
                    + ", ".join(repr(name) for name in missing),
                    where=str(table.where),
                    hint="it was made for other data: --reset recreates it",
                )
        for view in workload.views.values():
            if view.name not in views and view.sql.for_dialect(self.dialect) is not None:
                raise InputError(
                    f"view {view.name!r} is not in {self.label} at {self.where}",
                    where=str(view.where),
                    hint="run with --reset to create it",
                )

    # Reading back -----------------------------------------------------------------------

    def read(self, table: TableDef, columns: list[str]) -> list[tuple[Any, ...]]:
        """Every row of ``table``'s ``columns`` (for the check)."""
        return self.read_sql(sql.select_columns(self.dialect, table, columns), table)

    def count(self, table: TableDef) -> int:
        rows = self.read_sql(f"SELECT COUNT(*) FROM {sql.quoter(self.dialect)(table.name)}", table)
        return int(rows[0][0])

    def read_sql(self, statement: str, table: TableDef) -> list[tuple[Any, ...]]:
        conn = self.connect()
        try:
            return [tuple(row) for row in conn.exec_driver_sql(statement)]
        except (SQLAlchemyError, driver_errors(self._engine)[0]) as exc:
            raise SinkError(
                f"cannot read {table.name!r} in {self.label} at {self.where}: "
                f"{reason(exc, self.parsed.password, full=True)}"
            ) from None
        finally:
            conn.close()


class Session:
    """One writer connection: runs transactions, reconnects after a lost connection."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.dialect = database.dialect
        self._engine: Engine | None = None  # its own: one connection
        self._conn: Connection | None = None
        self._cursor: Any = None
        self._prepared: dict[str, bytes] = {}  # statement -> its name on this connection

    def open(self) -> None:
        if self._conn is None:
            database = self.database
            if self._engine is None:
                self._engine = create_engine_for(
                    database.backend, database.parsed, database.label, database.where
                )
            self._conn = database.connect(self._engine)
            self._cursor = self._conn.connection.dbapi_connection.cursor()  # type: ignore

    def close(self) -> None:
        conn, self._conn = self._conn, None
        self._prepared = {}
        if conn is not None:
            try:
                self._cursor.close()
                conn.close()
            except Exception:  # noqa: BLE001 - a connection already gone
                conn.invalidate()

    def dispose(self) -> None:
        self.close()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def begin(self) -> None:
        self._cursor.execute("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")

    def commit(self) -> None:
        self._cursor.execute("COMMIT")

    def rollback(self) -> None:
        try:
            self._cursor.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - nothing to roll back, or the connection is gone
            pass

    def execute(self, statement: str, params: Any) -> None:
        self._cursor.execute(statement, params)

    def execute_prepared(self, statement: str, params: tuple[Any, ...]) -> None:
        """One of our own statements (an upsert, an insert), prepared once per connection.

        On PostgreSQL it goes through libpq itself (``PQexecPrepared``, text
        parameters whose types the server takes from the target columns): half
        the client CPU of a cursor's ``execute``, which counts when the client
        shares the machine's cores with the server, as pgbench's does. Other
        databases get ``execute``.
        """
        if self.dialect != "postgresql":
            self._cursor.execute(statement, params)
            return
        pgconn = self.pgconn()
        name = self.prepared_name(statement)
        _check(pgconn.exec_prepared(name, texts(params)), pgconn)

    def pgconn(self) -> Any:
        """PostgreSQL: psycopg's libpq connection (open)."""
        return self._conn.connection.dbapi_connection.pgconn  # type: ignore[union-attr]

    def prepared_name(self, statement: str) -> bytes:
        """PostgreSQL: the name ``statement`` is prepared under on this connection."""
        name = self._prepared.get(statement)
        if name is None:
            pgconn = self.pgconn()
            name = f"datagen_{len(self._prepared)}".encode()
            _check(pgconn.prepare(name, numbered(statement).encode()), pgconn)
            self._prepared[statement] = name
        return name

    def executemany(self, statement: str, rows: Sequence[Any]) -> None:
        self._cursor.executemany(statement, rows)

    def fetchone(self) -> dict[str, Any] | None:
        """The first row of the last statement's result, by column name (None: no rows)."""
        description = self._cursor.description
        if description is None:
            return None
        row = self._cursor.fetchone()
        if row is None:
            return None
        return {column[0]: value for column, value in zip(description, row)}

    def driver_error(self) -> type[Exception]:
        return driver_errors(self._engine)[0]


def numbered(statement: str) -> str:
    """A ``%s`` statement with PostgreSQL's own ``$1``, ``$2``, … parameters."""
    parts = statement.split("%s")
    text = parts[0]
    for number, part in enumerate(parts[1:], start=1):
        text += f"${number}{part}"
    return text.replace("%%", "%")


def _text(value: Any) -> bytes | None:
    """A parameter in PostgreSQL's text format."""
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (int, float)):
        return repr(value).encode()
    if isinstance(value, (date, datetime)):
        return value.isoformat().encode()
    return to_json(value).encode()


_DATES: dict[date, bytes] = {}  # the dates' texts: a writer's rows share a few days


def _date_text(value: date) -> bytes:
    if len(_DATES) >= 4096:
        _DATES.clear()
    text = _DATES[value] = value.isoformat().encode()
    return text


def texts(values: Sequence[Any]) -> list[bytes | None]:
    """``values`` in PostgreSQL's text format (as ``_text`` makes each; text, integers and
    dates inline, without a call, a date's text made once)."""
    dates = _DATES
    return [
        (
            value.encode()
            if (kind := type(value)) is str
            else (
                b"%d" % value
                if kind is int
                else (dates.get(value) or _date_text(value)) if kind is date else _text(value)
            )
        )
        for value in values
    ]


OK = (1, 2)  # libpq's PGRES_COMMAND_OK and PGRES_TUPLES_OK (psycopg.pq.ExecStatus)


def _check(result: Any, pgconn: Any) -> None:
    """Raise psycopg's own exception for a failed result: its SQLSTATE's, or a lost connection."""
    if result is not None and result.status in OK:
        return
    _raise(result, pgconn)


def _raise(result: Any, pgconn: Any) -> None:
    # psycopg is only imported when a PostgreSQL write fails: other databases never load it
    from psycopg import OperationalError, errors
    from psycopg.pq import ConnStatus

    if result is None or pgconn.status == ConnStatus.BAD:  # as psycopg's cursor says it
        if result is None:
            raise OperationalError(pgconn.error_message.decode(errors="replace").strip())
        raise OperationalError(result.error_message.decode(errors="replace").strip())
    raise errors.error_from_result(result)
