"""The schedule: every transaction a writer makes, with its intended time.

Batch writers run every ``every`` schedule seconds from ``offset`` (``every`` defaults
to 1 h ÷ ``runs_per_hour``); run ``r`` has a number of rows drawn from its
distribution (seeded by writer and run) and, with ``transaction: row``,
its rows spread evenly over ``spread`` seconds from the run's start. Stream
writers' arrivals are evenly spaced (``constant``) or Poisson (exponential
gaps, drawn a chunk of arrivals at a time). Everything is due before
``duration``.

``transactions(plan)`` yields them in schedule order, lazily: it is called
in the writer's own process (to write) and again by the check (to know what
the database must hold); both get the same values, as a pure function of
(workload, seed, options). A writer without affinity may run in several
processes (``part`` of ``parts``), each writing whole runs or chunks of
arrivals, whose values depend on that unit alone: with ``claims`` (a shared
counter) each process takes the next unit nobody has taken when it is done
with its last, so that none is left with a queue of them while the others
are done; without, every ``parts``-th unit from ``part``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from datagen.seeding import derive_seed
from datagen.workloads.model import Batch, Stream, Workload, WriterDef
from datagen.workloads.values import Row, RowMaker, route

CHUNK = 1000  # stream arrivals per unit of random state


@dataclass(slots=True)
class Txn:
    """One transaction: its rows, when it is due (schedule seconds), where it goes."""

    index: int  # the writer's transactions, numbered in schedule order
    due: float
    unit: int  # the batch run (or stream arrival) it belongs to
    rows: list[Row]
    route: int  # the same for the same key (affinity)
    closes_run: bool  # the run's last transaction: its ``after`` SQL follows
    params: Any = None  # the texts sent (``fused``), made with the rows, or None


@dataclass
class WriterPlan:
    """A writer with its options resolved: when it runs and how much."""

    workload: Workload
    writer: WriterDef
    seed: int
    duration: float
    every: float | None  # batch writers
    runs: int = 0
    rows_per_run: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    route_by: tuple[str, ...] = ()
    part: int = 0  # this process's share: the units (runs, chunks of arrivals) u % parts == part
    parts: int = 1
    claims: Any = None  # multiprocessing.Value("q"): the next unit no process has taken
    _planned: int | None = None

    @property
    def name(self) -> str:
        return self.writer.name

    def transactions_planned(self) -> int:
        if self._planned is None:
            if isinstance(self.writer.schedule, Batch):
                if self.writer.schedule.per_row:
                    self._planned = int(self.rows_per_run.sum())
                else:
                    self._planned = int(np.count_nonzero(self.rows_per_run))
            else:
                self._planned = sum(len(times) for _chunk, times in stream_chunks(self))
        return self._planned

    def rows_planned(self) -> int:
        if isinstance(self.writer.schedule, Batch):
            return int(self.rows_per_run.sum())
        return self.transactions_planned() * self.writer.schedule.rows

    def requested_rate(self) -> float:
        """Transactions per schedule second the schedule asks for."""
        return self.transactions_planned() / self.duration if self.duration > 0 else 0.0


def plan_writer(
    workload: Workload, writer: WriterDef, *, seed: int, duration: float, runs_per_hour: float
) -> WriterPlan:
    """Resolve ``writer``'s schedule; a run asking more distinct keys than its pools hold fails."""
    schedule = writer.schedule
    route_by: tuple[str, ...] = ()  # affinity: key -> a connection of its own
    if writer.affinity and writer.connections > 1:
        route_by = writer.upsert.key if writer.upsert is not None else writer.pooled
    plan = WriterPlan(workload, writer, seed, duration, None, route_by=route_by)
    if isinstance(schedule, Batch):
        plan.every = schedule.every if schedule.every is not None else 3600.0 / runs_per_hour
        span = duration - schedule.offset
        plan.runs = math.ceil(span / plan.every - 1e-9) if span > 0 else 0
        rng = np.random.default_rng(derive_seed(seed, writer.name, "rows"))
        plan.rows_per_run = schedule.rows.sample(rng, plan.runs)
        space = 1
        for name in writer.pooled:
            pool = workload.keys[writer.values[name].argument]
            if pool.day is None:
                space *= pool.count
        largest = int(plan.rows_per_run.max(initial=0))
        if writer.pooled and largest > space:
            pools = [
                n for n in writer.pooled if workload.keys[writer.values[n].argument].day is None
            ]
            raise schedule.where.error(
                f"a run writes {largest:,} rows with distinct keys, but the key pools "
                f"({', '.join(pools)}) hold {space:,} combinations",
                hint="raise the pool's count under keys:, or lower rows (e.g. its max)",
            )
    return plan


def stream_times(plan: WriterPlan) -> Iterator[float]:
    """The arrival times of a stream writer, before the duration."""
    for _chunk, times in stream_chunks(plan):
        yield from times


