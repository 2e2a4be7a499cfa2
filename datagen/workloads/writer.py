"""One writer: its schedule handed to its connections on the workload's clock.

The calling thread is the scheduler: it waits until each transaction is due
(``t0 + due / speed``; no wait at ``--speed max``) and hands it to a
connection: with ``affinity: key`` the connection of its key (so writes of
one key are never concurrent, as tsbs' ``--hash-workers``), else the first
free one. Each connection is a thread with its own database connection;
the driver releases the GIL while it waits for the server. A transaction
that fails transiently (a deadlock, a serialization failure, a lock
timeout, a lost connection: the replay's rules) is retried with exponential
backoff, on a new connection if the old one was lost; its latency keeps
counting from the intended time. When the last transaction of a run is
done, the connection that finished it runs the writer's ``after:`` SQL.

``process.run_in_process`` runs it in the writer's own process (through
``multiplex.run_writer``, which drives all the connections from one thread
where it can); tests run ``Writer`` in-process on a manual clock.
"""

from __future__ import annotations

import queue
import random
import threading
from operator import itemgetter
from typing import Any, Callable

from datagen.errors import DataGenError
from datagen.replay.clock import Clock, SystemClock
from datagen.workloads import sql
from datagen.workloads.database import Database, Failure, Session
from datagen.workloads.metrics import Stats, record
from datagen.workloads.schedule import Txn, WriterPlan, transactions
from datagen.workloads.values import Row

MAX_BACKOFF = 2.0
QUEUE_DEPTH = 64  # transactions waiting per connection at --speed max


def getter(names: tuple[str, ...]) -> Callable[[Row], tuple[Any, ...]]:
    """A function giving a row's values of ``names``, in order, as a tuple."""
    if not names:
        return lambda row: ()
    if len(names) == 1:
        name = names[0]
        return lambda row: (row[name],)
    return itemgetter(*names)  # type: ignore[return-value]


class Statements:
    """What a writer sends for each transaction, in the database's dialect."""

    def __init__(self, plan: WriterPlan, dialect: str) -> None:
        writer = plan.writer
        self.many: str | None = None  # one statement for all rows (upsert, insert)
        self.values = getter(())
        self.names: tuple[str, ...] = ()  # the values of ``many``, in order
        self.each: list[tuple[str, Callable[[Row], tuple[Any, ...]], bool]] = []  # sql:
        if writer.action == "upsert":
            assert writer.upsert is not None
            self.many, self.names = sql.upsert_statement(dialect, writer.upsert)
            self.values = getter(self.names)
        elif writer.action == "insert":
            assert writer.table is not None
            self.many, self.names = sql.insert_statement(dialect, writer.table, list(writer.values))
            self.values = getter(self.names)
        else:
            for statement in writer.sql:
                text = statement.for_dialect(dialect)
                if text is None:
                    raise statement.where.error(
                        f"writer {writer.name!r} has no SQL for {dialect}",
                        hint=f"add a '{dialect}:' (or 'default:') statement",
                    )
                driver_sql, names = sql.with_driver_parameters(dialect, text)
                select = text.lstrip().lower().startswith(("select", "with"))
                self.each.append((driver_sql, getter(names), select))
        self.after: list[str] = []
        for statement in writer.after:
            text = statement.for_dialect(dialect)
            if text is not None:
                self.after.append(text)
        for name in writer.refresh:
            refresh = sql.refresh_view(dialect, plan.workload.views[name])
            if refresh is not None:
                self.after.append(refresh)

    def run(self, session: Session, txn: Txn) -> None:
        many, rows = self.many, txn.rows
        if many is not None and len(rows) == 1:
            # One statement of one row: sent on its own, no BEGIN/COMMIT (as pgbench does).
            session.execute_prepared(many, self.values(rows[0]))
            return
        session.begin()
        try:
            if many is not None:
                values = self.values
                session.executemany(many, [values(row) for row in rows])
            else:
                for row in rows:
                    params = dict(row)
                    for statement, values, select in self.each:
                        session.execute(statement, values(params))
                        if select:
                            params.update(session.fetchone() or {})
            session.commit()
        except BaseException:
            session.rollback()
            raise


