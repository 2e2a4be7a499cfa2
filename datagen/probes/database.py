"""The probe's only door to the database: sessions, statements, plans' raw text, statistics.

Built on the sinks' helpers (``parse_database_url``, ``create_engine_for``,
``connect``, ``reason``, ``redact``) so URLs, drivers and one-line failure
messages are the same as everywhere else; kept in this one module so that it
can move into the targets package with the rest of the database access.

A :class:`Session` is one connection used by one thread. Statements run on the
driver's own cursor (psycopg 3, PyMySQL, sqlite3) with positional parameters,
in autocommit mode unless a transaction was begun, as a bare driver loop
would: the harness adds a method call and nothing else to what it times.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from datagen.errors import DataGenError
from datagen.probes.model import Sql
from datagen.probes.statements import Statement, prepare
from datagen.replay.targets import transient_cause
from datagen.sinks.urls import backend_label, redact
from datagen.sinks.connections import connect, create_engine_for, driver_errors, reason
from datagen.sinks.dialects import to_json, utc_text
from datagen.sinks.urls import MYSQL, POSTGRESQL, SQLITE, location, parse_database_url

Row = tuple[Any, ...]
_TUPLES_OK = 2  # libpq's PGRES_TUPLES_OK (psycopg.pq.ExecStatus.TUPLES_OK)

# MySQL/MariaDB errors that mean the statement itself is wrong (beyond PyMySQL's
# ProgrammingError): unknown column, ambiguous column, unknown function, unknown
# table in a multi-table statement, a feature not supported, operand count.
_MYSQL_BAD_SQL = {1052, 1054, 1109, 1235, 1241, 1305}
_SQLITE_BAD_SQL = ("syntax error", "no such ", "ambiguous column", "incomplete input")


class QueryFailed(DataGenError):
    """A statement failed: ``transient`` if trying again may succeed, ``bad_sql`` if it is wrong."""

    def __init__(self, message: str, *, transient: bool, bad_sql: bool, lost: bool = False):
        super().__init__(message)
        self.transient = transient
        self.bad_sql = bad_sql
        self.lost = lost  # the connection is gone: open another


class Database:
    """One database named by a ``--to`` URL: its dialect, where it is, and sessions on it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.backend, self.parsed = parse_database_url(url)
        self.label = backend_label(url, self.backend)
        self.where = location(self.backend, self.parsed)
        self.dialect = {POSTGRESQL: "postgresql", MYSQL: "mysql", SQLITE: "sqlite"}[self.backend]
        self.placeholder = "?" if self.backend is SQLITE else "%s"
        self.version = ""

    @property
    def target(self) -> str:
        """The URL without its password, for messages and reports."""
        return redact(self.url)

    def exists(self) -> bool:
        """False for an SQLite file that is not there (a server database is assumed)."""
        return self.backend is not SQLITE or Path(self.parsed.database or "").is_file()

    def text_of(self, sql: Sql) -> str | None:
        """The SQL of ``sql`` for this database (None: skipped here)."""
        flavor = "mariadb" if self.label == "MariaDB" else None
        return sql.for_dialect(self.dialect, flavor)

    def statement(self, sql: str) -> Statement:
        return prepare(sql, self.placeholder)

    def encode(self, value: Any) -> Any:
        """A parameter value as the driver takes it (timestamps as the sinks store them)."""
        if isinstance(value, (dict, list)):
            return to_json(value)
        if isinstance(value, datetime) and self.backend is not POSTGRESQL:
            return utc_text(value)
        if isinstance(value, date) and self.backend is SQLITE:
            return value.isoformat()
        return value

    def session(self) -> Session:
        """A new connection (SinkError naming host and port if it can't be made)."""
        session = Session(self)
        if not self.version:
            self.version = session.server_version()
            if "mariadb" in self.version.lower():
                self.label = "MariaDB"
        return session


