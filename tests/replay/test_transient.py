"""Which database errors are worth another try: decided on the drivers' own errors."""

from __future__ import annotations

import sqlite3

import psycopg.errors
import pymysql.err
import pytest

from datagen.errors import SinkError
from datagen.replay.targets import _transient_database_error


def failure(cause: BaseException | None, message: str = "cannot write") -> SinkError:
    error = SinkError(message)
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "cause, transient",
    [
        (psycopg.errors.DeadlockDetected(), True),
        (psycopg.errors.SerializationFailure(), True),
        (psycopg.errors.AdminShutdown(), True),
        (psycopg.errors.QueryCanceled(), True),  # statement timeout
        (psycopg.errors.UndefinedTable(), False),
        (psycopg.errors.UniqueViolation(), False),
        (psycopg.errors.InsufficientPrivilege(), False),
        (psycopg.OperationalError("server closed the connection unexpectedly"), True),
        (pymysql.err.OperationalError(1213, "Deadlock found"), True),
        (pymysql.err.OperationalError(1205, "Lock wait timeout exceeded"), True),
        (pymysql.err.OperationalError(2013, "Lost connection to MySQL server"), True),
        (pymysql.err.OperationalError(1045, "Access denied for user"), False),
        (pymysql.err.IntegrityError(1452, "Cannot add or update a child row"), False),
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("no such table: job"), False),
        (sqlite3.OperationalError("attempt to write a readonly database"), False),
        (sqlite3.IntegrityError("UNIQUE constraint failed"), False),
    ],
)
def test_classification(cause: BaseException, transient: bool) -> None:
    assert _transient_database_error(failure(cause)) is transient


def test_reconnecting_after_the_server_went_away_is_transient() -> None:
    assert _transient_database_error(failure(None, "cannot connect to PostgreSQL at h:5432"))
    assert not _transient_database_error(failure(None, "a 'job' record has no key 'id'"))
