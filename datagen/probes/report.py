"""A probe's results for people (a table per scale, then the comparison) and machines (JSON).

The JSON report (``--report``, ``report_version`` 1) holds everything the
table shows and more: every latency percentile, rows per table as counted,
each plan's accesses and estimates, failures and the comparison entries.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from datagen.atomic import atomic_write_bytes
from datagen.probes.outcome import ProbeResult
from datagen.probes.results import Latency, QueryResult, ScaleResult


def write_json(result: ProbeResult, target: Path) -> Path:
    """Write the JSON report of ``result`` to ``target`` (atomically)."""
    data = orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    atomic_write_bytes(target, data + b"\n")
    return target


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.3f}"


def _latencies(latency: Latency) -> str:
    values = (latency.p50, latency.p95, latency.p99, latency.max)
    return " ".join(f"{_ms(v):>9}" for v in values)


def _rows(query: QueryResult) -> str:
    rows = query.rows
    if not rows or rows.get("min") is None:
        return "-"
    return f"{rows['min']}/{rows['median']}/{rows['max']}"


def scale_lines(result: ProbeResult, scale: ScaleResult) -> list[str]:
    """The terminal table of one scale."""
    head = (
        f"Scale {scale.scale:g}× on {result.database or result.target}: {scale.total_rows:,} rows"
    )
    if scale.populate_seconds is not None:
        head += f" (populated in {scale.populate_seconds:,.1f} s)"
    lines = [head]
    if scale.queries:
        lines.append(
            f"  {'query':<26} {'runs':>7} {'rows min/med/max':>18} "
            f"{'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'max ms':>9}  plan"
        )
        for query in scale.queries:
            if query.skipped:
                lines.append(f"  {query.name:<26} skipped: {query.skipped}")
                continue
            plan = query.explained.plan.describe() if query.explained.plan else ""
            scans = [f"{s.table} {s.rows:,} rows" for s in query.explained.full_scans if s.rows]
            if scans:
                plan += f" ({', '.join(scans)})"
            lines.append(
                f"  {query.name:<26} {query.executions:>7,} {_rows(query):>18} "
                f"{_latencies(query.latency)}  {plan}"
            )
            if query.failure:
                lines.append(f"  {'':<26} FAILED: {query.failure}")
    if scale.transactions:
        lines.append(
            f"  {'transaction':<26} {'runs':>7} {'committed':>9} {'empty':>6} {'confl.':>6} "
            f"{'retries':>7} {'failed':>6} {'per s':>8} "
            f"{'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'max ms':>9}"
        )
        for txn in scale.transactions:
            lines.append(
                f"  {txn.name:<26} {txn.attempted:>7,} {txn.committed:>9,} {txn.ended_empty:>6,} "
                f"{txn.conflicts:>6,} {txn.retries:>7,} {txn.failures:>6,} {txn.per_second:>8,.1f} "
                f"{_latencies(txn.latency)}"
            )
            for step in txn.steps:
                if step.explained.plan is not None:
                    lines.append(f"    step {step.name}: {step.explained.plan.describe()}")
            for message in txn.messages[:3]:
                lines.append(f"    failed: {message}")
    for invariant in scale.invariants:
        state = "ok" if not invariant.violations else f"VIOLATED by {invariant.violations:,} rows"
        sample = f", e.g. {invariant.sample[0]}" if invariant.sample else ""
        lines.append(f"  invariant {invariant.name}: {state}{sample}")
    if not scale.complete:
        lines.append("  (incomplete: interrupted)")
    return lines


def comparison_lines(result: ProbeResult) -> list[str]:
    """Across scales: latency ratio beside rows ratio, and flags."""
    if not result.comparison:
        return []
    base = result.comparison[0].base
    lines = [f"Across scales (against {base:g}×): p50 latency ratio beside rows ratio"]
    for entry in result.comparison:
        latency = "-" if entry.latency_ratio is None else f"×{entry.latency_ratio:.2f}"
        rows = "-" if entry.rows_ratio is None else f"×{entry.rows_ratio:.2f}"
        if entry.kind == "step" and not entry.flags:
            continue
        label = f"{entry.kind} {entry.name}"
        lines.append(f"  {label:<38} {entry.scale:>6g}×  latency {latency:>8}  rows {rows:>8}")
        for flag in entry.flags:
            lines.append(f"    ! {flag}")
    return lines


def summary_lines(result: ProbeResult) -> list[str]:
    """The whole terminal report."""
    lines = []
    for scale in result.scales:
        lines.extend(scale_lines(result, scale))
    lines.extend(comparison_lines(result))
    return lines