class Session:
    """One connection, in autocommit mode, for one thread."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._engine: Engine | None = None
        self._open()

    def _open(self) -> None:
        db = self.database
        self._engine = create_engine_for(db.backend, db.parsed, db.label, db.where)
        self._conn = connect(self._engine, db.label, db.where, db.parsed.password)
        raw = self._conn.connection.dbapi_connection
        assert raw is not None
        self._errors = driver_errors(self._engine)[0]
        if db.backend is POSTGRESQL:
            raw.rollback()  # SQLAlchemy's first-connect queries may have begun one
            raw.autocommit = True
        elif db.backend is MYSQL:
            raw.autocommit(True)
        else:
            raw.isolation_level = None  # sqlite3: no implicit BEGIN, ours are explicit
        self.raw = raw
        self.cursor = raw.cursor()
        self._has_rows = _has_rows_pg if db.backend is POSTGRESQL else _has_description
        self.columns: tuple[str, ...] = ()

    def reconnect(self) -> None:
        """Open a new connection after this one was lost."""
        self.close()
        self._open()

    def close(self) -> None:
        try:
            self._conn.close()
        except (SQLAlchemyError, self._errors):
            pass
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # Statements ---------------------------------------------------------------------

    def execute(self, text: str, params: Sequence[Any] | None = None) -> list[Row] | None:
        """Run ``text``; its rows (None for a statement that returns none). QueryFailed."""
        cursor = self.cursor
        try:
            if params is None:
                cursor.execute(text)
            else:
                cursor.execute(text, params)
            if not self._has_rows(cursor):
                return None
            return cursor.fetchall()  # type: ignore[return-value]  # a list: no copy
        except self._errors as exc:
            raise self.failure(exc) from exc

    @property
    def errors(self) -> type[Exception] | tuple[type[Exception], ...]:
        """The driver's exceptions (what ``failure`` turns into a QueryFailed)."""
        return self._errors

    def has_rows(self) -> bool:
        """Whether the last statement returned rows (a result set, perhaps empty)."""
        return bool(self._has_rows(self.cursor))

    def column_names(self) -> tuple[str, ...]:
        """The columns of the last statement's rows (lowercased on every database)."""
        description = self.cursor.description or ()
        return tuple(str(column[0]).lower() for column in description)

    def failure(self, exc: BaseException) -> QueryFailed:
        cause = getattr(exc, "orig", None) or exc
        message = reason(cause, self.database.parsed.password, full=True)
        transient = transient_cause(cause)
        lost = transient and not self._alive()
        return QueryFailed(message, transient=transient, bad_sql=_bad_sql(cause), lost=lost)

    def _alive(self) -> bool:
        closed = getattr(self.raw, "closed", False)
        if self.database.backend is MYSQL:
            return bool(getattr(self.raw, "open", True))
        return not closed

    def encode(self, value: Any) -> Any:
        return self.database.encode(value)

    # Transactions -------------------------------------------------------------------

    def begin(self, isolation: str | None) -> None:
        """Start a transaction (``isolation``: e.g. ``READ COMMITTED``; SQLite takes the lock)."""
        backend = self.database.backend
        if backend is SQLITE:
            self.execute("BEGIN IMMEDIATE")  # one writer; readers never upgrade (no deadlock)
        elif backend is MYSQL:
            if isolation:
                self.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
            self.execute("START TRANSACTION")
        else:
            self.execute(f"BEGIN ISOLATION LEVEL {isolation}" if isolation else "BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        """Roll back whatever is open; a connection already lost is left to reconnect."""
        try:
            self.execute("ROLLBACK")
        except QueryFailed:
            pass

    # Plans, statistics, counts ----------------------------------------------------------

    def explain(self, statement: Statement, params: Sequence[Any] | None) -> Any:
        """The database's own plan of ``statement``: JSON (PostgreSQL, MySQL) or rows (SQLite)."""
        backend = self.database.backend
        if backend is POSTGRESQL:
            rows = self.execute(f"EXPLAIN (FORMAT JSON) {statement.text}", params) or []
            return rows[0][0]
        if backend is MYSQL:
            rows = self.execute(f"EXPLAIN FORMAT=JSON {statement.text}", params) or []
            return json.loads(rows[0][0])
        return self.execute(f"EXPLAIN QUERY PLAN {statement.text}", params) or []

    def analyze(self, tables: Iterable[str]) -> None:
        """Refresh the planner's statistics of ``tables`` (ANALYZE / ANALYZE TABLE)."""
        names = [self.quote(name) for name in tables]
        if not names:
            return
        if self.database.backend is MYSQL:
            self.execute(f"ANALYZE TABLE {', '.join(names)}")
        else:
            for name in names:
                self.execute(f"ANALYZE {name}")

    def count(self, table: str) -> int:
        rows = self.execute(f"SELECT COUNT(*) FROM {self.quote(table)}") or [(0,)]
        return int(rows[0][0])

    def tables(self) -> set[str]:
        """The tables of the database (its current schema)."""
        backend = self.database.backend
        if backend is POSTGRESQL:
            sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        elif backend is MYSQL:
            sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return {str(row[0]) for row in self.execute(sql) or []}

    def fetch_by_keys(self, table: str, key: str, column: str, keys: list[Any]) -> dict[Any, Any]:
        """``key -> column`` for the rows of ``table`` whose key is in ``keys``."""
        found: dict[Any, Any] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ", ".join([self.database.placeholder] * len(chunk))
            sql = (
                f"SELECT {self.quote(key)}, {self.quote(column)} FROM {self.quote(table)} "
                f"WHERE {self.quote(key)} IN ({marks})"
            )
            found.update(dict(self.execute(sql, chunk) or []))
        return found

    def quote(self, name: str) -> str:
        if self.database.backend is MYSQL:
            return "`" + name.replace("`", "``") + "`"
        return '"' + name.replace('"', '""') + '"'

    def server_version(self) -> str:
        backend = self.database.backend
        if backend is SQLITE:
            return f"SQLite {sqlite3.sqlite_version}"
        rows = self.execute("SELECT version()") or [("",)]
        text = str(rows[0][0])
        if backend is POSTGRESQL:
            return " ".join(text.split()[:2])  # "PostgreSQL 15.4"
        return f"MariaDB {text.split('-')[0]}" if "mariadb" in text.lower() else f"MySQL {text}"


def _has_rows_pg(cursor: Any) -> bool:
    """Whether psycopg's last statement returned rows (its ``description`` builds objects)."""
    result = cursor.pgresult
    return result is not None and result.status == _TUPLES_OK


def _has_description(cursor: Any) -> bool:
    return cursor.description is not None


def _bad_sql(cause: BaseException) -> bool:
    """Whether the database refused the statement itself (syntax, unknown table or column)."""
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is not None:  # psycopg: class 42, syntax error or access rule violation
        return str(sqlstate).startswith("42")
    if type(cause).__module__ == "sqlite3":
        message = str(cause).lower()
        return any(text in message for text in _SQLITE_BAD_SQL)
    args = getattr(cause, "args", ())
    if args and isinstance(args[0], int):  # PyMySQL
        return type(cause).__name__ == "ProgrammingError" or args[0] in _MYSQL_BAD_SQL
    return False
