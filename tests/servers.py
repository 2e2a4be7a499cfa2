"""Database servers for tests: fresh databases, per test module or per test (a plugin module).

PostgreSQL and MariaDB are expected on 127.0.0.1 (override the admin URLs
with DATAGEN_TEST_POSTGRES / DATAGEN_TEST_MARIADB). A server that can't be
reached skips its tests, except under CI=true, where it fails them.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from typing import ContextManager, Iterator, NoReturn

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from datagen.sinks.dialects import parse_database_url

POSTGRES_ADMIN = os.environ.get(
    "DATAGEN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
MARIADB_ADMIN = os.environ.get("DATAGEN_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_MARIADB = "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"


def unavailable(server: str, error: BaseException, start: str) -> NoReturn:
    """Skip (or, under CI=true, fail) the tests that need ``server``."""
    cause = getattr(error, "orig", None) or error
    message = f"{server} is not available: {str(cause).strip().splitlines()[0]} (start it: {start})"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def scratch_url(admin: str, name: str) -> str:
    """``admin`` (a datagen database URL) pointing at database ``name``."""
    _, url = parse_database_url(admin)
    return url.set(database=name).render_as_string(hide_password=False)


def admin_engine(admin: str) -> tuple[Engine, URL]:
    _, url = parse_database_url(admin)
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    return engine, url


@contextmanager
def scratch_database(admin: str, server: str, start: str, create: str, drop: str) -> Iterator[str]:
    """A new, empty database on ``admin``'s server, dropped afterwards.

    ``create`` and ``drop`` are SQL with ``{name}`` for the database's name.
    """
    name = f"datagen_test_{secrets.token_hex(4)}"
    engine, _ = admin_engine(admin)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(create.format(name=name))
    except SQLAlchemyError as error:
        engine.dispose()
        unavailable(server, error, start)
    try:
        yield scratch_url(admin, name)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(drop.format(name=name))
        engine.dispose()


def scratch_postgres() -> ContextManager[str]:
    return scratch_database(
        POSTGRES_ADMIN,
        "PostgreSQL",
        START_POSTGRES,
        'CREATE DATABASE "{name}"',
        'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
    )


def scratch_mariadb() -> ContextManager[str]:
    return scratch_database(
        MARIADB_ADMIN,
        "MariaDB",
        START_MARIADB,
        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
        "DROP DATABASE IF EXISTS `{name}`",
    )


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database shared by one test module's tests."""
    with scratch_postgres() as url:
        yield url


@pytest.fixture(scope="module")
def mariadb_url() -> Iterator[str]:
    """A MariaDB database shared by one test module's tests."""
    with scratch_mariadb() as url:
        yield url


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """A PostgreSQL database of this test's own."""
    with scratch_postgres() as url:
        yield url


@pytest.fixture
def mariadb_db() -> Iterator[str]:
    """A MariaDB database of this test's own."""
    with scratch_mariadb() as url:
        yield url
