"""Database URLs: each backend (PostgreSQL, MySQL/MariaDB, SQLite), parsed with its driver."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from datagen.errors import InputError
from datagen.sinks.redaction import redact, require_scheme, url_scheme

if TYPE_CHECKING:  # SQLAlchemy is imported when a database URL is parsed, not at start-up
    from sqlalchemy.engine import URL

DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")


@dataclass(frozen=True)
class Backend:
    """One kind of database: its name in messages, SQLAlchemy driver and pip package."""

    name: str
    drivername: str
    drivers: tuple[str, ...]  # accepted ``scheme+driver`` suffixes ("" = none)
    module: str
    package: str
    default_port: int | None
    example: str


POSTGRESQL = Backend(
    "PostgreSQL",
    "postgresql+psycopg",
    ("", "psycopg"),
    "psycopg",
    "psycopg[binary]",
    5432,
    "postgresql://USER:PASSWORD@HOST:5432/DATABASE",
)
MYSQL = Backend(
    "MySQL",
    "mysql+pymysql",
    ("", "pymysql"),
    "pymysql",
    "PyMySQL",
    3306,
    "mysql+pymysql://USER:PASSWORD@HOST:3306/DATABASE",
)
SQLITE = Backend("SQLite", "sqlite", ("", "pysqlite"), "sqlite3", "", None, "sqlite:///FILE.db")
BACKENDS = {
    "postgresql": POSTGRESQL,
    "postgres": POSTGRESQL,
    "mysql": MYSQL,
    "mariadb": MYSQL,
    "sqlite": SQLITE,
}


def parse_database_url(url: str) -> tuple[Backend, URL]:
    """The backend of ``url`` and its SQLAlchemy URL with the driver we use.

    ``postgres://`` and ``postgresql://`` become ``postgresql+psycopg://``;
    ``mysql://`` and ``mariadb://`` become ``mysql+pymysql://`` (utf8mb4).
    Raises InputError for unknown schemes or drivers and malformed URLs.
    """
    # SQLAlchemy: heavy, imported when a database URL is parsed (the CLI starts without it).
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    scheme = require_scheme(url, DATABASE_SCHEMES)
    family, _, driver = scheme.partition("+")
    backend = BACKENDS[family]
    if driver not in backend.drivers:
        raise InputError(
            f"unsupported {backend.name} driver {driver!r} in {redact(url)!r}",
            hint=f"use {backend.example}",
        )
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise InputError(
            f"malformed database URL {redact(url)!r}", hint=f"use {backend.example}"
        ) from None
    parsed = parsed.set(drivername=backend.drivername)
    if backend is MYSQL:
        if not parsed.database:
            raise InputError(f"no database named in {redact(url)!r}", hint=f"use {backend.example}")
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    if backend is SQLITE and parsed.database in (None, "", ":memory:"):
        raise InputError(
            f"{redact(url)!r} names no database file (an in-memory database would be lost)",
            hint="use sqlite:///relative/path.db or sqlite:////absolute/path.db",
        )
    if backend is SQLITE and urlsplit(url).netloc:
        raise InputError(
            f"SQLite URLs have no host: {redact(url)!r}",
            hint="use sqlite:///relative/path.db or sqlite:////absolute/path.db",
        )
    return backend, parsed


def backend_label(url: str, backend: Backend) -> str:
    """The database's name in messages: MariaDB when the URL says so, else the backend's."""
    return "MariaDB" if url_scheme(url).startswith("mariadb") else backend.name


def location(backend: Backend, url: URL) -> str:
    """Where the database is, for messages: ``host:port`` or the SQLite file."""
    if backend is SQLITE:
        return url.database or ":memory:"
    return f"{url.host or 'localhost'}:{url.port or backend.default_port}"


def sqlite_identity(url: str) -> str | None:
    """``sqlite:///ABSOLUTE`` for a SQLite file URL (one name for one file), else None."""
    backend, parsed = parse_database_url(url)
    database = parsed.database or ""
    if backend is SQLITE and database and not database.startswith((":memory:", "file:")):
        return f"sqlite:///{Path(database).resolve()}"
    return None
