"""The replay engine on a manual clock: timing, order, concurrency, retries, resume."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Sequence

import pytest

from datagen.replay import replay, targets
from datagen.replay.clock import ManualClock
from datagen.replay.engine import Replayer, ReplayOptions
from datagen.replay.report import ReplayReport
from datagen.replay.schedule import build_schedule
from datagen.replay.source import load_journeys, read_journey
from datagen.replay.steps import ReplayStep, StepTarget, WriteFailed
from tests.replay.test_source import journey_zip


class Recording(StepTarget):
    """Records (clock time, journey, step index) of every step written."""

    def __init__(self, clock: ManualClock | None = None, delay: float = 0.0) -> None:
        super().__init__("memory://")
        self.max_batch = None
        self.clock = clock
        self.delay = delay
        self.writes: list[tuple[float, str, int]] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.failures: dict[tuple[str, int], list[WriteFailed]] = {}

    def write(self, steps: Sequence[ReplayStep]) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            planned = [self.failures.get(s.key) for s in steps]
        try:
            for errors in planned:
                if errors:
                    raise errors.pop(0)
            if self.delay:
                time.sleep(self.delay)
            now = self.clock.now() if self.clock else time.monotonic()
            with self.lock:
                self.writes.extend((now, s.journey, s.index) for s in steps)
        finally:
            with self.lock:
                self.in_flight -= 1


def run(journeys, target, clock=None, **options) -> tuple[Replayer, ReplayReport]:
    done = options.pop("done", frozenset())
    schedule = build_schedule(
        journeys, ramp_up=options.get("ramp_up", 0.0), duration=options.get("duration"), done=done
    )
    report = ReplayReport("src", "memory://", options.get("speed", 1.0), len(journeys), 0, 0)
    report.steps_planned = len(schedule.planned)
    replayer = Replayer(
        schedule,
        target,
        report,
        options=ReplayOptions(backoff=0.001, **options),
        clock=clock or ManualClock(),
        start_at=options.pop("start_at", 0.0) if "start_at" in options else 0.0,
    )
    replayer.run()
    return replayer, report


def small():
    return [
        read_journey("a.zip", journey_zip([(0, 0, "x"), (1, 60, "y"), (2, 600, "x")])),
        read_journey("b.zip", journey_zip([(0, 0, "x"), (1, 30, "y")])),
        read_journey("c.zip", journey_zip([(0, 0, "y"), (1, 3600, "x"), (2, 3601, "y")])),
    ]


def test_your_own_target_subclasses_step_target_from_either_module() -> None:
    """The README's ``datagen.replay.targets.StepTarget`` is still the one in ``steps``."""
    assert targets.StepTarget is StepTarget and targets.WriteFailed is WriteFailed
    assert issubclass(Recording, targets.StepTarget)


def test_each_step_is_performed_at_start_plus_offset_in_schedule_order() -> None:
    clock = ManualClock(start=1000.0)
    target = Recording(clock)
    _, report = run(small(), target, clock, speed=1.0)
    assert target.writes == [
        (1000.0, "a", 0),
        (1000.0, "b", 0),
        (1000.0, "c", 0),
        (1030.0, "b", 1),
        (1060.0, "a", 1),
        (1600.0, "a", 2),
        (4600.0, "c", 1),
        (4601.0, "c", 2),
    ]
    assert report.steps_written == 8 and report.ok
    assert max(report.lags) == 0.0  # the manual clock waits for the writes


def test_speed_divides_the_offsets() -> None:
    clock = ManualClock()
    target = Recording(clock)
    run(small(), target, clock, speed=60.0)
    assert [t for t, *_ in target.writes] == [0, 0, 0, 0.5, 1.0, 10.0, 60.0, 3601 / 60]


def test_ramp_up_staggers_the_journeys() -> None:
    clock = ManualClock()
    target = Recording(clock)
    run(small(), target, clock, speed=1.0, ramp_up=90.0)
    firsts = {j: t for t, j, i in target.writes if i == 0}
    assert firsts == {"a": 0.0, "b": 30.0, "c": 60.0}


