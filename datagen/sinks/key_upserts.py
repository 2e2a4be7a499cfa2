"""Upserts that match rows on the primary key only, and count what they did.

MySQL's ``INSERT … ON DUPLICATE KEY UPDATE`` fires on *any* unique key: a
user whose email is already another user's would overwrite that user's row
and vanish (publishing 100,000 users into a table with ``UNIQUE(email)``
left 99,651 rows, some mixing one user's id with another's fields). So no
database is asked to resolve a conflict it might resolve on the wrong key.
A batch goes (PostgreSQL's COPY fast path is in its sink):

- on MySQL/MariaDB and SQLite, while its table's keys are new: plain
  multi-row ``INSERT`` (in key order, the last record of a key kept),
  inside a savepoint. That is the fastest way in, and any duplicate fails;
- once a key meets an existing row (the savepoint rolled back, and that
  table's batches go this way from then on): updates joined on the key and
  inserts of the keys that are not there. MySQL stages the batch in a
  temporary table, then ``UPDATE t JOIN stage ON the key`` and ``INSERT …
  SELECT`` of the staged keys the table lacks. PostgreSQL (from its staging
  table) and SQLite upsert with ``ON CONFLICT (key) DO UPDATE``, which names
  the key; PostgreSQL's statement counts its inserts, SQLite first counts
  the batch's keys already there.

A duplicate on another unique key is then an error, never a merge. Each
path returns the database's counts of the rows it inserted and updated.
"""

from __future__ import annotations

from typing import Any, Sequence

import orjson

from datagen.sinks.dialects import RowValues

SAVEPOINT = "datagen_insert"
MYSQL_DUPLICATE = 1062


