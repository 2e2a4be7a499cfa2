"""What a writer measured: HDR histograms of latency and service time, counts, a timeline.

Latency is measured from the transaction's *intended* time (its place in
the schedule, scaled by the speed) to its commit, so a write that could not
start on time counts its wait, as pgbench ``-R`` does (no coordinated
omission); service time is from the moment it was sent. Both go into HDR
histograms (microseconds, 3 significant digits), which merge across
connections and processes without keeping every value. A commit appends its
values to an array (tens of nanoseconds, where the histogram's own
``record_value``, in Python, takes microseconds of the CPU the writer shares
with the server); they go into the histograms a batch at a time, each
distinct value once, before anything reads them.
"""

from __future__ import annotations

import threading
import zlib
from array import array
from typing import Any

import numpy as np
from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3600 * 1_000_000  # one hour; longer values are recorded as one hour
DIGITS = 3
KINDS = ("deadlock", "serialization", "lock timeout", "connection", "constraint", "other")
PERCENTILES = (("p50", 50.0), ("p95", 95.0), ("p99", 99.0), ("max", 100.0))
FLUSH_EVERY = 65_536  # values kept before they go into the histogram


def histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def record(hist: HdrHistogram, seconds: float) -> None:
    hist.record_value(min(max(int(seconds * 1_000_000), LOWEST_US), HIGHEST_US))


def record_all(hist: HdrHistogram, microseconds: array) -> None:
    """Record every value of ``microseconds`` (clipped as ``record`` does), each distinct one once.

    The same histogram as ``record`` of each: a value and its histogram bucket's
    lowest value count in the same bucket, so they are rounded down to it first.
    """
    if not microseconds:
        return
    values = np.clip(np.frombuffer(microseconds, dtype=np.int64), LOWEST_US, HIGHEST_US)
    # the bucket's resolution: 2,048 sub-buckets (3 digits), so all but the top 11 bits go
    shift = np.maximum(np.floor(np.log2(values)).astype(np.int64) - 10, 0)
    distinct, counts = np.unique((values >> shift) << shift, return_counts=True)
    for value, count in zip(distinct.tolist(), counts.tolist()):
        hist.record_value(value, count)


def percentiles_ms(hist: HdrHistogram) -> dict[str, float] | None:
    """p50/p95/p99/max in milliseconds (None when nothing was recorded)."""
    if hist.get_total_count() == 0:
        return None
    result = {}
    for name, q in PERCENTILES:
        value = hist.get_max_value() if q == 100.0 else hist.get_value_at_percentile(q)
        result[name] = round(value / 1000, 3)
    return result