class Writer:
    """Runs one writer's schedule against the database; ``run()`` returns its Stats."""

    def __init__(
        self,
        plan: WriterPlan,
        database: Database,
        *,
        speed: float | None,
        retries: int = 5,
        backoff: float = 0.05,
        clock: Clock | None = None,
        stop: Any = None,  # a threading or multiprocessing Event
    ) -> None:
        self.plan = plan
        self.database = database
        self.speed = speed
        self.retries = retries
        self.backoff = backoff
        self.clock = clock or SystemClock()
        self.stop = stop if stop is not None else threading.Event()
        self.statements = Statements(plan, database.dialect)
        connections = plan.writer.connections
        if database.dialect == "sqlite":
            connections = 1  # SQLite has one writer at a time: the file's lock
        else:  # this process's share of them
            connections = connections // plan.parts + (plan.part < connections % plan.parts)
        self.sessions = [Session(database) for _ in range(connections)]
        self.stats = Stats(plan.transactions_planned())
        self.t0 = 0.0
        self._queues: list[queue.Queue[Txn | None]] = []
        self._remaining: dict[int, int] = {}  # run -> transactions not yet done
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._source = transactions(plan)  # taken in order, under _source_lock
        self._source_lock = threading.Lock()

    def connect(self) -> None:
        """Open every connection now: a database that refuses fails before the start."""
        for session in self.sessions:
            session.open()

    def close(self) -> None:
        for session in self.sessions:
            session.dispose()

    def start(self, t0: float | None = None) -> None:
        """Connect, and start the clock at ``t0`` (now if None)."""
        self.connect()
        self.clock.bind(self._settle)
        self.t0 = self.clock.now() if t0 is None else t0

    def finish(self) -> None:
        self.stats.finished_at = self.clock.now() - self.t0
        self.close()

    def run(self, t0: float | None = None) -> Stats:
        """The schedule on a thread per connection (``multiplex.run_writer`` picks one thread
        for all of them where it can)."""
        self.start(t0)
        if self.pulls:
            threads = [
                threading.Thread(target=self._pull, args=(s,), name=f"{self.plan.name}-{n}")
                for n, s in enumerate(self.sessions)
            ]
        else:
            depth = QUEUE_DEPTH if self.speed is None else 0
            self._queues = [queue.Queue(maxsize=depth) for _ in self.sessions]
            threads = [
                threading.Thread(target=self._work, args=(s, q), name=f"{self.plan.name}-{n}")
                for n, (s, q) in enumerate(zip(self.sessions, self._queues))
            ]
        for thread in threads:
            thread.daemon = True
            thread.start()
        try:
            if not self.pulls:
                self._hand_out()
        finally:
            for inbox in self._queues:
                inbox.put(None)
            for thread in threads:
                thread.join()
            self.finish()
        return self.stats

    @property
    def pulls(self) -> bool:
        """No affinity (or one connection): each connection takes the next transaction itself.

        As pgbench's clients do: no scheduler thread in between, so no hand-over.
        """
        return not self.plan.writer.affinity or len(self.sessions) == 1

    def _pull(self, session: Session) -> None:
        counts = bool(self.statements.after)  # runs are counted for their after: SQL only
        settles = not isinstance(self.clock, SystemClock)  # a manual clock waits for the work
        while not self.stop.is_set():
            with self._source_lock:
                txn = next(self._source, None)
                if txn is None:
                    return
                if counts and txn.unit not in self._remaining:
                    self._remaining[txn.unit] = txn_count(self.plan, txn)
                self.stats.handed_out += 1
            if self.speed is not None:
                if not self.clock.sleep_until(self.intended(txn), self.stop):
                    return  # stopped while waiting: not written
            if not (counts or settles):
                self._perform(session, txn)
                continue
            with self._lock:
                self._in_flight += 1
            self._perform(session, txn)
            self._done(txn, session, ran=True)

    def intended(self, txn: Txn) -> float:
        assert self.speed is not None
        return self.t0 + txn.due / self.speed

    def _hand_out(self) -> None:
        count = len(self._queues)
        for txn in self._source:
            if self.speed is not None:
                if not self.clock.sleep_until(self.intended(txn), self.stop):
                    return
            elif self.stop.is_set():
                return
            with self._lock:
                if txn.unit not in self._remaining:
                    self._remaining[txn.unit] = txn_count(self.plan, txn)
                self._in_flight += 1
            self.stats.handed_out += 1
            target = self._queues[txn.route % count if count > 1 else 0]
            while True:
                try:
                    target.put(txn, timeout=0.2)
                    break
                except queue.Full:
                    if self.stop.is_set():
                        with self._lock:
                            self._in_flight -= 1
                        return

    def _settle(self) -> None:
        """Wait until every transaction handed out is done (the manual clock's tick)."""
        with self._idle:
            while self._in_flight and not self.stop.is_set():
                self._idle.wait(0.05)

    def _work(self, session: Session, inbox: queue.Queue[Txn | None]) -> None:
        while True:
            txn = inbox.get()
            if txn is None:
                return
            if self.stop.is_set():
                self._done(txn, session, ran=False)
                continue
            self._perform(session, txn)
            self._done(txn, session, ran=True)

    def _perform(self, session: Session, txn: Txn) -> None:
        stats = self.stats
        for attempt in range(self.retries + 1):
            started = self.clock.now()
            try:
                session.open()
                self.statements.run(session, txn)
            except (DataGenError, session.driver_error()) as exc:
                failure = self._failure(exc)
                retry = failure.transient and attempt < self.retries and not self.stop.is_set()
                stats.attempt_failed(failure.kind, retry)
                if failure.kind == "connection":
                    session.close()
                if not retry:
                    stats.gave_up(txn.index, failure.kind, failure.message)
                    return
                pause = min(MAX_BACKOFF, self.backoff * 2**attempt) * (0.5 + random.random())
                self.stop.wait(pause)
                continue
            end = self.clock.now()
            latency = None if self.speed is None else end - self.intended(txn)
            second = int(end - self.t0)
            stats.committed(txn.index, len(txn.rows), second, latency, end - started)
            return

    def _failure(self, exc: BaseException) -> Failure:
        if isinstance(exc, DataGenError):  # could not reconnect
            return Failure("connection", True, exc.message)
        return self.database.failure(exc)

    def _done(self, txn: Txn, session: Session, *, ran: bool) -> None:
        with self._lock:
            left = self._remaining.get(txn.unit)  # counted when there is after: SQL
            closes = left == 1
            if left is not None:
                if closes:
                    del self._remaining[txn.unit]
                else:
                    self._remaining[txn.unit] = left - 1
        if closes and ran and self.statements.after and not self.stop.is_set():
            self._after(session)
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def _after(self, session: Session) -> None:
        started = self.clock.now()
        try:
            session.open()
            for statement in self.statements.after:
                session.execute(statement, None)  # as written: no parameters
        except (DataGenError, session.driver_error()) as exc:
            failure = self._failure(exc)
            if failure.kind == "connection":
                session.close()
            with self.stats.lock:
                self.stats.after_failed += 1
                self.stats.note(f"after: {failure.message}")
            return
        with self.stats.lock:
            record(self.stats.after, self.clock.now() - started)


def txn_count(plan: WriterPlan, txn: Txn) -> int:
    """How many transactions the run of ``txn`` has (its after: SQL follows the last)."""
    batch = plan.writer.schedule
    if getattr(batch, "per_row", False):
        return int(plan.rows_per_run[txn.unit])
    return 1
