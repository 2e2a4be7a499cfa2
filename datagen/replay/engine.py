"""The replay engine: performs scheduled steps on the clock, with bounded concurrency.

The calling thread is the scheduler: it waits (on the clock, scaled by the
speed) until each step is due and hands it over. A step whose journey's
previous step is still being written is parked until that one is done, so a
journey's documents always arrive in order; waiting steps are taken in
schedule order (a parked step does not hold up other journeys).
``concurrency`` writer threads take the steps that are due, as many as are
waiting up to ``batch_size`` if the target takes batches (one step at a
time when on schedule, batches when behind or at full speed), write them
grouped by document type, and retry transient failures with exponential
backoff. A step that still fails is recorded with its journey, and the
rest of that journey is skipped.

Stopping (``stop`` set, e.g. by Ctrl-C): nothing more is handed over, the
writes in flight finish, and the replay returns. ``abandon`` (a second
Ctrl-C) gives up waiting for writes in flight as well.
"""

from __future__ import annotations

import heapq
import threading
from dataclasses import dataclass

from tenacity import Retrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity import stop_when_event_set, wait_exponential_jitter

from datagen.errors import DataGenError
from datagen.replay.clock import Clock, SystemClock
from datagen.replay.report import Failure, ReplayReport
from datagen.replay.schedule import Planned, Schedule, StepKey
from datagen.replay.steps import StepTarget, WriteFailed


@dataclass(frozen=True)
class ReplayOptions:
    speed: float | None = 1.0  # schedule seconds per real second; None: as fast as possible
    ramp_up: float = 0.0  # schedule seconds over which journeys' starts are spread
    duration: float | None = None  # schedule seconds after which nothing more is performed
    concurrency: int = 4  # writes in flight at most
    retries: int = 5  # more attempts after a transient failure
    backoff: float = 0.1  # seconds before the first retry; doubles, up to MAX_BACKOFF
    batch_size: int = 500  # steps in one write at most
    give_up_after: int = 50  # steps failed in a row (none written between) that stop the replay


MAX_BACKOFF = 5.0
ABANDONED = "abandoned"


def unexpected(error: Exception) -> str:
    """A one-line reason for an error no target anticipated."""
    lines = str(error).strip().splitlines()
    return f"unexpected {type(error).__name__}: {lines[0][:200] if lines else ''}".rstrip(": ")


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, WriteFailed) and error.transient


