"""One thread driving all of a writer's PostgreSQL connections, as pgbench's threads do.

For the commonest write — one row, one of our own upsert or insert
statements, on PostgreSQL — a thread per connection costs more client CPU
in wake-ups than the write itself, and on a machine whose cores the server
shares that is throughput lost. Here one thread sends each transaction with
libpq's asynchronous ``PQsendQueryPrepared`` on a free connection (the
connection of its key, with ``affinity: key``), waits on all the busy
sockets at once with ``select``, and reads the results as they come:
pgbench's ``-j`` model. Timing, retries, reconnection and the statistics are
the thread-per-connection writer's own (``Writer``).
"""

from __future__ import annotations

import random
import select
import time
from collections import deque
from typing import Any

from datagen.errors import DataGenError
from datagen.workloads.database import OK, Session, _raise, texts
from datagen.replay.clock import SystemClock
from datagen.workloads.fused import fused
from datagen.workloads.metrics import Commits, Stats
from datagen.workloads.schedule import Txn
from datagen.workloads.writer import Writer

MAX_BACKOFF = 2.0
STOP_CHECK = 0.005  # seconds between looks at the stop signal
QUEUED = 64  # transactions waiting for one busy connection (affinity: key)
FLUSH = 0.05  # seconds between handing the commits to the writer's Stats (its live status)
FLUSH_COUNT = 4096  # commits, at most, between two


def run_writer(writer: Writer, t0: float | None = None) -> Stats:
    """Run ``writer``'s schedule: from one thread if it ``multiplexes``, else ``Writer.run``."""
    if not multiplexes(writer):
        return writer.run(t0)
    writer.start(t0)
    try:
        Multiplexer(writer).run()
    finally:
        writer.finish()
    return writer.stats


def multiplexes(writer: Writer) -> bool:
    """PostgreSQL, one-row writes of our own statement, no after: SQL, the system's clock."""
    schedule = writer.plan.writer.schedule
    one_row = getattr(schedule, "per_row", False) or getattr(schedule, "rows", 0) == 1
    return (
        writer.database.dialect == "postgresql"
        and writer.statements.many is not None
        and bool(one_row)
        and not writer.statements.after
        and isinstance(writer.clock, SystemClock)
    )


