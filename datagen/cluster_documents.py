"""Documents into a database from a Dask cluster: each worker upserts its own shards.

The client does what happens once: it creates the provider's table (``--reset``
drops it first), and when every shard is in, counts the rows of a table it
made and reports what was written. Each worker opens the same sink over its
own connection and upserts its shards, one transaction a shard, as the client
does without a cluster: a shard that Dask runs again (its worker died after
committing it) finds its keys there and updates them to the same values.
SQLite is written by the client (a file on its machine): see
:func:`datagen.generator.documents_to_database`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from datagen.engines import current
from datagen.errors import SinkError
from datagen.parallel import map_shards
from datagen.seeding import Shard, plan_shards
from datagen.tables import table_for
from datagen.types import Document, Progress

if TYPE_CHECKING:  # SQLAlchemy: imported only for database targets (see open_database below)
    from datagen.sinks.database import DatabaseSink

_sinks: dict[tuple[str, str, bool], Any] = {}
WORKERS_REACH = "every worker must reach the database (host, pg_hba.conf, a password file)"


Records = Callable[[Any, Shard], list[Document]]
"""A shard's documents: ``records(job, shard)`` (the generator's, sent to the workers)."""


def documents_from_workers(
    job: Any,  # a generator.DocumentJob
    records: Records,
    url: str,
    *,
    reset: bool,
    foreign_keys: bool,
    progress: Progress | None,
) -> dict[str, int]:
    """Upsert the documents of ``job`` into their table from the cluster's workers."""
    from datagen.sinks.open import open_database  # SQLAlchemy: only for database targets

    table = table_for(job.provider)
    shards = plan_shards(quantity=job.quantity, seed=job.seed, name=job.provider)
    with open_database(url, foreign_keys=foreign_keys) as sink:
        sink.prepare([table], reset=reset)
        try:
            written = map_shards(write_shard, (job, records, url, foreign_keys), shards)
            for shard, (new, updated) in zip(shards, written):
                sink.ledger.record(table.name, new, updated)
                sink.summary.add(table.name, new + updated)
                if progress:
                    progress(shard.size)
        finally:
            current().everywhere(close_sinks)  # no idle connection left on the workers
        sink.commit()  # a table this run made is counted in the database
    return dict(sink.summary.written)


def write_shard(state: tuple[Any, Records, str, bool], shard: Shard) -> tuple[int, int]:
    """On a worker: upsert one shard's documents; the rows the database inserted, updated."""
    job, records, url, foreign_keys = state
    table = table_for(job.provider)
    key = (url, table.name, foreign_keys)
    sink: DatabaseSink | None = _sinks.get(key)
    if sink is None:
        from datagen.sinks.open import open_database  # SQLAlchemy: only on workers that write

        close_sinks()
        sink = open_database(url, foreign_keys=foreign_keys)
        try:
            sink.prepare([table])  # made by the client: found, its columns checked
        except SinkError as err:  # ("cannot connect…"): the client could, so say who
            connect = err.message.startswith("cannot connect")
            raise SinkError(
                f"a Dask worker {err.message}",
                where=err.where,
                hint=WORKERS_REACH if connect else err.hint,
            ) from None
        _sinks[key] = sink
    new, updated = sink.ledger.new[table.name], sink.ledger.updated[table.name]
    sink.write(table, records(job, shard))
    return sink.ledger.new[table.name] - new, sink.ledger.updated[table.name] - updated


def close_sinks() -> None:
    """On a worker: close its database sinks, if it has any."""
    while _sinks:
        _, sink = _sinks.popitem()
        sink.close()