class Replayer:
    """Performs one schedule against one (opened) target; ``run()`` returns the report."""

    def __init__(
        self,
        schedule: Schedule,
        target: StepTarget,
        report: ReplayReport,
        *,
        options: ReplayOptions,
        clock: Clock | None = None,
        start_at: float = 0.0,  # schedule seconds already elapsed (a resumed replay)
        stop: threading.Event | None = None,
        abandon: threading.Event | None = None,
    ) -> None:
        self.schedule = schedule
        self.target = target
        self.report = report
        self.options = options
        self.clock = clock or SystemClock()
        self.start_at = start_at
        self.stop = stop or threading.Event()
        self.abandon = abandon or threading.Event()
        self.workers = max(1, min(options.concurrency, target.max_workers or options.concurrency))
        self.batch_size = min(options.batch_size, target.max_batch or options.batch_size)
        self.done: set[StepKey] = set()
        self.last_lag = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self._cond = threading.Condition()
        self._ready: list[tuple[int, Planned]] = []  # a heap by schedule position
        self._parked: dict[StepKey, Planned] = {}  # by the step each waits for
        self._broken: set[str] = set()
        self._scheduling_done = False
        self._failing = 0  # steps failed since the last one written
        self._t0 = 0.0
        self._reached = start_at  # schedule seconds handed over so far

    # -- time -------------------------------------------------------------------

    def real_due(self, planned: Planned) -> float:
        """When (on the clock) ``planned`` is due; steps before ``start_at`` are due at once."""
        speed = self.options.speed
        assert speed is not None
        return self._t0 + max(0.0, planned.due - self.start_at) / speed

    def schedule_elapsed(self) -> float:
        """Schedule seconds reached: where a resumed replay starts again."""
        if self.options.speed is None:
            return min(self._reached, self._reached_bound())
        elapsed = (self.clock.now() - self._t0) * self.options.speed
        return max(self.start_at, min(self.start_at + elapsed, self._reached_bound()))

    def _reached_bound(self) -> float:
        with self._cond:
            pending = [p.due for _, p in self._ready] + [p.due for p in self._parked.values()]
        return min(pending, default=float("inf"))

    # -- running ------------------------------------------------------------------

    def run(self) -> ReplayReport:
        self.clock.bind(self._settle)
        self._t0 = self.clock.now()
        threads = [
            threading.Thread(target=self._work, name=f"replay-writer-{n}", daemon=True)
            for n in range(self.workers)
        ]
        try:
            for thread in threads:
                thread.start()
        except RuntimeError as err:  # "can't start new thread": the system's limit
            self.stop.set()
            with self._cond:
                self._cond.notify_all()
            raise DataGenError(
                f"cannot start {self.workers} writer threads ({err}); nothing was written",
                hint="give a smaller --concurrency",
            ) from None
        try:
            self._hand_over()
        finally:
            with self._cond:
                self._scheduling_done = True
                self._cond.notify_all()
            for thread in threads:
                while thread.is_alive() and not self.abandon.is_set():
                    thread.join(0.05)
            self.report.elapsed = self.clock.now() - self._t0
            self.report.interrupted = (
                self.stop.is_set() and self.report.pending > 0 and self.report.gave_up is None
            )
        return self.report

    def _hand_over(self) -> None:
        high_water = max(1000, 2 * self.options.batch_size * self.workers)
        for planned in self.schedule.planned:
            if self.options.speed is not None:
                if not self.clock.sleep_until(self.real_due(planned), self.stop):
                    return
            with self._cond:
                while len(self._ready) >= high_water and not self.stop.is_set():
                    self._cond.wait(0.1)
                if self.stop.is_set():
                    return
                self._release(planned)
                self._reached = planned.due

    def _release(self, planned: Planned) -> None:
        """Hand ``planned`` to the writers, or park it behind its journey's previous step."""
        if planned.step.journey in self._broken:
            self.report.skipped += 1
        elif planned.after is None or planned.after in self.done:
            heapq.heappush(self._ready, (planned.position, planned))
            self._cond.notify()
        else:
            self._parked[planned.after] = planned

    def _settle(self) -> None:
        """Wait until every step handed over is written (the manual clock's tick)."""
        with self._cond:
            while (self._ready or self.in_flight) and not self.stop.is_set():
                self._cond.wait(0.05)

    # -- writing ------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._ready and not self._finished():
                    self._cond.wait(0.2)
                if self.stop.is_set() or not self._ready:
                    return
                size = min(len(self._ready), self.batch_size)
                batch = [heapq.heappop(self._ready)[1] for _ in range(size)]
                self.in_flight += len(batch)
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._perform(batch)

    def _finished(self) -> bool:
        return self.stop.is_set() or (self._scheduling_done and self.in_flight == 0)

    def _perform(self, batch: list[Planned]) -> None:
        started = self.clock.now()
        lags: list[float] = []
        if self.options.speed is not None:
            lags = [started - self.real_due(p) for p in batch]
        groups: dict[str, list[Planned]] = {}
        for planned in batch:
            groups.setdefault(planned.step.document_type, []).append(planned)
        failed: list[tuple[Planned, str]] = []
        try:
            for group in groups.values():
                if self.abandon.is_set():
                    failed.extend((p, ABANDONED) for p in group)
                    continue
                failed.extend(self._write(group))
        finally:
            with self._cond:
                if self.options.speed is not None:
                    self.report.lags.extend(lags)
                    self.last_lag = lags[-1]
                self.in_flight -= len(batch)
                lost = {p.step.key for p, _ in failed}
                for planned in batch:
                    if planned.step.key not in lost:
                        self._succeeded(planned)
                for planned, error in failed:
                    if error != ABANDONED:
                        self._failed(planned, error)
                self._cond.notify_all()

    def _write(self, group: list[Planned]) -> list[tuple[Planned, str]]:
        """Write ``group``; returns the steps that failed, with why."""
        try:
            self._attempt(group)
            return []
        except WriteFailed as err:
            if err.transient or len(group) == 1:
                return [(p, str(err)) for p in group]
        except Exception as err:  # a bug or a bad document: the steps fail, the replay goes on
            return [(p, unexpected(err)) for p in group]
        failures = []  # one bad record fails its batch: find it
        for planned in group:
            try:
                self._attempt([planned])
            except WriteFailed as err:
                failures.append((planned, str(err)))
            except Exception as err:
                failures.append((planned, unexpected(err)))
        return failures

    def _attempt(self, group: list[Planned]) -> None:
        steps = [p.step for p in group]
        retrying = Retrying(
            stop=stop_after_attempt(self.options.retries + 1) | stop_when_event_set(self.abandon),
            wait=wait_exponential_jitter(
                multiplier=self.options.backoff, max=MAX_BACKOFF, jitter=self.options.backoff
            ),
            retry=retry_if_exception(_is_transient),
            sleep=self._pause,
            before_sleep=self._count_retry,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                self.target.write(steps)

    def _pause(self, seconds: float) -> None:
        """Wait before a retry; a second Ctrl-C (``abandon``) cuts it short."""
        self.abandon.wait(seconds)

    def _count_retry(self, state: RetryCallState) -> None:
        with self._cond:
            self.report.retries += 1

    def done_steps(self) -> frozenset[StepKey]:
        """The steps written so far (a copy: writers may still be running)."""
        with self._cond:
            return frozenset(self.done)

    def _succeeded(self, planned: Planned) -> None:
        self._failing = 0
        key = planned.step.key
        self.done.add(key)
        kind = planned.step.document_type
        self.report.written[kind] = self.report.written.get(kind, 0) + 1
        successor = self._parked.pop(key, None)
        if successor is not None:
            heapq.heappush(self._ready, (successor.position, successor))

    def _failed(self, planned: Planned, error: str) -> None:
        step = planned.step
        self.report.failures.append(Failure(step.journey, step.index, step.document_type, error))
        self._broken.add(step.journey)
        self._failing += 1
        if self._failing == self.options.give_up_after and not self.stop.is_set():
            self.report.gave_up = f"the last {self._failing} steps failed; stopped the replay"
            self.stop.set()
        successor = self._parked.pop(step.key, None)
        while successor is not None:
            self.report.skipped += 1
            successor = self._parked.pop(successor.step.key, None)