def quoted_list(quote: Any, names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(f"{prefix}{quote(name)}" for name in names)


# PostgreSQL -------------------------------------------------------------------------


def postgres_merge(cursor: Any, upsert: str) -> tuple[int, int]:
    """Run ``upsert`` (``INSERT … ON CONFLICT (key) DO UPDATE``): (inserted, updated).

    The statement returns, for each row it wrote, whether it inserted it: a
    row version this statement inserted has no ``xmax`` (no transaction has
    locked or deleted it), one it updated has this transaction's. Counted in
    the server, in the statement itself: no second pass over the table.
    """
    cursor.execute(
        f"WITH written AS ({upsert} RETURNING xmax = 0 AS inserted) "
        "SELECT COUNT(*) FILTER (WHERE inserted), COUNT(*) FROM written"
    )
    inserted, written = cursor.fetchone()
    return int(inserted), int(written) - int(inserted)


# MySQL and MariaDB ------------------------------------------------------------------


def mysql_insert(
    cursor: Any, statement: str, rows: list[RowValues], integrity: type[Exception]
) -> int | None:
    """Plain INSERT of ``rows`` in a savepoint: rows inserted, or None if a key was there.

    ``integrity`` is the driver's IntegrityError.
    """
    cursor.execute(f"SAVEPOINT {SAVEPOINT}")
    try:
        cursor.executemany(statement, rows)  # sent as multi-row INSERTs
    except integrity as exc:
        if exc.args[:1] != (MYSQL_DUPLICATE,):
            raise
        cursor.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")
        return None
    inserted = int(cursor.rowcount)
    cursor.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
    return inserted


def mysql_merge(
    cursor: Any,
    quote: Any,
    table: str,
    key: str,
    names: Sequence[str],
    rows: list[RowValues],
) -> tuple[int, int]:
    """Stage ``rows``, update the rows whose key is there, insert the others.

    Returns (inserted, updated), as the server counted them (PyMySQL
    connections made by SQLAlchemy count matched rows, changed or not).
    ``quote`` doubles ``%``: every statement is %-formatted (with no values).
    """
    target, stage = quote(table), quote(f"datagen_stage_{table}"[:64])
    on = f"t.{quote(key)} = s.{quote(key)}"
    cursor.execute(f"DROP TEMPORARY TABLE IF EXISTS {stage}", ())
    cursor.execute(f"CREATE TEMPORARY TABLE {stage} LIKE {target}", ())  # no implicit commit
    columns = quoted_list(quote, names)
    values = ", ".join(["%s"] * len(names))
    cursor.executemany(f"INSERT INTO {stage} ({columns}) VALUES ({values})", rows)
    others = [name for name in names if name != key] or [key]
    assignments = ", ".join(f"t.{quote(name)} = s.{quote(name)}" for name in others)
    cursor.execute(f"UPDATE {target} t JOIN {stage} s ON {on} SET {assignments}", ())
    updated = int(cursor.rowcount)
    inserted = 0
    if updated < len(rows):  # some keys are new
        cursor.execute(
            f"INSERT INTO {target} ({columns}) SELECT {quoted_list(quote, names, 's.')} "
            f"FROM {stage} s LEFT JOIN {target} t ON {on} WHERE t.{quote(key)} IS NULL",
            (),
        )
        inserted = int(cursor.rowcount)
    cursor.execute(f"DROP TEMPORARY TABLE {stage}", ())
    return inserted, updated


def mysql_key_columns(cursor: Any, table: str, index: str) -> tuple[str, ...]:
    """The columns of ``table``'s index ``index``, read from ``information_schema``."""
    cursor.execute(
        "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME = %s AND INDEX_NAME = %s ORDER BY SEQ_IN_INDEX",
        (table, index),
    )
    return tuple(str(row[0]) for row in cursor.fetchall())


# SQLite -----------------------------------------------------------------------------


def sqlite_insert(dbapi_connection: Any, statement: str, rows: list[RowValues]) -> int | None:
    """Plain INSERT of ``rows`` in a savepoint: rows inserted, or None if a key was there."""
    cursor = dbapi_connection.cursor()
    try:
        if not dbapi_connection.in_transaction:
            cursor.execute("BEGIN")  # else releasing the savepoint would commit
        cursor.execute(f"SAVEPOINT {SAVEPOINT}")
        try:
            cursor.executemany(statement, rows)
        except dbapi_connection.IntegrityError as exc:
            if getattr(exc, "sqlite_errorname", "") not in (
                "SQLITE_CONSTRAINT_PRIMARYKEY",
                "SQLITE_CONSTRAINT_UNIQUE",
            ):
                raise
            cursor.execute(f"ROLLBACK TO {SAVEPOINT}")
            cursor.execute(f"RELEASE {SAVEPOINT}")
            return None
        inserted = int(cursor.rowcount)
        cursor.execute(f"RELEASE {SAVEPOINT}")
        return inserted
    finally:
        cursor.close()


def sqlite_merge(
    dbapi_connection: Any,
    quote: Any,
    table: str,
    key: str,
    upsert: str,
    rows: list[RowValues],
    key_index: int,
) -> tuple[int, int]:
    """Count the batch's keys already there, then upsert ``rows`` on the key.

    Returns (inserted, updated): SQLite counts a row inserted or updated by
    ``ON CONFLICT (key) DO UPDATE`` as one change.
    """
    keys = orjson.dumps([row[key_index] for row in rows]).decode()
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(  # CROSS JOIN: the keys drive, looked up in the table's primary key
            f"SELECT COUNT(*) FROM json_each(?) AS k CROSS JOIN {quote(table)} AS t "
            f"ON t.{quote(key)} = k.value",
            (keys,),
        )
        existing = int(cursor.fetchone()[0])
        cursor.executemany(upsert, rows)
        written = int(cursor.rowcount)
    finally:
        cursor.close()
    updated = min(existing, written)
    return written - updated, updated


def sqlite_unique_index(
    dbapi_connection: Any, quote: Any, table: str, columns: tuple[str, ...]
) -> str | None:
    """The name of ``table``'s unique index made by CREATE INDEX on exactly ``columns``.

    (The indexes of UNIQUE constraints in CREATE TABLE have made-up names.)
    """
    cursor = dbapi_connection.cursor()
    try:
        indexes = cursor.execute(f"PRAGMA index_list({quote(table)})").fetchall()
        for _, name, unique, origin, _ in indexes:
            if unique and origin == "c":
                info = cursor.execute(f"PRAGMA index_info({quote(name)})").fetchall()
                if tuple(row[2] for row in info) == columns:
                    return str(name)
    finally:
        cursor.close()
    return None
