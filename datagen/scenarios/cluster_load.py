"""Populating PostgreSQL from a Dask cluster: each worker COPYs its shards over its own connection.

The client does what must happen once: it creates the tables bare (``--reset``
drops them first) with a ledger of loaded shards, ``datagen_shards``, and
commits them. Each worker builds a shard, encodes it as COPY text and, in one
transaction of its own, claims the shard in the ledger and COPYs its rows: a
shard that Dask reruns (its worker died after committing) finds its claim and
is not loaded twice. When a table's last shard is in, the client adds its
primary, unique and foreign keys (PostgreSQL checks every row) and counts its
rows against the plan's, while the workers go on; after the last table it
drops the ledger and commits. If the run fails, the
client drops the tables it made; if the client itself is killed, the tables
are left without keys and with ``datagen_shards`` beside them: populate again
with ``--reset``.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby
from operator import itemgetter
from typing import Any, Iterator

from datagen.engines import current
from datagen.errors import InputError, SinkError
from datagen.scenarios.copy_load import encode_shard, install_encoding, tables_in_order
from datagen.scenarios.planning import Plan
from datagen.scenarios.rows import installed_plan, tasks_of
from datagen.scenarios.ordered import run_ordered
from datagen.seeding import Shard
from datagen.sinks.connections import create_engine_for, reason
from datagen.sinks.urls import backend_label, location, parse_database_url
from datagen.sinks.pg_bulk import SHARDS_TABLE, PostgresBulkLoad
from datagen.types import Progress

AHEAD = 4
"""Shards in flight per worker thread: each writes its own; the client only counts them."""

_worker: dict[str, Any] = {"url": None, "connection": None, "held": None}


def to_postgres_from_workers(
    plan: Plan, url: str, *, reset: bool, progress: Progress | None
) -> dict[str, int]:
    """Write every row of ``plan`` into PostgreSQL at ``url`` from the cluster's workers."""
    sink = PostgresBulkLoad(url)
    try:
        sink.open(list(plan.tables.values()), reset=reset)
        if sink.kept:
            raise InputError(
                f"populate --scheduler loads new tables from the workers; {', '.join(sink.kept)} "
                f"already exist in {sink.label} at {sink.where}",
                hint="pass --reset to drop them first, or populate without --scheduler",
            )
        loaded: Iterator[tuple[str, int]] | None = None
        try:
            sink.share_tables()
            # As into PostgreSQL from local processes: a table's keys are added (and its rows
            # counted) once its last shard is in, while the workers go on with the next tables.
            runs = Counter(table for table, _ in groupby(tables_in_order(plan)))
            loaded = run_ordered(
                write_shard, tasks_of(plan), ahead=AHEAD, setup=(install_writer, (plan, url))
            )
            for table, shards in groupby(loaded, key=itemgetter(0)):
                for _, rows in shards:
                    sink.loaded(table, rows)
                    if progress:
                        progress(rows)
                runs[table] -= 1
                if not runs[table]:
                    sink.finish(plan.tables[table])
            sink.commit()
        except BaseException:
            try:  # the tasks still running are cancelled before their tables are dropped
                getattr(loaded, "close", lambda: None)()
            finally:
                try:
                    sink.drop_shared()
                except Exception:  # the error that stopped the run is the one to tell
                    pass
            raise
    finally:
        summary = sink.close()
        current().everywhere(close_connection)  # no idle connection left on the workers
    return dict(summary.written)


def install_writer(state: tuple[Plan, str]) -> None:
    """On a worker: the plan to build, and the database its shards go to."""
    plan, url = state
    install_encoding(plan)
    if _worker["url"] != url:
        close_connection()
        _worker["url"] = url


def write_shard(task: tuple[str, Shard]) -> tuple[str, int]:
    """On a worker: build, encode and COPY one shard in one transaction; its table and rows."""
    table, (rows, data) = encode_shard(task)
    entity, shard = task
    columns = installed_plan().tables[table].columns
    try:
        connection = _connection()
    except Exception as exc:
        close_connection()
        raise SinkError(
            f"a Dask worker cannot connect to PostgreSQL: {_reason(exc)}",
            hint="every worker must reach the database (host, pg_hba.conf, a password file)",
        ) from None
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {SHARDS_TABLE} (entity, shard) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING",
                (entity, shard.index),
            )
            if cursor.rowcount:  # else a run of this task before committed the same rows
                names = ", ".join(_quote(column.name) for column in columns)
                with cursor.copy(f"COPY {_quote(table)} ({names}) FROM STDIN") as copy:
                    copy.write(data)
        connection.commit()
    except Exception as exc:
        close_connection()
        raise SinkError(
            f"a Dask worker cannot write {table!r} shard {shard.index} to PostgreSQL: "
            f"{_reason(exc)}"
        ) from None
    return table, rows


def _connection() -> Any:
    if _worker["connection"] is None:
        backend, parsed = parse_database_url(_worker["url"])
        label, where = backend_label(_worker["url"], backend), location(backend, parsed)
        engine = create_engine_for(backend, parsed, label, where)
        try:
            pooled = engine.raw_connection()  # kept: dropping it would return the connection
        except BaseException:
            engine.dispose()
            raise
        _worker["held"] = (engine, pooled)
        connection: Any = pooled.driver_connection
        # A shard's commit need not wait for its WAL on disk: the client's last commit (the
        # keys) does, and a crash before it leaves tables without keys, populated again.
        connection.execute("SET synchronous_commit = off")
        connection.commit()
        _worker["connection"] = connection
    return _worker["connection"]


def close_connection() -> None:
    """On a worker: close its connection to the database, if it has one."""
    held, _worker["held"], _worker["connection"] = _worker.get("held"), None, None
    if held is not None:
        engine, pooled = held
        try:
            pooled.invalidate()  # closed, not returned to the pool
        except Exception:
            pass
        engine.dispose()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _reason(exc: BaseException) -> str:
    password = parse_database_url(_worker["url"])[1].password if _worker["url"] else None
    return reason(exc, password, full=True)
