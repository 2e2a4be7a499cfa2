"""Run one query or transaction by N clients at once, each on its own connection.

Every client is a thread with its own :class:`~datagen.probes.database.Session`,
opened before a barrier so that connecting is never timed. Clients take
execution numbers from one shared counter (:class:`Turns`) until ``repeat``
executions are handed out or the item's share of ``--duration`` is over (on
the given clock), so parameters follow the execution number, not the client.
A work with a ``run_many(session, recorder, turns)`` method runs its own
loop over the turns (a query's, :mod:`datagen.probes.queries`: the clients
share the GIL, so what one does between its timed calls delays the others'
replies); any other is called once per execution.

A query's latency is the time of ``execute`` and ``fetchall`` alone (the
objects the process held before are frozen out of the garbage collector's
way meanwhile: a full collection over them would land inside someone's
timed call). A
transaction's is from its ``BEGIN`` to its ``COMMIT``, retries included; a
transient failure (deadlock, serialization failure, lock timeout, lost
connection — decided as the replay decides) or a step whose ``on_empty`` is
``retry`` rolls back, counts a conflict, waits (exponential backoff with
jitter, as the replay) and starts the transaction again, up to ``retries``
times.
"""

from __future__ import annotations

import functools
import gc
import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from tenacity import Retrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity import stop_when_event_set, wait_exponential_jitter

from datagen.errors import InputError
from datagen.probes.database import Database, QueryFailed, Session
from datagen.probes.model import ISOLATION_LEVELS, StepDef, TransactionDef
from datagen.probes.params import Parameters
from datagen.probes.statements import Statement
from datagen.probes.results import Recorder
from datagen.replay.clock import Clock
from datagen.seeding import derive_seed

MAX_BACKOFF = 1.0
GIVE_UP_AFTER = 50  # failures in a row, in one client, that stop the item


@dataclass
class Control:
    """Shared by the clients of one run: the stop signal and the first fatal error."""

    clock: Clock
    stop: threading.Event = field(default_factory=threading.Event)
    interrupted: bool = False
    interruption: KeyboardInterrupt | None = None  # Ctrl-C, or SIGTERM raised as its subclass
    fatal: BaseException | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def interrupt(self, signal: KeyboardInterrupt) -> None:
        """Stop handing out work and remember what stopped it (the first signal)."""
        self.interrupted = True
        if self.interruption is None:
            self.interruption = signal
        self.stop.set()

    def abort(self, error: BaseException) -> None:
        with self.lock:
            if self.fatal is None:
                self.fatal = error
        self.stop.set()


Work = Callable[[Session, int, Recorder], None]


@dataclass
class Turns:
    """The execution numbers of one item, shared by its clients: until ``repeat`` are handed
    out, the deadline (``seconds`` after every client connected) or the stop."""

    counter: Iterator[int]
    repeat: int | None
    seconds: float | None
    clock: Clock
    stop: threading.Event
    deadline: float = 0.0

    def take(self) -> int | None:
        """The next execution number, or None: no more."""
        if self.stop.is_set():
            return None
        i = next(self.counter)
        if (self.repeat is not None and i >= self.repeat) or (
            self.seconds is not None and self.clock.now() >= self.deadline
        ):
            return None
        return i


def each(work: Work, session: Session, recorder: Recorder, turns: Turns) -> None:
    """``work`` once per execution number, until the turns run out or it keeps failing."""
    while (i := turns.take()) is not None:
        work(session, i, recorder)
        if recorder.failing >= GIVE_UP_AFTER:
            return


