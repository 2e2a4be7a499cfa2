"""What a probe measured: per client while running, then per query, transaction and scale.

Latencies go into HDR histograms (``hdrhistogram``, nanoseconds, three
significant digits), one per client thread, merged when the item is done, so
that recording stays outside the timed call and costs no lock.
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hdrh.histogram import HdrHistogram

from datagen.probes.plans import PlanSummary

LOWEST_NS, HIGHEST_NS, DIGITS = 1, 3_600_000_000_000, 3  # 1 ns to an hour
SUB_BUCKET_BITS = 11  # 2,048 sub-buckets: what 3 significant digits need
FLUSH_EVERY = 65_536
KEPT_MESSAGES = 5


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_NS, HIGHEST_NS, DIGITS)


class Recorder:
    """One client's measurements of one item (used by that client's thread only).

    Latencies and row counts are appended to arrays (tens of nanoseconds, where
    an HDR histogram's ``record_value`` in Python takes a microsecond of the
    CPU the clients share) and go into the histogram a batch at a time,
    rounded to its resolution first so that each distinct value is recorded once.
    """

    def __init__(self) -> None:
        self.histogram = new_histogram()
        self.rows: Counter[int] = Counter()
        self.errors = 0
        self.messages: list[str] = []
        self.committed = 0
        self.ended_empty = 0
        self.conflicts = 0
        self.retries = 0
        self.failures = 0
        self.failing = 0  # failures in a row
        self.latencies = array("q")  # not yet in the histogram (a tight loop appends itself)
        self.row_counts = array("q")

    def record(self, nanoseconds: int, rows: int = 0) -> None:
        self.latencies.append(nanoseconds)
        self.row_counts.append(rows)
        if len(self.latencies) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Move what was recorded into the histogram and the row counts."""
        if not self.latencies:
            return
        values = np.maximum(np.frombuffer(self.latencies, dtype=np.int64), LOWEST_NS)
        # HDR's lowest equivalent value: keep the top bits that its sub-buckets resolve.
        shift = np.maximum(np.floor(np.log2(values)).astype(np.int64) - SUB_BUCKET_BITS, 0)
        rounded = (values >> shift) << shift
        distinct, counts = np.unique(rounded, return_counts=True)
        for value, count in zip(distinct.tolist(), counts.tolist()):
            self.histogram.record_value(value, count)
        rows, times = np.unique(np.frombuffer(self.row_counts, dtype=np.int64), return_counts=True)
        self.rows.update(dict(zip(rows.tolist(), times.tolist())))
        self.latencies = array("q")
        self.row_counts = array("q")

    def fail(self, message: str) -> None:
        self.failures += 1
        self.failing += 1
        if len(self.messages) < KEPT_MESSAGES:
            self.messages.append(message)


@dataclass
class Latency:
    """Percentiles of one item's latencies, in milliseconds."""

    count: int = 0
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None
    mean: float | None = None

    @classmethod
    def of(cls, histogram: HdrHistogram) -> Latency:
        count = int(histogram.get_total_count())
        if not count:
            return cls()

        def ms(value: float) -> float:
            return round(value / 1e6, 4)

        return cls(
            count=count,
            p50=ms(histogram.get_value_at_percentile(50)),
            p95=ms(histogram.get_value_at_percentile(95)),
            p99=ms(histogram.get_value_at_percentile(99)),
            max=ms(histogram.get_max_value()),
            mean=ms(histogram.get_mean_value()),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "p50": self.p50,
            "p95": self.p95,
            "p99": self.p99,
            "max": self.max,
            "mean": self.mean,
        }


@dataclass
class Merged:
    """The recorders of all clients of one item, added up."""

    latency: Latency
    rows: Counter[int]
    recorders: list[Recorder]

    @classmethod
    def of(cls, recorders: list[Recorder]) -> Merged:
        histogram = new_histogram()
        rows: Counter[int] = Counter()
        for recorder in recorders:
            recorder.flush()
            histogram.add(recorder.histogram)
            rows.update(recorder.rows)
        return cls(Latency.of(histogram), rows, recorders)

    def total(self, name: str) -> int:
        return sum(int(getattr(recorder, name)) for recorder in self.recorders)

    def messages(self) -> list[str]:
        return [m for recorder in self.recorders for m in recorder.messages][:KEPT_MESSAGES]