def test_duration_stops_after_that_much_schedule_time() -> None:
    clock = ManualClock()
    target = Recording(clock)
    _, report = run(small(), target, clock, speed=1.0, duration=60.0)
    assert [(j, i) for _, j, i in target.writes] == [
        ("a", 0),
        ("b", 0),
        ("c", 0),
        ("b", 1),
        ("a", 1),
    ]
    assert report.ok


def test_max_speed_runs_in_schedule_order_without_waiting() -> None:
    clock = ManualClock()  # a wait for the schedule (it spans an hour) would move it on
    target = Recording(clock)
    _, report = run(small(), target, clock=clock, speed=None, concurrency=1, batch_size=1)
    assert clock.now() == 0.0 and {t for t, _, _ in target.writes} == {0.0}  # was: wall time
    assert [(j, i) for _, j, i in target.writes] == [
        ("a", 0), ("b", 0), ("c", 0), ("b", 1), ("a", 1), ("a", 2), ("c", 1), ("c", 2)
    ]  # fmt: skip
    assert report.lag_ms() is None


def test_concurrency_bounds_the_writes_in_flight(journeys: Path) -> None:
    loaded = load_journeys(journeys)
    target = Recording(delay=0.02)
    from datagen.replay.clock import SystemClock

    replayer, report = run(loaded, target, SystemClock(), speed=None, concurrency=3, batch_size=1)
    assert target.max_in_flight == 3
    assert replayer.max_in_flight == 3
    assert report.steps_written == sum(len(j.steps) for j in loaded)


def test_journey_order_holds_with_many_writers(journeys: Path) -> None:
    loaded = load_journeys(journeys)
    target = Recording(delay=0.001)
    from datagen.replay.clock import SystemClock

    run(loaded, target, SystemClock(), speed=None, concurrency=8, batch_size=3)
    for journey in loaded:
        written = [i for _, j, i in target.writes if j == journey.id]
        assert written == [s.index for s in journey.steps]


def test_a_transient_failure_is_retried_then_succeeds() -> None:
    clock = ManualClock()
    target = Recording(clock)
    target.failures[("b", 1)] = [
        WriteFailed("connection reset", transient=True),
        WriteFailed("HTTP 503", transient=True),
    ]
    _, report = run(small(), target, clock, speed=1.0, retries=3)
    assert report.ok and report.retries == 2
    assert Counter((j, i) for _, j, i in target.writes)[("b", 1)] == 1


def test_a_step_failing_after_retries_is_reported_and_its_journey_stops() -> None:
    clock = ManualClock()
    target = Recording(clock)
    target.failures[("a", 1)] = [WriteFailed("HTTP 503", transient=True) for _ in range(3)]
    _, report = run(small(), target, clock, speed=1.0, retries=2)
    assert [(f.journey, f.step, f.error) for f in report.failures] == [("a", 1, "HTTP 503")]
    assert report.retries == 2
    assert report.skipped == 1  # a's step 2
    assert ("a", 2) not in {(j, i) for _, j, i in target.writes}
    assert report.steps_written == 6 and not report.ok


def test_a_permanent_failure_is_not_retried_and_spares_its_batch() -> None:
    target = Recording()
    target.failures[("b", 0)] = [WriteFailed("HTTP 400", transient=False)] * 2  # batch, alone
    _, report = run(small(), target, speed=None, concurrency=1, batch_size=100)
    assert report.retries == 0
    assert [(f.journey, f.step) for f in report.failures] == [("b", 0)]
    assert {("a", 0), ("c", 0)} <= {(j, i) for _, j, i in target.writes}