def run_clients(
    database: Database,
    work: Work,
    *,
    clients: int,
    repeat: int | None,
    seconds: float | None,
    control: Control,
) -> tuple[list[Recorder], float]:
    """Run ``work(session, i, recorder)`` for i = 0, 1, … on ``clients`` threads.

    Returns the recorders and the wall time from the start to the last client's
    end. Ctrl-C stops handing out executions; those in flight finish and
    ``control.interrupted`` is set.
    A fatal error of a client (bad SQL, no connection) stops the others and is
    raised here.
    """
    recorders = [Recorder() for _ in range(clients)]
    clock = control.clock
    turns = Turns(itertools.count(), repeat, seconds, clock, control.stop)
    loop = getattr(work, "run_many", None) or functools.partial(each, work)

    def start_clock() -> None:  # once every client is connected, before any is let go
        turns.deadline = clock.now() + (seconds or 0.0)

    ready = threading.Barrier(clients + 1, action=start_clock)

    def client(recorder: Recorder) -> None:
        session = None
        try:
            session = database.session()
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            control.abort(error)
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            pass
        if session is None:
            return
        try:
            loop(session, recorder, turns)
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            control.abort(error)
        finally:
            session.close()

    threads = [
        threading.Thread(target=client, args=(recorder,), daemon=True) for recorder in recorders
    ]
    gc.freeze()  # the harness's own heap out of the collector's way while it times
    try:
        try:
            for thread in threads:
                thread.start()
            ready.wait()
        except BaseException as error:  # Ctrl-C while clients connect: none may wait on
            _release(threads, ready, control, error)
            raise
        start = time.perf_counter()
        _join(threads, control)
        elapsed = time.perf_counter() - start
    finally:
        gc.unfreeze()
    if control.fatal is not None:
        raise control.fatal
    return recorders, elapsed


def _release(
    threads: Sequence[threading.Thread],
    ready: threading.Barrier,
    control: Control,
    error: BaseException,
) -> None:
    """Stop the clients before the start (each closes its connection), and wait for them.

    Without this, clients already connected would wait at the barrier for ever,
    each holding its connection.
    """
    if isinstance(error, KeyboardInterrupt):
        control.interrupt(error)
    control.stop.set()
    ready.abort()  # the waiting clients get BrokenBarrierError, see ``stop`` and close
    for thread in threads:
        if thread.ident is not None:  # started
            thread.join()


def _join(threads: Sequence[threading.Thread], control: Control) -> None:
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)
    except KeyboardInterrupt as signal:
        control.interrupt(signal)
        for thread in threads:
            thread.join()


def refused(where: Any, what: str, database: Database, error: QueryFailed) -> InputError:
    """The one-line error of a statement the database refuses (bad SQL), naming its place."""
    return InputError(f"{what}: {database.label} refused it: {error.message}", where=str(where))


class Conflict(Exception):
    """Try the transaction again (a transient failure, or a step with ``on_empty: retry``)."""

    def __init__(self, message: str, *, lost: bool = False) -> None:
        super().__init__(message)
        self.lost = lost


class StepFailed(Exception):
    """The transaction failed for good (a constraint, ``on_empty: fail``)."""


