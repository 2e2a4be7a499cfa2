"""What a writer measured: HDR histograms of latency and service time, counts, a timeline.

Latency is measured from the transaction's *intended* time (its place in
the schedule, scaled by the speed) to its commit, so a write that could not
start on time counts its wait, as pgbench ``-R`` does (no coordinated
omission); service time is from the moment it was sent. Both go into HDR
histograms (microseconds, 3 significant digits), which merge across
connections and processes without keeping every value. A commit appends its
values to an array (tens of nanoseconds, where the histogram's own
``record_value``, in Python, takes microseconds of the CPU the writer shares
with the server); they go into the histograms a batch at a time, counted
with numpy, before anything reads them, and percentiles are read with numpy
too (``hdrh`` walks its counts in Python: milliseconds a writer's process
would hold the GIL its connections wait for).
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
    """Record every value of ``microseconds`` (clipped as ``record`` does) at once.

    The same histogram as ``record`` of each, its counts added with numpy
    (each value's place in the counts array worked out as ``hdrh`` does it,
    ``_counts_index_for``): ``record_value`` is Python, microseconds a value,
    and a writer's process holds the GIL its connections wait for meanwhile.
    """
    if not microseconds:
        return
    values = np.clip(np.frombuffer(microseconds, dtype=np.int64), LOWEST_US, HIGHEST_US)
    # the smallest power of 2 holding the value: its bit length (frexp's exponent, exact)
    pow2ceiling = np.frexp((values | hist.sub_bucket_mask).astype(np.float64))[1]
    bucket = pow2ceiling - hist.unit_magnitude - (hist.sub_bucket_half_count_magnitude + 1)
    sub_bucket = values >> (bucket + hist.unit_magnitude)
    index = ((bucket + 1) << hist.sub_bucket_half_count_magnitude) + (
        sub_bucket - hist.sub_bucket_half_count
    )
    counts = np.ctypeslib.as_array(hist.counts)
    counts += np.bincount(index, minlength=hist.counts_len).astype(counts.dtype)
    hist.total_count += len(values)
    hist.min_value = min(hist.min_value, int(values.min()))
    hist.max_value = max(hist.max_value, int(values.max()))


def value_at_percentile(hist: HdrHistogram, percentile: float) -> int:
    """``hist.get_value_at_percentile(percentile)``, its counts summed by numpy (the same value:
    ``hdrh`` walks the counts array in Python, milliseconds the live status held the GIL)."""
    target = max(int(min(percentile, 100.0) * hist.total_count / 100 + 0.5), 1)
    cumulative = np.cumsum(np.ctypeslib.as_array(hist.counts))
    index = int(np.searchsorted(cumulative, target, side="left"))
    if index >= hist.counts_len:
        return 0
    value = hist.get_value_from_index(index)
    if percentile:
        return int(hist.get_highest_equivalent_value(value))
    return int(hist.get_lowest_equivalent_value(value))


def percentiles_ms(hist: HdrHistogram) -> dict[str, float] | None:
    """p50/p95/p99/max in milliseconds (None when nothing was recorded)."""
    if hist.get_total_count() == 0:
        return None
    result = {}
    for name, q in PERCENTILES:
        value = hist.get_max_value() if q == 100.0 else value_at_percentile(hist, q)
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

    def committed_many(self, commits: "Commits") -> None:
        """One-row transactions a single thread committed (``Commits``), all at once.

        The same values ``committed`` would have recorded for each, worked out
        with numpy: that thread's per-transaction cost is four appends.
        """
        if not commits.index:
            return
        index = np.array(commits.index, dtype=np.int64)  # copies: the arrays are emptied
        ended = np.array(commits.ended, dtype=np.float64)
        service = ended - np.array(commits.sent, dtype=np.float64)
        latency = None
        if commits.speed is not None:
            intended = commits.t0 + np.array(commits.due, dtype=np.float64) / commits.speed
            latency = ended - intended
        shown = service if latency is None else latency
        seconds = (ended - commits.t0).astype(np.int64)
        with self.lock:
            self.transactions += len(index)
            self.rows += len(index)
            np.frombuffer(self.status, dtype=np.uint8)[index] = 1
            self._services.frombytes((service * 1_000_000).astype(np.int64).tobytes())
            if latency is not None:
                self._latencies.frombytes((latency * 1_000_000).astype(np.int64).tobytes())
            if len(self._services) >= FLUSH_EVERY:
                self._flush()
            for second in np.unique(seconds).tolist():
                values = shown[seconds == second]
                count, total, worst = len(values), float(values.sum()), float(values.max())
                bucket = self.timeline.get(second)
                if bucket is None:
                    self.timeline[second] = [count, count, total, worst]
                else:
                    bucket[0] += count
                    bucket[1] += count
                    bucket[2] += total
                    if worst > bucket[3]:
                        bucket[3] = worst
        commits.clear()

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
                "p50_ms": value_at_percentile(shown, 50) / 1000,
                "p99_ms": value_at_percentile(shown, 99) / 1000,
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


class Commits:
    """One thread's one-row commits, kept in arrays until ``Stats.committed_many`` takes them.

    Per transaction: its number, when it was due (schedule seconds), sent and
    committed (the clock's seconds).
    """

    def __init__(self, t0: float, speed: float | None) -> None:
        self.t0 = t0
        self.speed = speed
        self.index = array("q")
        self.due = array("d")
        self.sent = array("d")
        self.ended = array("d")

    def clear(self) -> None:
        """Empty (the same arrays: a caller may hold them)."""
        del self.index[:], self.due[:], self.sent[:], self.ended[:]
