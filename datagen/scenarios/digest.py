"""Does a target hold exactly what a scenario produces? Row counts and a digest per table.

A row's digest is a BLAKE2b hash of its values in a canonical form (the form
a value takes after a round trip through any of the databases: timestamps
in UTC, JSON with sorted keys, floats and booleans as such). A table's
digest is the sum of its rows' digests modulo 2**128: it does not depend on
the order rows are read in, so both sides are computed streaming, without
holding a table in memory.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import orjson

from datagen.engines import check_scheduler, using
from datagen.errors import SinkError
from datagen.scenarios.planning import Plan
from datagen.scenarios.populate import generate_rows
from datagen.tablespec import TableSpec
from datagen.sinks.dialects import to_json, to_text, to_utc
from datagen.sinks.urls import SQLITE, backend_label, location, parse_database_url, redact
from datagen.types import Document

MODULUS = 2**128
FETCH = 5_000


@dataclass
class TableCheck:
    """Expected and found rows and digests of one table."""

    table: str
    expected_rows: int
    expected_digest: str
    found_rows: int | None = None  # None: the table is missing
    found_digest: str | None = None

    @property
    def ok(self) -> bool:
        return (self.expected_rows, self.expected_digest) == (self.found_rows, self.found_digest)

    def problem(self) -> str:
        if self.found_rows is None:
            return "missing"
        if self.found_rows != self.expected_rows:
            return f"{self.found_rows} rows, expected {self.expected_rows}"
        return "same row count, different content"


@dataclass
class VerifyTargetResult:
    """How a target compares with a scenario's population."""

    target: str
    seed: int
    tables: list[TableCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(table.ok for table in self.tables)

    @property
    def differing(self) -> list[TableCheck]:
        return [table for table in self.tables if not table.ok]


def canonical(value: Any, kind: str) -> Any:
    """``value`` (as generated or as decoded from a database) in a comparable form."""
    if value is None:
        return None
    if kind == "json":
        value = orjson.loads(to_json(value))  # nested datetimes become ISO text, as stored
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    if kind == "timestamp":
        moment = to_utc(value)
        return moment.isoformat() if hasattr(moment, "isoformat") else str(moment)
    if kind == "date":
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if kind == "float":
        return repr(float(value))
    if kind == "integer":
        return int(value)
    if kind == "boolean":
        return bool(value)
    return to_text(value)


class TableDigest:
    """A running, order-independent digest of a table's rows."""

    def __init__(self, table: TableSpec):
        self.kinds = [(column.name, column.type) for column in table.columns]
        self.rows = 0
        self.total = 0

    def add(self, row: Document) -> None:
        values = [canonical(row.get(name), kind) for name, kind in self.kinds]
        digest = hashlib.blake2b(orjson.dumps(values), digest_size=16).digest()
        self.total = (self.total + int.from_bytes(digest, "big")) % MODULUS
        self.rows += 1

    def add_many(self, rows: Iterable[Document]) -> None:
        for row in rows:
            self.add(row)

    @property
    def hexdigest(self) -> str:
        return f"{self.total:032x}"


def expected_digests(plan: Plan, *, workers: int | None = None) -> dict[str, TableDigest]:
    """The digest of every table of ``plan``, computed by generating (not writing) its rows."""
    digests = {name: TableDigest(table) for name, table in plan.tables.items()}
    for entity, rows in generate_rows(plan, workers=workers):
        digests[plan.entities[entity].provider].add_many(rows)
    return digests


def found_digests(url: str, tables: Sequence[TableSpec]) -> dict[str, TableDigest | None]:
    """The digest of every table in the database at ``url`` (None: no such table)."""
    from sqlalchemy import inspect  # SQLAlchemy: heavy, only when a database is read
    from sqlalchemy.exc import SQLAlchemyError  # SQLAlchemy: as above

    from datagen.sinks.connections import (  # SQLAlchemy: as above
        connect,
        create_engine_for,
        driver_errors,
        reason,
    )
    from datagen.sinks.reading import documents  # SQLAlchemy: as above

    backend, parsed = parse_database_url(url)
    label = backend_label(url, backend)
    where = location(backend, parsed)
    if backend is SQLITE and not Path(parsed.database or "").is_file():
        # connecting would create an empty database file: checking must write nothing
        raise SinkError(f"there is no SQLite database at {where}", hint="check the path")
    engine = create_engine_for(backend, parsed, label, where)
    found: dict[str, TableDigest | None] = {}
    try:
        with connect(engine, label, where, parsed.password) as conn:
            existing = set(inspect(conn).get_table_names())
            for table in tables:
                if table.name not in existing:
                    found[table.name] = None
                    continue
                digest = TableDigest(table)
                try:
                    digest.add_many(documents(conn, backend, table, fetch=FETCH))
                except (SQLAlchemyError, driver_errors(engine)[0]) as exc:
                    raise SinkError(
                        f"cannot read {table.name!r} from {label} at {where}: "
                        f"{reason(exc, parsed.password, full=True)}",
                        hint="it may have been made for other data: populate with --reset",
                    ) from None
                found[table.name] = digest
                conn.rollback()
    finally:
        engine.dispose()
    return found


def verify_target(
    plan: Plan,
    url: str,
    *,
    workers: int | None = None,  # same as --workers
    scheduler: str | None = None,  # same as --scheduler: a Dask cluster; None = local processes
) -> VerifyTargetResult:
    """Compare the database at ``url`` with ``plan``'s population, table by table."""
    check_scheduler(scheduler)
    found = found_digests(url, list(plan.tables.values()))
    with using(scheduler, workers=workers):
        expected = expected_digests(plan, workers=workers)
    result = VerifyTargetResult(redact(url), plan.seed)
    for name, digest in expected.items():
        actual = found.get(name)
        result.tables.append(
            TableCheck(
                name,
                digest.rows,
                digest.hexdigest,
                None if actual is None else actual.rows,
                None if actual is None else actual.hexdigest,
            )
        )
    return result
