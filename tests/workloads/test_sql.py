"""The SQL a workload sends: parameters made positional, PostgreSQL's text parameters."""

from __future__ import annotations

from datetime import date, datetime, timezone

from datagen.workloads.database import _text, numbered
from datagen.workloads.sql import with_driver_parameters


def test_named_parameters_become_positional_outside_strings() -> None:
    sql = "SELECT :a::date, ':b', 100% FROM t WHERE k = :a AND v LIKE 'x%' OR w = :c"
    assert with_driver_parameters("postgresql", sql) == (
        "SELECT %s::date, ':b', 100%% FROM t WHERE k = %s AND v LIKE 'x%%' OR w = %s",
        ("a", "a", "c"),
    )
    assert with_driver_parameters("sqlite", sql) == (
        "SELECT ?::date, ':b', 100% FROM t WHERE k = ? AND v LIKE 'x%' OR w = ?",
        ("a", "a", "c"),
    )


def test_postgresql_numbered_parameters_and_text_values() -> None:
    assert numbered("INSERT INTO t VALUES (%s, %s) -- 5%%") == "INSERT INTO t VALUES ($1, $2) -- 5%"
    assert [_text(v) for v in (None, True, False, 7, 2.5, "é", date(2017, 11, 29), {"a": [1]})] == [
        None,
        b"t",
        b"f",
        b"7",
        b"2.5",
        "é".encode(),
        b"2017-11-29",
        b'{"a":[1]}',
    ]
    stamp = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert _text(stamp) == b"2024-01-02T03:04:05+00:00"
