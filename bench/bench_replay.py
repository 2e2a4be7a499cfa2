"""Replay accuracy and speed.

1. 1,000 ``job_lifecycle`` journeys, their starts spread over ten times a
   journey's length, replayed at the speed that asks for ~500 steps/s into
   SQLite and into a local HTTP server (a separate process): the schedule
   lag p99 (goal < 50 ms) and the achieved rate ÷ the requested rate (goal
   ≥ 0.98).
2. ``--speed max`` into PostgreSQL: steps/s ÷ the ``publish`` rate of the
   same journeys into PostgreSQL, measured in the same run (goal ≥ 0.5).

Set BENCH_REPLAY_JOURNEYS for a quicker run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from bench.common import ROOT, Skipped, report, scratch_postgres, time_call
from datagen.journey_generator import generate_journeys
from datagen.publish import publish
from datagen.replay import replay
from datagen.replay.report import ReplayReport
from datagen.replay.schedule import build_schedule
from datagen.replay.source import load_journeys

JOURNEYS = int(os.environ.get("BENCH_REPLAY_JOURNEYS", "1000"))
REQUESTED_RATE = 500.0  # steps per second


def paced(source: Path) -> tuple[float, float]:
    """(ramp-up, speed) that spread the steps evenly and ask for REQUESTED_RATE."""
    journeys = load_journeys(source)
    longest = max(j.steps[-1].offset for j in journeys)
    ramp_up = 10 * longest
    schedule = build_schedule(journeys, ramp_up=ramp_up)
    speed = schedule.span * REQUESTED_RATE / len(schedule.planned)
    return ramp_up, speed


def accuracy(label: str, result: ReplayReport) -> None:
    lag = result.lag_ms() or {}
    requested = result.requested_rate() or 0.0
    print(
        f"{label:<40} requested {requested:6.0f} steps/s, achieved {result.rate():6.0f}"
        f"   ratio {result.rate() / requested:5.3f} (goal ≥ 0.98)"
        f"   lag p50 {lag['p50']:5.1f} ms p99 {lag['p99']:5.1f} ms max {lag['max']:6.1f} ms"
        " (goal p99 < 50)",
        flush=True,
    )
    assert result.ok, result.failures[:3]


def http_server() -> tuple[subprocess.Popen[str], str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "http_sink.py"), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process, f"http://127.0.0.1:{port}/api/{{type}}"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as folder:
        base = Path(folder)
        generate_journeys(journey="job_lifecycle", quantity=JOURNEYS, seed=1, to=base)
        source = base / "job_lifecycle"
        ramp_up, speed = paced(source)
        print(f"replay: {JOURNEYS} journeys, speed {speed:.0f}, ramp-up {ramp_up:.0f} s")

        result = replay(source, to=f"sqlite:///{base / 'staging.db'}", speed=speed, ramp_up=ramp_up)
        accuracy("replay into SQLite at ~500 steps/s", result)

        server, url = http_server()
        try:
            result = replay(source, to=url, speed=speed, ramp_up=ramp_up)
            accuracy("replay into HTTP at ~500 steps/s", result)
        finally:
            server.terminate()
            server.wait()

        try:
            published = in_fresh_postgres(lambda url: publish(source, to=url))
        except Skipped as skipped:
            print(f"replay into PostgreSQL: skipped: {skipped}")
            return
        steps = sum(len(j.steps) for j in load_journeys(source))
        baseline = steps / published
        report("publish of the same journeys into PostgreSQL (baseline)", baseline, "steps/s")
        for concurrency in (4, 2):  # the default; and one writer per core

            def run(url: str, concurrency: int = concurrency) -> None:
                result = replay(source, to=url, speed=None, concurrency=concurrency)
                assert result.ok and result.steps_written == steps

            report(
                f"replay --speed max --concurrency {concurrency} into PostgreSQL",
                steps / in_fresh_postgres(run),
                "steps/s",
                baseline=baseline,
                goal="≥ 0.5",
            )


def in_fresh_postgres(work: Callable[[str], object]) -> float:
    """Seconds ``work(url)`` takes on a new, empty PostgreSQL database."""
    with scratch_postgres() as url:
        return time_call(lambda: work(url))


if __name__ == "__main__":
    main()
