"""Helpers for benchmarks: time a command or a callable, print ratios, scratch databases."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, ContextManager, Iterator

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = os.environ.get(
    "DATAGEN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


class Skipped(Exception):
    """A target that can't be measured here (its server is missing)."""


MARIADB_ADMIN = os.environ.get("DATAGEN_BENCH_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")


@contextmanager
def scratch_database(admin: str, server: str, create: str, drop: str) -> Iterator[str]:
    """A new database ``datagen_bench_<random>`` on ``admin``'s server, dropped afterwards.

    ``create`` and ``drop`` are SQL with ``{name}``. Raises Skipped, naming the
    server and why, when it can't be created.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    from datagen.sinks.dialects import location, parse_database_url

    backend, url = parse_database_url(admin)
    name = f"datagen_bench_{secrets.token_hex(4)}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(create.format(name=name))
    except SQLAlchemyError as error:
        engine.dispose()
        cause = getattr(error, "orig", None) or error
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        raise Skipped(f"{server} at {location(backend, url)}: {reason}") from None
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(drop.format(name=name))
        engine.dispose()


def scratch_postgres(admin: str = POSTGRES_ADMIN) -> ContextManager[str]:
    """A new PostgreSQL database, dropped afterwards (or Skipped)."""
    return scratch_database(
        admin,
        "PostgreSQL",
        'CREATE DATABASE "{name}"',
        'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
    )


def scratch_mariadb(admin: str = MARIADB_ADMIN) -> ContextManager[str]:
    """A new MariaDB (or MySQL) database, dropped afterwards (or Skipped)."""
    return scratch_database(
        admin,
        "MariaDB",
        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4",
        "DROP DATABASE IF EXISTS `{name}`",
    )


def time_command(*args: str) -> float:
    """Seconds taken by ``python generate.py ARGS`` (end to end, start-up included)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "generate.py"), *args], check=True, cwd=ROOT)
    return time.perf_counter() - start


def time_call(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def report(
    label: str, value: float, unit: str, *, baseline: float | None = None, goal: str = ""
) -> None:
    ratio = f"   ratio {value / baseline:5.2f}" if baseline else ""
    goal = f"   (goal {goal})" if goal else ""
    print(f"{label:<58} {value:>12,.0f} {unit}{ratio}{goal}", flush=True)