def row_stats(rows: Counter[int]) -> dict[str, int | None]:
    """Min, median and max of the rows returned per execution."""
    if not rows:
        return {"min": None, "median": None, "max": None}
    ordered = sorted(rows)
    half, seen = (sum(rows.values()) + 1) // 2, 0
    median = ordered[-1]
    for value in ordered:
        seen += rows[value]
        if seen >= half:
            median = value
            break
    return {"min": ordered[0], "median": median, "max": ordered[-1]}


@dataclass
class FullScan:
    table: str
    rows: int | None

    def to_json(self) -> dict[str, Any]:
        return {"table": self.table, "rows": self.rows}


@dataclass
class Explained:
    """A statement's plan summary, with the row counts of the tables it reads in full."""

    plan: PlanSummary | None = None
    full_scans: list[FullScan] = field(default_factory=list)
    tables: dict[str, int | None] = field(default_factory=dict)  # every table read: its rows
    error: str | None = None

    def to_json(self) -> dict[str, Any] | None:
        if self.plan is None:
            return {"error": self.error} if self.error else None
        data = self.plan.to_json()
        data["full_scans"] = [scan.to_json() for scan in self.full_scans]
        data["tables"] = self.tables
        return data


@dataclass
class QueryResult:
    name: str
    executions: int = 0
    errors: int = 0
    rows: dict[str, int | None] = field(default_factory=dict)
    latency: Latency = field(default_factory=Latency)
    seconds: float = 0.0
    explained: Explained = field(default_factory=Explained)
    failure: str | None = None
    skipped: str | None = None  # why it did not run on this database

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "executions": self.executions,
            "errors": self.errors,
            "rows": self.rows,
            "latency_ms": self.latency.to_json(),
            "seconds": round(self.seconds, 3),
            "plan": self.explained.to_json(),
            "failure": self.failure,
            "skipped": self.skipped,
        }


@dataclass
class StepResult:
    name: str
    explained: Explained = field(default_factory=Explained)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "plan": self.explained.to_json()}


@dataclass
class TransactionResult:
    name: str
    attempted: int = 0
    committed: int = 0
    ended_empty: int = 0
    conflicts: int = 0
    retries: int = 0
    failures: int = 0
    messages: list[str] = field(default_factory=list)
    latency: Latency = field(default_factory=Latency)
    seconds: float = 0.0
    steps: list[StepResult] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.committed / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "attempted": self.attempted,
            "committed": self.committed,
            "ended_empty": self.ended_empty,
            "conflicts": self.conflicts,
            "retries": self.retries,
            "failures": self.failures,
            "failure_messages": self.messages,
            "committed_per_second": round(self.per_second, 2),
            "latency_ms": self.latency.to_json(),
            "seconds": round(self.seconds, 3),
            "steps": [step.to_json() for step in self.steps],
        }


@dataclass
class InvariantResult:
    name: str
    violations: int = 0
    sample: list[list[str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "violations": self.violations, "sample": self.sample}


@dataclass
class ScaleResult:
    """Everything measured at one scale."""

    scale: float
    populated: bool = False
    populate_seconds: float | None = None
    rows: dict[str, int] = field(default_factory=dict)  # counted in the database
    queries: list[QueryResult] = field(default_factory=list)
    transactions: list[TransactionResult] = field(default_factory=list)
    invariants: list[InvariantResult] = field(default_factory=list)
    complete: bool = False

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def failures(self) -> list[str]:
        """One line per failure: a query that failed, failed transactions, violated invariants."""
        found = []
        where = f"at {self.scale:g}×"
        for query in self.queries:
            if query.failure:
                found.append(f"query {query.name} {where}: {query.failure}")
        for transaction in self.transactions:
            if transaction.failures:
                first = f": {transaction.messages[0]}" if transaction.messages else ""
                found.append(
                    f"transaction {transaction.name} {where}: {transaction.failures} failed{first}"
                )
        for invariant in self.invariants:
            if invariant.violations:
                found.append(
                    f"invariant {invariant.name} {where}: {invariant.violations} rows violate it"
                )
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "populated": self.populated,
            "populate_seconds": (
                None if self.populate_seconds is None else round(self.populate_seconds, 3)
            ),
            "rows": self.rows,
            "total_rows": self.total_rows,
            "complete": self.complete,
            "queries": [query.to_json() for query in self.queries],
            "transactions": [transaction.to_json() for transaction in self.transactions],
            "invariants": [invariant.to_json() for invariant in self.invariants],
        }
