"""Engines, connections and one-line failure messages of the database sinks (no password)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError as SqlIntegrityError
from sqlalchemy.exc import SQLAlchemyError

from datagen.errors import SinkError
from datagen.sinks.database_urls import backend_label, SQLITE, Backend, location, parse_database_url

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
    label = backend_label(url, backend)
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