def test_interrupted_replay_resumes_without_repeating_a_step(
    journeys: Path, tmp_path: Path
) -> None:
    loaded = load_journeys(journeys)
    total = sum(len(j.steps) for j in loaded)
    stop = threading.Event()
    clock = ManualClock()

    class StopHalfway(Recording):
        def write(self, steps: Sequence[ReplayStep]) -> None:
            super().write(steps)
            if len(self.writes) >= total // 2:
                stop.set()

    target = StopHalfway(clock)
    checkpoint = tmp_path / "ck.json"
    first = replay(journeys, to=target, speed=10.0, clock=clock, stop=stop, checkpoint=checkpoint)
    assert first.interrupted and first.checkpoint == str(checkpoint)
    assert 0 < first.steps_written < total and first.pending > 0
    written_first = len(target.writes)

    second = replay(journeys, to=target, speed=10.0, clock=clock, resume=checkpoint)
    assert second.ok and second.already_done == first.steps_written == written_first
    assert not checkpoint.exists()  # complete: nothing left to resume
    steps = Counter((j, i) for _, j, i in target.writes)
    assert len(steps) == total and set(steps.values()) == {1}  # each step exactly once
    for journey in loaded:  # and each journey in order, across the two runs
        assert [i for _, j, i in target.writes if j == journey.id] == [
            s.index for s in journey.steps
        ]


def test_a_checkpoint_for_other_journeys_is_refused(journeys: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.zip").write_bytes(journey_zip([(0, 0, "x")]))
    stop = threading.Event()
    stop.set()
    checkpoint = tmp_path / "ck.json"
    replay(other, to=Recording(), stop=stop, checkpoint=checkpoint)
    with pytest.raises(Exception, match="checkpoint is for other journeys"):
        replay(journeys, to=Recording(), resume=checkpoint)


def test_an_unexpected_error_fails_the_steps_without_hanging() -> None:
    class Broken(Recording):
        def write(self, steps: Sequence[ReplayStep]) -> None:
            if any(s.journey == "b" for s in steps):
                raise RuntimeError("boom")
            super().write(steps)

    target = Broken()
    _, report = run(small(), target, speed=None, concurrency=2, batch_size=1)
    assert [(f.journey, f.step, f.error) for f in report.failures] == [
        ("b", 0, "unexpected RuntimeError: boom")
    ]
    assert report.steps_written == 6 and report.skipped == 1


def test_many_failures_in_a_row_stop_the_replay() -> None:
    journeys = [read_journey(f"j{n:02d}.zip", journey_zip([(0, n, "x")])) for n in range(30)]
    target = Recording()
    for journey in journeys:
        target.failures[(journey.id, 0)] = [WriteFailed("HTTP 400", transient=False)]
    _, report = run(journeys, target, speed=None, concurrency=1, batch_size=1, give_up_after=5)
    assert len(report.failures) == 5 and report.pending == 25
    assert report.gave_up == "the last 5 steps failed; stopped the replay"
    assert not report.interrupted and not report.ok


def test_a_stopped_max_speed_replay_resumes_from_its_earliest_pending_step() -> None:
    stop = threading.Event()

    class StopAfterTwo(Recording):
        def write(self, steps: Sequence[ReplayStep]) -> None:
            super().write(steps)
            if len(self.writes) >= 2:
                stop.set()

    schedule = build_schedule(small())
    report = ReplayReport("src", "memory://", None, 3, 8, len(schedule.planned))
    options = ReplayOptions(speed=None, batch_size=1, concurrency=1)
    replayer = Replayer(schedule, StopAfterTwo(), report, options=options, stop=stop)
    replayer.run()
    done = replayer.done_steps()
    pending = [p.due for p in schedule.planned if p.step.key not in done]
    assert report.interrupted and len(done) == 2
    assert replayer.schedule_elapsed() <= min(pending)


def test_resuming_with_another_ramp_up_is_refused(journeys: Path, tmp_path: Path) -> None:
    stop = threading.Event()
    stop.set()
    checkpoint = tmp_path / "ck.json"
    replay(journeys, to=Recording(), stop=stop, checkpoint=checkpoint, ramp_up=60)
    with pytest.raises(Exception, match="--ramp-up 30 differs from the interrupted replay's 60"):
        replay(journeys, to=Recording(), resume=checkpoint, ramp_up=30)
    assert replay(journeys, to=Recording(), resume=checkpoint, speed=None).ok
