"""Populating PostgreSQL: rows encoded in the workers, one COPY per table, then its keys.

The worker processes that build a shard also encode it as COPY text (the
slowest part of writing a row is turning it into what PostgreSQL reads), so
the process holding the connection only forwards bytes. The tables are
loaded in one transaction by :class:`datagen.sinks.pg_bulk.PostgresBulkLoad`,
which adds the FOREIGN KEYs after the rows: PostgreSQL still checks every
row, in one pass per constraint.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby
from operator import itemgetter
from typing import Callable, Iterator, Sequence, cast

from datagen.scenarios.planning import Plan
from datagen.scenarios.rows import build_shard, install, installed_plan, tasks_of
from datagen.scenarios.ordered import run_ordered
from datagen.seeding import Shard
from datagen.sinks.base import Target
from datagen.sinks.copy_text import copy_text_encoder
from datagen.sinks.pg_bulk import Chunk, PostgresBulkLoad
from datagen.types import Document, Progress

AHEAD = 8
"""Shards each worker may encode ahead of the COPY: while PostgreSQL builds a table's keys,
the workers go on with the next table (a shard's text is at most about a megabyte)."""

_encoders: dict[str, Callable[[Sequence[Document]], str]] = {}


def encode_shard(task: tuple[str, Shard]) -> tuple[str, Chunk]:
    """The table and COPY text of one shard of the installed plan."""
    name, rows = build_shard(task)
    table = installed_plan().table_of(name)
    text = _encoders.get(table.name)
    if text is None:
        text = _encoders[table.name] = copy_text_encoder(table.columns)
    return table.name, (len(rows), text(rows).encode())


def install_encoding(plan: Plan) -> None:
    """Make ``plan`` the one ``encode_shard`` uses in this process (with new encoders)."""
    install(plan)
    _encoders.clear()


def encoded_shards(plan: Plan, *, workers: int | None) -> Iterator[tuple[str, Chunk]]:
    """``(table, (rows, COPY text))`` for every shard of ``plan``, in dependency order."""
    return run_ordered(
        encode_shard, tasks_of(plan), workers=workers, ahead=AHEAD, setup=(install_encoding, plan)
    )


def copy_plan(
    plan: Plan, target: Target, *, workers: int | None, progress: Progress | None
) -> None:
    """COPY every row of ``plan`` into the prepared bulk load ``target`` (the caller commits)."""
    sink = cast(PostgresBulkLoad, target)  # (takes_copy_text)
    # A table's rows come in runs (one per run of its entities in the plan's order): its keys
    # are added after its last run, while the next table's rows are made.
    runs = Counter(table for table, _ in groupby(tables_in_order(plan)))
    for table, shards in groupby(encoded_shards(plan, workers=workers), key=itemgetter(0)):
        chunks: Iterator[Chunk] = (chunk for _, chunk in shards)
        if progress:
            chunks = _counted(chunks, progress)
        sink.copy(plan.tables[table], chunks)
        runs[table] -= 1
        if not runs[table]:
            sink.finish(plan.tables[table])


def tables_in_order(plan: Plan) -> Iterator[str]:
    """The table of each entity that has rows, in the order their shards come."""
    for entity in plan.entities.values():
        if entity.total:
            yield plan.table_of(entity.name).name


def _counted(chunks: Iterator[Chunk], progress: Progress) -> Iterator[Chunk]:
    for chunk in chunks:
        yield chunk
        progress(chunk[0])
