"""A one-row stream writer's transactions with their parameters already in PostgreSQL's text.

The multiplexer (:mod:`datagen.workloads.multiplex`) sends each transaction's
parameters as texts; made row by row (a ``Row`` dict, then its values in the
statement's order, then each one's text) that was most of its Python per
transaction. Here a chunk of arrivals is made column by column: the key pools'
draws (the same ``rng.integers`` as :meth:`RowMaker.random_keys`) looked up in
the pools' keys encoded once, the day's text once a day, the generated values
from the same compiled function called in the same order (``build(0)`` per
arrival, after the same ``reseed``), each column's texts made in one pass, a
value named twice converted once. The texts are those ``database.texts`` makes
of the rows ``schedule.transactions`` yields: the same writes at the same
intended times, a pure function of (workload, seed, options).

Only for streams of one row without ``template`` values (they format the whole
row) or affinity (it routes on the row): others return None and the
multiplexer makes rows as the threads do.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Iterator

from datagen.workloads.database import texts
from datagen.workloads.model import Stream
from datagen.workloads.schedule import CHUNK, Txn, WriterPlan, my_chunks
from datagen.workloads.values import DAY, RowMaker, SMALL_POOL

NO_ROWS: list[Any] = []  # a fused transaction's rows: its params hold what is sent


def fused(plan: WriterPlan, names: tuple[str, ...]) -> Iterator[Txn] | None:
    """``plan``'s transactions with ``params`` set (the texts of ``names``), or None."""
    schedule = plan.writer.schedule
    if not isinstance(schedule, Stream) or schedule.rows != 1 or plan.route_by:
        return None
    maker = RowMaker(plan.workload, plan.writer, plan.seed)
    if maker.templates:
        return None
    return _chunks(plan, maker, names)


def _chunks(plan: WriterPlan, maker: RowMaker, names: tuple[str, ...]) -> Iterator[Txn]:
    pools = [pool for _name, pool in maker.pools]
    pool_of = {name: n for n, (name, _pool) in enumerate(maker.pools)}
    day_of = {name: day for name, day in maker.days}
    number_of = dict(maker.numbers)
    encoded: list[list[bytes | None] | None] = [
        texts([pool.key(i) for i in range(pool.count)]) if pool.count <= SMALL_POOL else None
        for pool in pools
    ]
    distinct = list(dict.fromkeys(names))  # a value named twice is made once
    build = maker.build
    day_texts: dict[tuple[str, int], bytes | None] = {}
    for chunk, times in my_chunks(plan):
        maker.reseed(chunk)
        rng = maker.rng(chunk)
        draws = [rng.integers(0, pool.count, size=CHUNK).tolist() for pool in pools]
        size = len(times)
        built = [build(0) for _ in range(size)]
        index = chunk * CHUNK
        columns: dict[str, list[bytes | None]] = {}
        for name in distinct:
            if name in pool_of:
                n = pool_of[name]
                known = encoded[n]
                drawn = draws[n][:size]
                if known is not None:
                    columns[name] = [known[i] for i in drawn]
                else:
                    columns[name] = texts([pools[n].key(i) for i in drawn])
            elif name in day_of:
                columns[name] = _days(day_texts, name, day_of[name], times)
            elif name in number_of:  # run: the arrival's number; row: its position (0)
                run = number_of[name] == "run"
                columns[name] = texts([index + p if run else 0 for p in range(size)])
            else:
                columns[name] = texts([values[name] for values in built])
        for params, due in zip(zip(*(columns[name] for name in names)), times):
            yield Txn(index, due, index, NO_ROWS, 0, True, params)
            index += 1


def _days(
    cache: dict[tuple[str, int], bytes | None], name: str, day: date, times: list[float]
) -> list[bytes | None]:
    """The texts of the simulated day of each arrival (most chunks are within one day)."""
    if not times:
        return []
    first, last = int(times[0] // DAY), int(times[-1] // DAY)
    if first == last:
        return [_day_text(cache, name, day, first)] * len(times)
    return [_day_text(cache, name, day, int(due // DAY)) for due in times]


def _day_text(
    cache: dict[tuple[str, int], bytes | None], name: str, day: date, number: int
) -> bytes | None:
    text = cache.get((name, number))
    if text is None:
        text = cache[(name, number)] = texts([day + timedelta(days=number)])[0]
    return text
