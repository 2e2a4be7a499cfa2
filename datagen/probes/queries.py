"""A query's executions by one client: the loop a bare driver loop would be, and no more.

The clients are threads of one process and share its GIL: what a client
does between two timed calls (taking the next execution number, finding its
arguments, recording the latency) holds the GIL while the other clients'
replies arrive, and each of them waits for it before its own timer can
stop. So the per-execution work outside the driver is kept to what a bare
loop does (``args = wanted[i]``, ``perf_counter_ns`` around ``execute`` and
``fetchall``, an array append): the arguments are made a block at a time
ahead (:class:`~datagen.probes.params.Arguments`), the block in hand is
indexed directly, the latency and row count are appended to the recorder's
arrays, and the driver's bound methods are looked up once. With 4 clients
on PostgreSQL this is what the harness added to the p50 of a point query.
Failures leave the loop's fast path: they are classified by the session
(``Session.failure``) and counted as before.
"""

from __future__ import annotations

import time
from typing import Any

from datagen.probes.database import Database, QueryFailed, Session
from datagen.probes.model import QueryDef
from datagen.probes.params import BLOCK, Arguments, Parameters
from datagen.probes.results import FLUSH_EVERY, Recorder
from datagen.probes.runner import GIVE_UP_AFTER, Turns, refused
from datagen.probes.statements import Statement

NO_LIMIT = 1 << 62
STOP_EVERY = 16  # executions between looks at the stop signal (a Python call)


class QueryWork:
    """The executions of one query: its arguments (made ahead), execute + fetchall timed."""

    def __init__(
        self, query: QueryDef, statement: Statement, params: Parameters, database: Database
    ):
        self.query, self.statement, self.database = query, statement, database
        self.args: Arguments | None = None
        if statement.names:
            self.args = params.arguments(statement.names, database.encode)

    def warm(self, executions: int | None) -> None:
        """Make the arguments of the first executions now, before anything is timed."""
        if self.args is not None:
            self.args.warm(executions)

    def arguments(self, session: Session, i: int) -> tuple[Any, ...] | None:
        return None if self.args is None else self.args.get(i)

    def __call__(self, session: Session, i: int, recorder: Recorder) -> None:
        """Execution ``i`` alone (``run_many`` runs them in a loop)."""
        args = self.arguments(session, i)
        perf = time.perf_counter_ns
        try:
            start = perf()
            rows = session.execute(self.statement.text, args)
            elapsed = perf() - start
        except QueryFailed as error:
            self.failed(session, recorder, error)
            return
        recorder.failing = 0
        recorder.record(elapsed, 0 if rows is None else len(rows))

    def failed(self, session: Session, recorder: Recorder, error: QueryFailed) -> None:
        """Count a failed execution (bad SQL is raised: the query is wrong, not the run)."""
        if error.bad_sql:
            raise refused(self.query.where, f"query {self.query.name!r}", self.database, error)
        recorder.errors += 1
        if error.lost:
            session.reconnect()
        if not error.transient:
            recorder.fail(error.message)

    def run_many(self, session: Session, recorder: Recorder, turns: Turns) -> None:
        """Executions until the turns run out (or this client keeps failing)."""
        text, arguments = self.statement.text, self.args
        counter, stop, clock = turns.counter, turns.stop, turns.clock
        limit = NO_LIMIT if turns.repeat is None else turns.repeat
        timed = turns.seconds is not None
        deadline = turns.deadline
        perf = time.perf_counter_ns
        cursor = session.cursor
        execute, fetchall, errors = cursor.execute, cursor.fetchall, session.errors
        latencies, row_counts = recorder.latencies, recorder.row_counts
        returns_rows: bool | None = None  # a statement's result has rows every time, or never
        number, block = -1, None  # the block of arguments in hand
        args = None
        while True:
            i = next(counter)
            if i >= limit or (timed and clock.now() >= deadline):
                return
            if not i % STOP_EVERY and stop.is_set():
                return
            if arguments is not None:
                if i // BLOCK != number:
                    number = i // BLOCK
                    block = arguments.block(number)
                args = block[i % BLOCK]  # type: ignore[index]
            try:
                if returns_rows and args is not None:  # the commonest: as a bare loop
                    start = perf()
                    execute(text, args)
                    rows = fetchall()
                    elapsed = perf() - start
                    count = len(rows)
                else:
                    start = perf()
                    if args is None:
                        execute(text)
                    else:
                        execute(text, args)
                    if returns_rows is None:
                        returns_rows = session.has_rows()
                    count = len(fetchall()) if returns_rows else 0
                    elapsed = perf() - start
            except errors as exc:
                self.failed(session, recorder, session.failure(exc))
                if recorder.failing >= GIVE_UP_AFTER:
                    return
                if session.cursor is not cursor:  # reconnected
                    cursor = session.cursor
                    execute, fetchall = cursor.execute, cursor.fetchall
                continue
            if recorder.failing:
                recorder.failing = 0
            latencies.append(elapsed)
            row_counts.append(count)
            if len(latencies) >= FLUSH_EVERY:
                recorder.flush()
                latencies, row_counts = recorder.latencies, recorder.row_counts
