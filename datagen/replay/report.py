"""What a replay did: counts, throughput, schedule lag percentiles, failures."""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from typing import Any

REPORT_VERSION = 1


def percentile(ordered: "array[float] | list[float]", fraction: float) -> float:
    """The nearest-rank percentile of an ascending sequence (0.0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Failure:
    journey: str
    step: int
    document_type: str
    error: str


@dataclass
class ReplayReport:
    source: str
    target: str
    speed: float | None  # None: as fast as the target allows
    journeys: int
    steps_total: int
    steps_planned: int
    written: dict[str, int] = field(default_factory=dict)  # per document type
    failures: list[Failure] = field(default_factory=list)
    skipped: int = 0  # after an earlier step of their journey failed
    beyond_duration: int = 0
    already_done: int = 0  # by an earlier run (--resume)
    retries: int = 0
    elapsed: float = 0.0  # seconds of real time
    schedule_span: float = 0.0  # schedule seconds from the first step to the last
    lags: "array[float]" = field(default_factory=lambda: array("d"))  # seconds, one per step
    interrupted: bool = False
    gave_up: str | None = None  # why the replay stopped itself (too many failures in a row)
    checkpoint: str | None = None
    report_file: str | None = None  # the --report file, once written (not on a full disk)
    file_errors: list[str] = field(default_factory=list)  # a checkpoint or report not written

    @property
    def steps_written(self) -> int:
        return sum(self.written.values())

    @property
    def pending(self) -> int:
        """Planned steps neither written, failed nor skipped (an interruption left them)."""
        return self.steps_planned - self.steps_written - len(self.failures) - self.skipped

    @property
    def ok(self) -> bool:
        return not self.failures and not self.interrupted

    def rate(self) -> float:
        return self.steps_written / self.elapsed if self.elapsed > 0 else 0.0

    def requested_rate(self) -> float | None:
        """Steps per second the schedule asks for at this speed (None: as fast as possible)."""
        if self.speed is None or self.schedule_span <= 0:
            return None
        return self.steps_planned / (self.schedule_span / self.speed)

    def lag_ms(self) -> dict[str, float] | None:
        """Schedule lag percentiles (None at full speed, where there is no schedule)."""
        if self.speed is None:
            return None
        ordered = sorted(self.lags)
        return {
            name: round(percentile(ordered, q) * 1000, 3)
            for name, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
        }

    def to_dict(self) -> dict[str, Any]:
        requested = self.requested_rate()
        return {
            "report_version": REPORT_VERSION,
            "source": self.source,
            "target": self.target,
            "speed": "max" if self.speed is None else self.speed,
            "journeys": self.journeys,
            "steps": {
                "total": self.steps_total,
                "planned": self.steps_planned,
                "written": self.steps_written,
                "failed": len(self.failures),
                "skipped_after_failure": self.skipped,
                "pending": self.pending,
                "beyond_duration": self.beyond_duration,
                "done_before_resume": self.already_done,
            },
            "written_by_type": dict(sorted(self.written.items())),
            "elapsed_seconds": round(self.elapsed, 3),
            "throughput_steps_per_second": round(self.rate(), 2),
            "requested_steps_per_second": None if requested is None else round(requested, 2),
            "schedule_lag_ms": self.lag_ms(),
            "retries": self.retries,
            "failures": [vars(f) for f in self.failures],
            "interrupted": self.interrupted,
            "gave_up": self.gave_up,
            "checkpoint": self.checkpoint,
        }

    def summary_line(self) -> str:
        lag = self.lag_ms()
        text = (
            f"{self.steps_written:,} of {self.steps_planned:,} steps written in "
            f"{self.elapsed:.1f} s ({self.rate():,.0f}/s)"
        )
        if lag is not None:
            text += (
                f", lag p50 {lag['p50']:.0f} ms, p99 {lag['p99']:.0f} ms, max {lag['max']:.0f} ms"
            )
        text += f"; {self.retries} retries, {len(self.failures)} failed"
        if self.skipped:
            text += f", {self.skipped} skipped after a failed step"
        if self.beyond_duration:
            text += f", {self.beyond_duration} beyond --duration"
        if self.already_done:
            text += f", {self.already_done} done before"
        return text
