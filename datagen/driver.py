"""The one driver: what a producer makes, written into one target, in order.

Every command that writes (``document``, ``journey``, ``populate``,
``publish``) builds a *producer* and a *target*
(:func:`datagen.sinks.open.open_target`) and calls :func:`write` (on a Dask
cluster, a database or blob target is written by the workers themselves
instead: :mod:`datagen.cluster_documents`, :mod:`datagen.cluster_files`,
:mod:`datagen.scenarios.cluster_load`, :mod:`datagen.scenarios.cluster_blobs`). A producer
runs its shards on the current engine (:func:`on_engine`: the bounded,
ordered pool of :mod:`datagen.engines`, local processes or a Dask cluster)
and yields what they made, in shard order, as *batches*
(``on_engine`` is :func:`datagen.parallel.map_shards`):

- :class:`Prepare`: prepare the target for these tables (none: check the
  place, connect) before the rows that follow;
- :class:`Rows`: rows of one table (``target.write``);
- :class:`Files`: files' bytes (``target.add``) or files on disk
  (``target.add_file``);
- :class:`Load`: a bulk load that takes the prepared target itself (the
  PostgreSQL COPY text a scenario's workers encode);
- :class:`Done`: items finished, for the progress bar; :class:`Tally`: a
  count for the target's summary that the target does not keep itself.

Batches may carry ``counts`` (documents, journeys, steps…), summed into the
:class:`Written` that :func:`write` returns. The output never depends on the
engine or the workers: a shard's batches depend on the job and the shard only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Protocol, Sequence, Union

from datagen.parallel import map_shards
from datagen.formats import Chunk
from datagen.ordering import depth_first
from datagen.sinks.base import Summary, Target
from datagen.tablespec import TableSpec
from datagen.types import Document, Progress

on_engine = map_shards
"""``on_engine(task, job, shards, workers=…)``: ``task(job, shard)`` for every shard, in
order, on the current engine (at most a few shards per worker in flight)."""


@dataclass(frozen=True)
class Prepare:
    """Prepare the target for ``tables`` (none: check the place, connect)."""

    tables: Sequence[TableSpec] = ()


@dataclass(frozen=True)
class Rows:
    """Rows of one table; ``done``: items they finish (None: the rows the target wrote)."""

    table: TableSpec
    records: Iterable[Document]
    done: int | None = None
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class OnDisk:
    """A file on disk, sent as ``name``."""

    path: Path
    name: str


@dataclass(frozen=True)
class Files:
    """Files' bytes (chunks of one file come in order) or files on disk."""

    files: Sequence[Chunk | OnDisk]
    done: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Load:
    """A bulk load into the prepared target: ``load(target, progress)``."""

    load: Callable[[Target, Progress | None], None]


@dataclass(frozen=True)
class Done:
    """``count`` items finished (for the progress bar)."""

    count: int
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Tally:
    """``count`` under ``kind`` in the target's summary (a folder target counts no files)."""

    kind: str
    count: int


Batch = Union[Prepare, Rows, Files, Load, Done, Tally]


class Producer(Protocol):
    """Makes a run's output: batches, in order."""

    def batches(self, *, workers: int | None) -> Iterator[Batch]: ...


@dataclass
class Written:
    """What :func:`write` wrote: the producer's summed counts and the target's summary."""

    counts: dict[str, int]
    summary: Summary


def write(
    producer: Producer,
    target: Target,
    *,
    workers: int | None = None,  # same as --workers; None = all cores
    progress: Progress | None = None,
    reset: bool = False,  # same as --reset: the prepared tables dropped and recreated
    commit: bool = True,  # commit the target at the end (else the caller does)
) -> Written:
    """Write every batch of ``producer`` into ``target``; commit it at the end.

    The caller opens and closes the target (a context manager, which aborts
    on an exception); nothing here catches one.
    """
    counts: Counter[str] = Counter()
    for batch in producer.batches(workers=workers):
        done: int | None = None
        if isinstance(batch, Rows):
            written = target.write(batch.table, batch.records)
            done = written if batch.done is None else batch.done
            counts.update(batch.counts)
        elif isinstance(batch, Files):
            for item in batch.files:
                if isinstance(item, OnDisk):
                    target.add_file(item.path, item.name)
                else:
                    target.add(item)
            done = batch.done
            counts.update(batch.counts)
        elif isinstance(batch, Prepare):
            target.prepare(batch.tables, reset=reset)
        elif isinstance(batch, Load):
            batch.load(target, progress)
        elif isinstance(batch, Done):
            done = batch.count
            counts.update(batch.counts)
        else:
            target.summary.add(batch.kind, batch.count)
        if progress and done:
            progress(done)
    if commit:
        target.commit()  # (a table a run made is counted in the database here)
    return Written(dict(sorted(counts.items())), target.summary)


def order_by_references(tables: Iterable[TableSpec]) -> list[TableSpec]:
    """Parents before children, so foreign keys can be created and satisfied."""
    by_name = {t.name: t for t in tables}

    def parents(name: str) -> list[str]:
        return [p for p, _ in by_name[name].foreign_keys.values() if p in by_name]

    return [by_name[name] for name in depth_first(sorted(by_name), parents)]


STEP_BATCH = 50_000
"""Rows of one table a batch of journey steps holds at most before every table is written."""


def step_batches(
    records: Iterable[tuple[TableSpec, Document] | Done],
    *,
    tables: Sequence[TableSpec] | None = None,
    limit: int = STEP_BATCH,
    count_rows: bool = True,
) -> Iterator[Batch]:
    """Rows of several tables (journey steps), batched by table; ``Done`` passed on.

    When a batch is full, every pending batch is written, in the order of
    ``tables`` (parents first; None: the tables met so far, each prepared
    before its first rows): a child's rows never reach the database before
    the rows they refer to, which came earlier in ``records``. That happens
    between two journeys (records with another ``journey_id``), so a row a
    journey writes twice (a ``job_run`` started, then finished) is in one
    batch, and the database counts it once. ``count_rows``: the rows are the
    progress bar's items (else ``Done`` says what is done).
    """
    order = list(tables or ())
    prepared = {t.name for t in order}
    batches: dict[str, list[Document]] = {t.name: [] for t in order}
    met: dict[str, TableSpec] = {}  # tables not in ``order`` yet
    full, journey = False, None

    def flush() -> Iterator[Batch]:
        if met:
            order.extend(met.values())
            met.clear()
            if tables is None:
                order[:] = order_by_references(order)
        new = [t for t in order if t.name not in prepared]
        if new:
            prepared.update(t.name for t in new)
            yield Prepare(new)
        for table in order:
            batch = batches[table.name]
            if batch:
                yield Rows(table, batch, done=None if count_rows else 0)
                batches[table.name] = []

    for item in records:
        if isinstance(item, Done):
            yield item
            continue
        table, record = item
        if full and (record.get("journey_id") is None or record["journey_id"] != journey):
            yield from flush()
            full = False
        journey = record.get("journey_id")
        batch = batches.get(table.name)
        if batch is None:
            met[table.name] = table
            batch = batches[table.name] = []
        batch.append(record)
        full = full or len(batch) >= limit
    yield from flush()