class Stats:
    """One writer's measurements; several connection threads record into it."""

    def __init__(self, planned: int) -> None:
        self.lock = threading.Lock()
        self._latency = histogram()  # from the intended time (scheduled speeds only)
        self._service = histogram()  # from when the transaction was sent
        self._latencies = array("q")  # µs, not yet in the histogram
        self._services = array("q")
        self.after = histogram()  # the after: SQL of each run
        self.transactions = 0
        self.rows = 0
        self.failed = 0  # transactions that failed after their retries
        self.retries = 0
        self.attempts_failed = {kind: 0 for kind in KINDS}  # every failed attempt, by class
        self.errors = {kind: 0 for kind in KINDS}  # transactions given up, by class
        self.after_failed = 0
        self.messages: list[str] = []  # the first distinct error messages
        self.status = bytearray(planned)  # per transaction: 0 not done, 1 written, 2 failed
        self.handed_out = 0
        self.timeline: dict[int, list[float]] = {}  # second -> [commits, rows, lat sum, lat max]
        self.finished_at = 0.0  # seconds after the start

    @property
    def latency(self) -> HdrHistogram:
        """From the intended time (scheduled speeds only)."""
        with self.lock:
            self._flush()
        return self._latency

    @property
    def service(self) -> HdrHistogram:
        """From when the transaction was sent."""
        with self.lock:
            self._flush()
        return self._service

    def _flush(self) -> None:
        """The values recorded so far into the histograms (under the lock)."""
        record_all(self._latency, self._latencies)
        record_all(self._service, self._services)
        self._latencies = array("q")
        self._services = array("q")

    def committed(
        self, index: int, rows: int, second: int, latency: float | None, service: float
    ) -> None:
        with self.lock:
            self.transactions += 1
            self.rows += rows
            self.status[index] = 1
            services = self._services
            services.append(int(service * 1_000_000))
            shown = service if latency is None else latency
            if latency is not None:
                self._latencies.append(int(latency * 1_000_000))
            if len(services) >= FLUSH_EVERY:
                self._flush()
            bucket = self.timeline.get(second)
            if bucket is None:
                self.timeline[second] = [1, rows, shown, shown]
            else:
                bucket[0] += 1
                bucket[1] += rows
                bucket[2] += shown
                if shown > bucket[3]:
                    bucket[3] = shown

    def attempt_failed(self, kind: str, retried: bool) -> None:
        with self.lock:
            self.attempts_failed[kind] += 1
            if retried:
                self.retries += 1

    def gave_up(self, index: int, kind: str, message: str) -> None:
        with self.lock:
            self.failed += 1
            self.errors[kind] += 1
            self.status[index] = 2
            self.note(message)

    def note(self, message: str) -> None:
        if len(self.messages) < 5 and message not in self.messages:
            self.messages.append(message)

    def snapshot(self) -> dict[str, Any]:
        """A small summary for the live line."""
        with self.lock:
            self._flush()
            shown = self._latency if self._latency.get_total_count() else self._service
            return {
                "transactions": self.transactions,
                "rows": self.rows,
                "failed": self.failed,
                "retries": self.retries,
                "handed_out": self.handed_out,
                "p50_ms": shown.get_value_at_percentile(50) / 1000,
                "p99_ms": shown.get_value_at_percentile(99) / 1000,
            }

    def to_wire(self) -> dict[str, Any]:
        """Everything, encoded for the parent process."""
        with self.lock:
            self._flush()
            return {
                "latency": self._latency.encode(),
                "service": self._service.encode(),
                "after": self.after.encode(),
                "transactions": self.transactions,
                "rows": self.rows,
                "failed": self.failed,
                "retries": self.retries,
                "attempts_failed": dict(self.attempts_failed),
                "errors": dict(self.errors),
                "after_failed": self.after_failed,
                "messages": list(self.messages),
                "status": zlib.compress(bytes(self.status)),
                "timeline": {k: list(v) for k, v in self.timeline.items()},
                "finished_at": self.finished_at,
            }


def from_wire(data: dict[str, Any]) -> dict[str, Any]:
    """The parent's view of ``Stats.to_wire``: histograms decoded, status expanded."""
    result = dict(data)
    for name in ("latency", "service", "after"):
        decoded = histogram()
        if data[name]:
            decoded.add(HdrHistogram.decode(data[name]))
        result[name] = decoded
    result["status"] = zlib.decompress(data["status"])
    return result


def merged(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One writer's stats from those of its processes (``from_wire`` views)."""
    if len(parts) == 1:
        return parts[0]
    total = dict(parts[0])
    for name in ("latency", "service", "after"):
        combined = histogram()
        for part in parts:
            combined.add(part[name])
        total[name] = combined
    for name in ("transactions", "rows", "failed", "retries", "after_failed"):
        total[name] = sum(int(part[name]) for part in parts)
    for name in ("attempts_failed", "errors"):
        total[name] = {kind: sum(part[name].get(kind, 0) for part in parts) for kind in KINDS}
    total["messages"] = list(dict.fromkeys(m for part in parts for m in part["messages"]))[:5]
    total["status"] = bytes(max(codes) for codes in zip(*(part["status"] for part in parts)))
    timeline: dict[int, list[float]] = {}
    for part in parts:
        for second, (count, rows, total_latency, worst) in part["timeline"].items():
            bucket = timeline.setdefault(second, [0, 0, 0.0, 0.0])
            bucket[0] += count
            bucket[1] += rows
            bucket[2] += total_latency
            bucket[3] = max(bucket[3], worst)
    total["timeline"] = timeline
    total["finished_at"] = max(float(part["finished_at"]) for part in parts)
    return total


def merged_status(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One writer's live status from its processes' (percentiles: the worst part's)."""
    if len(parts) == 1:
        return parts[0]
    status: dict[str, Any] = {}
    for name in ("transactions", "rows", "failed", "retries", "handed_out"):
        status[name] = sum(part[name] for part in parts)
    for name in ("p50_ms", "p99_ms"):
        status[name] = max(part[name] for part in parts)
    return status
