"""Scales compared: how latency grew beside how the rows grew, and plans that changed.

Each larger scale is compared with the smallest one measured. For a query
(and each transaction step that reads), the rows are those of the tables its
plan reads, counted in the database; for a transaction, all the scenario's
rows. A flag is raised where the plan's shape changed (another index, a
table now read in full) and for every table read in full whose rows grew:
those are the queries that will not keep up with the deployment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datagen.probes.results import Explained, Latency, ScaleResult


@dataclass
class Comparison:
    """One item at one larger scale, against the smallest scale."""

    kind: str  # query | transaction | step
    name: str
    scale: float
    base: float
    latency_ratio: float | None
    rows_ratio: float | None
    flags: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "scale": self.scale,
            "base_scale": self.base,
            "latency_p50_ratio": _round(self.latency_ratio),
            "rows_ratio": _round(self.rows_ratio),
            "flags": self.flags,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def compare(scales: list[ScaleResult]) -> list[Comparison]:
    """Every item of every scale after the first, against the first (the smallest)."""
    measured = [s for s in scales if s.queries or s.transactions]
    if len(measured) < 2:
        return []
    base, found = measured[0], []
    for current in measured[1:]:
        for query in current.queries:
            before = next((q for q in base.queries if q.name == query.name), None)
            if before is None or query.skipped:
                continue
            found.append(
                _entry("query", query.name, base, current, before.latency, query.latency,
                       before.explained, query.explained)
            )  # fmt: skip
        for transaction in current.transactions:
            earlier = next((t for t in base.transactions if t.name == transaction.name), None)
            if earlier is None:
                continue
            entry = _entry(
                "transaction", transaction.name, base, current, earlier.latency,
                transaction.latency, None, None,
            )  # fmt: skip
            found.append(entry)
            for step in transaction.steps:
                old = next((s for s in earlier.steps if s.name == step.name), None)
                if old is None:
                    continue
                found.append(
                    _entry("step", f"{transaction.name}.{step.name}", base, current, None, None,
                           old.explained, step.explained)
                )  # fmt: skip
    return found


def _entry(
    kind: str,
    name: str,
    base: ScaleResult,
    current: ScaleResult,
    before: Latency | None,
    after: Latency | None,
    old: Explained | None,
    new: Explained | None,
) -> Comparison:
    latency = None
    if before and after and before.p50 and after.p50 is not None:
        latency = after.p50 / before.p50
    rows_before, rows_after = base.total_rows, current.total_rows
    if new is not None and new.tables and old is not None and old.tables:
        rows_before = sum(n or 0 for n in old.tables.values())
        rows_after = sum(n or 0 for n in new.tables.values())
    rows = rows_after / rows_before if rows_before else None
    comparison = Comparison(kind, name, current.scale, base.scale, latency, rows)
    if old is not None and new is not None and old.plan is not None and new.plan is not None:
        comparison.flags = _flags(old, new, base.scale, current.scale)
    return comparison


def _flags(old: Explained, new: Explained, base: float, scale: float) -> list[str]:
    assert old.plan is not None and new.plan is not None
    flags = []
    if old.plan.signature() != new.plan.signature():
        flags.append(
            f"plan changed: {old.plan.describe()} at {base:g}× → "
            f"{new.plan.describe()} at {scale:g}×"
        )
    before = {scan.table: scan.rows for scan in old.full_scans}
    for scan in new.full_scans:
        earlier = old.tables.get(scan.table)
        if scan.rows is None or (earlier is not None and scan.rows <= earlier):
            continue  # a table that does not grow (resource types, capabilities)
        note = "" if scan.table in before else f" (not at {base:g}×)"
        flags.append(f"{scan.table} scanned in full at {scale:g}×: {scan.rows:,} rows{note}")
    return flags