def my_chunks(plan: WriterPlan) -> Iterator[tuple[int, list[float]]]:
    """The chunks of ``stream_chunks`` this process writes (``units``).

    The next one is taken only when this one is done with (the generator is
    lazy): with a shared counter, a process claims a chunk when it needs one.
    """
    mine = units(plan)
    wanted = next(mine)
    for chunk, times in stream_chunks(plan):
        if chunk == wanted:
            yield chunk, times
            wanted = next(mine)


def stream_chunks(plan: WriterPlan) -> Iterator[tuple[int, list[float]]]:
    """The arrival times of a stream writer, ``CHUNK`` at a time: (chunk number, times).

    Poisson arrivals add each chunk's exponential gaps in order, from the last
    arrival of the chunk before (``np.add.accumulate`` adds one after the other,
    as a loop would: the same floats).
    """
    schedule = plan.writer.schedule
    assert isinstance(schedule, Stream)
    duration = plan.duration
    if not schedule.poisson:
        count = math.ceil(duration * schedule.rate - 1e-9)
        for chunk, start in enumerate(range(0, count, CHUNK)):
            yield chunk, [
                index / schedule.rate for index in range(start, min(count, start + CHUNK))
            ]
        return
    now, chunk = 0.0, 0
    while now < duration:
        rng = np.random.default_rng(derive_seed(plan.seed, plan.name, "arrivals", chunk))
        gaps = rng.exponential(1.0 / schedule.rate, size=CHUNK)
        times = np.add.accumulate(np.concatenate(([now], gaps)))
        within = int(np.searchsorted(times, duration, side="left"))  # those before the duration
        yield chunk, times[: min(within, CHUNK)].tolist()
        if within <= CHUNK:
            return
        now = float(times[CHUNK])
        chunk += 1


def units(plan: WriterPlan) -> Iterator[int]:
    """The units (batch runs, chunks of arrivals) this process writes, in increasing order."""
    if plan.parts == 1:
        return itertools.count()
    if plan.claims is None:
        return itertools.count(plan.part, plan.parts)
    return iter(lambda: claim(plan.claims), -1)


def claim(counter: Any) -> int:
    """Take the next unit of the counter shared by a writer's processes."""
    with counter.get_lock():
        unit = int(counter.value)
        counter.value = unit + 1
    return unit


def transactions(plan: WriterPlan, maker: RowMaker | None = None) -> Iterator[Txn]:
    """Every transaction of ``plan``, in schedule order (rows built as they are reached)."""
    maker = maker or RowMaker(plan.workload, plan.writer, plan.seed)
    if isinstance(plan.writer.schedule, Batch):
        yield from _batch(plan, plan.writer.schedule, maker)
    else:
        yield from _stream(plan, plan.writer.schedule, maker)


def _batch(plan: WriterPlan, batch: Batch, maker: RowMaker) -> Iterator[Txn]:
    assert plan.every is not None
    index = 0
    mine = units(plan)
    wanted = next(mine)
    for run in range(plan.runs):
        count = int(plan.rows_per_run[run])
        if run != wanted:  # another process's run
            index += count if batch.per_row else 1 if count else 0
            continue
        if count:
            yield from _run(plan, batch, maker, run, count, index)
            index += count if batch.per_row else 1
        wanted = next(mine)  # taken once this run is handed out (the generator is lazy)


def _run(
    plan: WriterPlan, batch: Batch, maker: RowMaker, run: int, count: int, index: int
) -> Iterator[Txn]:
    """The transactions of batch run ``run`` (``count`` rows), numbered from ``index``."""
    start = batch.offset + run * plan.every  # type: ignore[operator]
    maker.reseed(run)
    keys = maker.distinct_keys(maker.rng(run), count)
    if not batch.per_row:
        rows = [maker.row(n, run, start, keys[n]) for n in range(count)]
        yield Txn(index, start, run, rows, route(rows[0], plan.route_by), True)
        return
    for n in range(count):
        due = start + batch.spread * n / count
        row = maker.row(n, run, due, keys[n])
        yield Txn(index + n, due, run, [row], route(row, plan.route_by), n == count - 1)


def _stream(plan: WriterPlan, stream: Stream, maker: RowMaker) -> Iterator[Txn]:
    route_by, count = plan.route_by, stream.rows
    row = maker.row
    for chunk, times in my_chunks(plan):
        maker.reseed(chunk)
        keys = maker.random_keys(maker.rng(chunk), CHUNK * count)
        index = chunk * CHUNK
        for position, due in enumerate(times):
            offset = position * count
            if count == 1:
                rows = [row(0, index, due, keys[offset])]
            else:
                rows = [row(n, index, due, keys[offset + n]) for n in range(count)]
            yield Txn(index, due, index, rows, route(rows[0], route_by) if route_by else 0, True)
            index += 1