class Channel:
    """One connection: the transaction it is writing, since when, which attempt."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.txn: Txn | None = None
        self.started = 0.0
        self.attempt = 0
        self.retry_at: float | None = None  # waiting to send again
        self.waiting: deque[Txn] = deque()  # affinity: key, this connection's next ones
        self.pgconn: Any = None
        self.name = b""  # the statement's prepared name on this connection
        self.fd: int | None = None  # registered with the poller


class Multiplexer:
    """Runs ``writer``'s schedule on its connections from the calling thread."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.channels = [Channel(s) for s in writer.sessions]
        assert writer.statements.many is not None
        self.statement = writer.statements.many
        self.values = writer.statements.values
        self.affinity = len(self.channels) > 1 and writer.plan.writer.affinity
        self.free = list(reversed(self.channels))  # connections without a transaction
        self.retrying: list[Channel] = []
        self.busy = 0
        self.ahead: Txn | None = None  # taken from the schedule, not yet handed out
        self.exhausted = False
        self.poller = select.epoll()
        self.by_fd: dict[int, Channel] = {}
        assert isinstance(writer.clock, SystemClock)  # the multiplexer reads it itself
        self.now = time.monotonic
        self.stopped = False
        self.next_check = 0.0
        self.commits = Commits(writer.t0, writer.speed)
        self.next_flush = 0.0
        source = fused(writer.plan, writer.statements.names)
        if source is not None:  # parameters made a chunk at a time, the same texts
            writer._source = source

    def run(self) -> None:
        try:
            for channel in self.channels:
                self._connect(channel)
            while True:
                stopping = self._stopping()
                if self.retrying:
                    self._retry(everyone=stopping)  # stopping: a last attempt, as a thread makes
                if not stopping:
                    self._hand_out()
                if not self.busy and (stopping or (self.exhausted and self.ahead is None)):
                    return
                self._wait()
        finally:
            self.writer.stats.committed_many(self.commits)
            self.poller.close()

    def _stopping(self) -> bool:
        """Whether the writer is told to stop, asked every ``STOP_CHECK`` seconds at most.

        (A multiprocessing Event's ``is_set`` takes a microsecond: once a transaction, that
        counts.)
        """
        if self.stopped:
            return True
        now = self.now()
        if now >= self.next_check:
            self.next_check = now + STOP_CHECK
            self.stopped = self.writer.stop.is_set()
            if now >= self.next_flush or len(self.commits.index) >= FLUSH_COUNT:
                self.next_flush = now + FLUSH
                self.writer.stats.committed_many(self.commits)
        return self.stopped

    # Connections ----------------------------------------------------------------------

    def _connect(self, channel: Channel) -> None:
        """Open (again) and prepare; its socket goes to the poller."""
        session = channel.session
        session.open()
        channel.name = session.prepared_name(self.statement)
        channel.pgconn = session.pgconn()
        channel.fd = channel.pgconn.socket
        self.poller.register(channel.fd, select.EPOLLIN)
        self.by_fd[channel.fd] = channel

    def _disconnect(self, channel: Channel) -> None:
        if channel.fd is not None:
            try:
                self.poller.unregister(channel.fd)
            except OSError:  # the socket is closed already
                pass
            del self.by_fd[channel.fd]
            channel.fd = None
        channel.session.close()

    # Handing out ---------------------------------------------------------------------

    def _retry(self, *, everyone: bool) -> None:
        now = self.now()
        due = [c for c in self.retrying if everyone or (c.retry_at or 0.0) <= now]
        for channel in due:
            self.retrying.remove(channel)
            assert channel.txn is not None
            self._send(channel, channel.txn)

    def _hand_out(self) -> None:
        writer = self.writer
        speed, t0 = writer.speed, writer.t0
        now = self.now()  # the sending time of those sent now
        source = writer._source
        free = self.free
        stats = writer.stats
        while not self.exhausted:
            if not self.affinity and not free:
                return
            txn = self.ahead or next(source, None)
            self.ahead = None
            if txn is None:
                self.exhausted = True
                return
            if speed is not None and t0 + txn.due / speed > now:
                self.ahead = txn  # not due yet
                return
            if self.affinity:
                channel = self.channels[txn.route % len(self.channels)]
                if channel.txn is not None:
                    if len(channel.waiting) >= QUEUED:
                        self.ahead = txn  # that connection is far behind: wait for it
                        return
                    channel.waiting.append(txn)
                    stats.handed_out += 1
                    continue
            else:
                channel = free.pop()
            stats.handed_out += 1
            self.busy += 1
            self._send(channel, txn, now)

    def _send(self, channel: Channel, txn: Txn, now: float | None = None) -> None:
        if channel.txn is not txn:
            channel.attempt = 0
        channel.txn, channel.retry_at = txn, None
        channel.started = self.now() if now is None else now
        try:
            if channel.fd is None:
                self._connect(channel)
            params = txn.params
            if params is None:
                params = texts(self.values(txn.rows[0]))
            channel.pgconn.send_query_prepared(channel.name, params)
        except (DataGenError, channel.session.driver_error()) as exc:
            self._failed(channel, exc)

    def _finished(self, channel: Channel) -> None:
        """The connection's transaction is done: its next one, or it is free."""
        channel.txn = None
        self.busy -= 1
        if channel.waiting and not self._stopping():
            self.busy += 1
            self._send(channel, channel.waiting.popleft())
        elif not self.affinity:
            self.free.append(channel)

    # Waiting and reading -------------------------------------------------------------

    def _wait(self) -> None:
        writer = self.writer
        timeout = 0.1
        timed = self.ahead is not None and writer.speed is not None
        if self.retrying:
            deadlines = [c.retry_at for c in self.retrying if c.retry_at is not None]
            if timed:
                deadlines.append(writer.intended(self.ahead))  # type: ignore[arg-type]
            if deadlines:
                timeout = min(timeout, max(0.0, min(deadlines) - self.now()))
        elif timed:  # the next transaction's intended time
            due = writer.intended(self.ahead)  # type: ignore[arg-type]
            timeout = min(timeout, max(0.0, due - self.now()))
        if self.busy == len(self.retrying):  # nothing on the wire: a plain sleep
            # (not the stop Event's wait: a multiprocessing Condition, in Python, several
            # system calls; the stop signal is looked at every STOP_CHECK seconds anyway)
            time.sleep(timeout)
            return
        events = self.poller.poll(timeout)
        if events:
            self._read(events)

    def _read(self, events: list[tuple[int, int]]) -> None:
        """The results of the connections ``events`` names, their commits recorded.

        One clock reading for all of them, taken when the poll returned (as
        pgbench reads its clock once per wake-up): their answers were in by then.
        """
        end = self.now()
        by_fd = self.by_fd
        commits = self.commits
        index, due, sent, ended = commits.index, commits.due, commits.sent, commits.ended
        for fd, _ in events:
            channel = by_fd.get(fd)
            txn = None if channel is None else channel.txn
            if txn is None or channel.retry_at is not None:  # type: ignore[union-attr]
                continue
            pgconn = channel.pgconn  # type: ignore[union-attr]
            try:
                pgconn.consume_input()
                if pgconn.is_busy():
                    continue
                result = pgconn.get_result()
                while pgconn.get_result() is not None:  # the end of the results
                    pass
                if result is None or result.status not in OK:
                    _raise(result, pgconn)
            except (DataGenError, channel.session.driver_error()) as exc:  # type: ignore
                self._failed(channel, exc)  # type: ignore[arg-type]
                continue
            index.append(txn.index)
            due.append(txn.due)
            sent.append(channel.started)  # type: ignore[union-attr]
            ended.append(end)
            self._finished(channel)  # type: ignore[arg-type]

    def _failed(self, channel: Channel, exc: BaseException) -> None:
        writer = self.writer
        txn = channel.txn
        assert txn is not None
        failure = writer._failure(exc)
        retry = failure.transient and channel.attempt < writer.retries and not writer.stop.is_set()
        writer.stats.attempt_failed(failure.kind, retry)
        if failure.kind == "connection":
            self._disconnect(channel)
        if not retry:
            writer.stats.gave_up(txn.index, failure.kind, failure.message)
            self._finished(channel)
            return
        pause = min(MAX_BACKOFF, writer.backoff * 2**channel.attempt) * (0.5 + random.random())
        channel.attempt += 1
        channel.retry_at = self.now() + pause
        self.retrying.append(channel)