class TransactionWork:
    """One transaction: its steps in order, a chosen row feeding the next, with retries."""

    def __init__(
        self,
        transaction: TransactionDef,
        statements: Sequence[Statement | None],
        params: Parameters,
        database: Database,
        *,
        seed: int,
        label: str,
        retries: int,
        backoff: float,
        control: Control,
    ) -> None:
        self.transaction = transaction
        self.steps = [(s, st) for s, st in zip(transaction.steps, statements) if st is not None]
        self.params, self.database = params, database
        self.isolation = ISOLATION_LEVELS.get(transaction.isolation or "")
        self.seed, self.label = seed, label
        self.retries, self.backoff, self.control = retries, backoff, control
        self.first_arguments: dict[str, tuple[Any, ...] | None] = {}  # for EXPLAIN

    def __call__(self, session: Session, i: int, recorder: Recorder) -> None:
        values = self.params.values(i)

        def retried(state: RetryCallState) -> None:
            recorder.retries += 1

        retrying = Retrying(  # as the replay retries a write
            stop=stop_after_attempt(self.retries + 1) | stop_when_event_set(self.control.stop),
            wait=wait_exponential_jitter(
                multiplier=self.backoff, max=MAX_BACKOFF, jitter=self.backoff
            ),
            retry=retry_if_exception_type(Conflict),
            sleep=self.wait,
            before_sleep=retried,
            reraise=True,
        )
        start = time.perf_counter_ns()
        tries = 0
        try:
            for attempt in retrying:
                with attempt:
                    outcome = self.rolled_back(session, recorder, values, i, tries)
                tries += 1
        except Conflict as conflict:
            recorder.fail(f"gave up after {tries - 1} retries: {conflict}")
            return
        except StepFailed as failed:
            recorder.fail(str(failed))
            return
        recorder.failing = 0
        if outcome:
            recorder.committed += 1
            recorder.record(time.perf_counter_ns() - start)
        else:
            recorder.ended_empty += 1

    def rolled_back(
        self, session: Session, recorder: Recorder, values: dict[str, Any], i: int, tries: int
    ) -> bool:
        """``attempt``, rolled back if it raises (a conflict is counted; a lost connection
        is opened again)."""
        try:
            return self.attempt(session, values, i, tries)
        except Conflict as conflict:
            session.rollback()
            if conflict.lost:
                session.reconnect()
            recorder.conflicts += 1
            raise
        except StepFailed:
            session.rollback()
            raise

    def wait(self, seconds: float) -> None:
        """The backoff before a retry, on the run's clock; a stop cuts it short."""
        clock = self.control.clock
        clock.sleep_until(clock.now() + seconds, self.control.stop)

    def attempt(self, session: Session, values: dict[str, Any], i: int, attempt: int) -> bool:
        """One try; True if committed, False if a step ended it (``on_empty: end``)."""
        self.run(session, "BEGIN", lambda: session.begin(self.isolation))
        chosen: dict[str, Any] = {}
        for step, statement in self.steps:
            args = self.arguments(session, step, statement, values, chosen)
            self.first_arguments.setdefault(step.name, args)
            rows = self.run(session, step.name, lambda: session.execute(statement.text, args))
            if step.choose or step.on_empty:
                if not rows:
                    action = step.on_empty or "end"
                    if action == "end":
                        session.rollback()
                        return False
                    if action == "retry":
                        raise Conflict(f"step {step.name} returned no row")
                    raise StepFailed(f"step {step.name} returned no row")
                if step.choose:
                    row = rows[0] if step.choose == "first" else self.pick(rows, step, i, attempt)
                    names = session.column_names()
                    chosen.update({f"{step.name}.{n}": v for n, v in zip(names, row)})
        self.run(session, "COMMIT", session.commit)
        return True

    def run(self, session: Session, step: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except QueryFailed as error:
            if error.bad_sql:
                raise refused(
                    self.transaction.where,
                    f"transaction {self.transaction.name!r}, step {step}",
                    self.database,
                    error,
                )
            if error.transient:
                raise Conflict(f"step {step}: {error.message}", lost=error.lost) from None
            raise StepFailed(f"step {step}: {error.message}") from None

    def arguments(
        self,
        session: Session,
        step: StepDef,
        statement: Statement,
        values: dict[str, Any],
        chosen: dict[str, Any],
    ) -> tuple[Any, ...] | None:
        if not statement.names:
            return None
        args = []
        for name in statement.names:
            if name in values:
                args.append(session.encode(values[name]))
            elif name in chosen:
                args.append(session.encode(chosen[name]))
            else:
                source = name.partition(".")[0]
                columns = sorted(key.partition(".")[2] for key in chosen if key.startswith(source))
                raise InputError(
                    f"step {step.name}: ':{name}': step {source!r} returned no such column; "
                    f"its columns: {', '.join(columns) or 'none'}",
                    where=str(step.where),
                )
        return tuple(args)

    def pick(self, rows: list[Any], step: StepDef, i: int, attempt: int) -> Any:
        """One of ``rows``, drawn from (seed, probe, transaction, scale, execution, try, step)."""
        draw = random.Random(derive_seed(self.seed, self.label, i, attempt, step.name))
        return rows[draw.randrange(len(rows))]
