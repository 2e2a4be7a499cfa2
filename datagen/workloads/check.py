"""Nothing lost: the database holds exactly what the workload's writes make.

For every table an upsert writer (or an ``sql:`` writer's declared
``effect:``) writes, the final row of each key must equal the merge of the
rows it held before the run and every write the schedule made for that key
and that the database acknowledged: computed again from the seed, never
read back from the writers. Merges that don't depend on order (``max``,
``min``, ``sum``) must match exactly; ``replace`` and ``keep`` must match
exactly when the writes of a key reach the database in schedule order (one
writer writes the column, one connection per key), and otherwise must be one
of the values written. A difference is a lost update, named by key and
column. Tables that inserts write are counted: rows before + rows inserted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Mapping, Sequence

from datagen.sinks.dialects import decode
from datagen.workloads.model import Merge, TableDef, Workload
from datagen.workloads.schedule import WriterPlan, transactions

Key = tuple[Any, ...]
MAX_SHOWN = 20


@dataclass(frozen=True)
class Difference:
    table: str
    key: dict[str, Any]
    column: str | None  # None: the whole row (missing or unexpected)
    expected: Any
    found: Any

    def describe(self) -> str:
        key = ", ".join(f"{k}={_show(v)}" for k, v in self.key.items())
        if self.column is None:
            if self.found is None:
                return f"{self.table} ({key}): the row is missing"
            return f"{self.table} ({key}): a row no write made"
        return (
            f"{self.table} ({key}): {self.column} is {_show(self.found)}, "
            f"the writes make {_show(self.expected)}"
        )


@dataclass
class CheckResult:
    tables: dict[str, str] = field(default_factory=dict)  # table -> what was checked
    differences: list[Difference] = field(default_factory=list)
    differences_total: int = 0
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # table -> expected, found
    unchecked: list[str] = field(default_factory=list)  # why a table was not checked

    @property
    def ok(self) -> bool:
        return self.differences_total == 0 and all(e == f for e, f in self.counts.values())

    def lost_updates(self) -> int:
        return self.differences_total

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tables": dict(self.tables),
            "differences": self.differences_total,
            "shown": [
                {
                    "table": d.table,
                    "key": {k: _json(v) for k, v in d.key.items()},
                    "column": d.column,
                    "expected": _json(d.expected),
                    "found": _json(d.found),
                }
                for d in self.differences
            ],
            "inserted_rows": {t: {"expected": e, "found": f} for t, (e, f) in self.counts.items()},
            "unchecked": list(self.unchecked),
        }


def _show(value: Any) -> str:
    return value.isoformat() if isinstance(value, (date, datetime)) else repr(value)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def checked_tables(workload: Workload, plans: Sequence[WriterPlan]) -> dict[str, str]:
    """Table -> "merge" (upserts, declared effects) or "count" (inserts only)."""
    kinds: dict[str, str] = {}
    for plan in plans:
        writer = plan.writer
        if writer.upsert is not None:
            kinds[writer.upsert.table] = "merge"
        elif writer.action == "insert" and writer.table is not None:
            kinds.setdefault(writer.table, "count")
    return kinds


class State:
    """The expected rows of one table: key -> column -> value (or the values allowed)."""

    def __init__(self, table: TableDef, columns: list[str], unordered: set[str]) -> None:
        self.table = table
        self.columns = columns
        self.kinds = {c.name: c.type for c in table.columns}
        self.unordered = unordered  # replace/keep columns whose order isn't guaranteed
        self.rows: dict[Key, dict[str, Any]] = {}
        self.allowed: dict[tuple[Key, str], set[Any]] = {}

    def normal(self, column: str, value: Any) -> Any:
        value = decode(self.kinds.get(column, "text"), value)
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        return value

    def load(self, rows: Iterable[tuple[Any, ...]]) -> None:
        key_size = len(self.table.key)
        names = [*self.table.key, *self.columns]
        for row in rows:
            values = [self.normal(n, v) for n, v in zip(names, row)]
            self.rows[tuple(values[:key_size])] = dict(zip(self.columns, values[key_size:]))

    def apply(
        self, key_names: Sequence[str], merges: Sequence[Merge], row: Mapping[str, Any]
    ) -> None:
        key = tuple(self.normal(n, row[n]) for n in key_names)
        current = self.rows.setdefault(key, {c: None for c in self.columns})
        for merge in merges:
            new = self.normal(merge.column, row[merge.source])
            old = current.get(merge.column)
            current[merge.column] = merged(merge.rule, old, new)
            if merge.column in self.unordered and merge.rule in ("replace", "keep"):
                self.allowed.setdefault((key, merge.column), set()).add(new)


def merged(rule: str, old: Any, new: Any) -> Any:
    """What a merge rule makes of the old and the new value (NULL old: the new one)."""
    if old is None or rule == "replace":
        return new
    if new is None:
        return old if rule != "replace" else None
    if rule == "max":
        return max(old, new)
    if rule == "min":
        return min(old, new)
    if rule == "sum":
        return old + new
    return old  # keep


def same(expected: Any, found: Any) -> bool:
    if isinstance(expected, float) or isinstance(found, float):
        if expected is None or found is None:
            return expected is found
        return math.isclose(float(expected), float(found), rel_tol=1e-9, abs_tol=1e-6)
    return bool(expected == found)


def expected_state(
    table: TableDef, plans: Sequence[WriterPlan], statuses: Mapping[str, bytes], before: State
) -> State:
    """``before`` with every acknowledged write of ``plans`` to ``table`` merged in."""
    writes: list[tuple[float, int, int, WriterPlan, Any]] = []
    for order, plan in enumerate(plans):
        upsert = plan.writer.upsert
        if upsert is None or upsert.table != table.name:
            continue
        status = statuses.get(plan.name, b"")
        for txn in transactions(plan):
            if txn.index < len(status) and status[txn.index] == 1:
                writes.append((txn.due, order, txn.index, plan, txn.rows))
    writes.sort(key=lambda item: item[:3])
    for _due, _order, _index, plan, rows in writes:
        upsert = plan.writer.upsert
        assert upsert is not None
        for row in rows:
            before.apply(upsert.key, upsert.merge, row)
    return before


def unordered_columns(table: str, plans: Sequence[WriterPlan]) -> set[str]:
    """replace/keep columns whose writes may reach the database out of schedule order."""
    writers_of: dict[str, int] = {}
    unordered: set[str] = set()
    for plan in plans:
        upsert = plan.writer.upsert
        if upsert is None or upsert.table != table:
            continue
        writer = plan.writer
        one_row = getattr(writer.schedule, "per_row", False) or (
            getattr(writer.schedule, "rows", 0) == 1 and hasattr(writer.schedule, "poisson")
        )
        ordered = writer.connections == 1 or (writer.affinity and one_row)
        for merge in upsert.merge:
            writers_of[merge.column] = writers_of.get(merge.column, 0) + 1
            if not ordered:
                unordered.add(merge.column)
    unordered |= {column for column, count in writers_of.items() if count > 1}
    return unordered


def compare(expected: State, found: State, result: CheckResult) -> None:
    table = expected.table
    for key in sorted(set(expected.rows) | set(found.rows), key=repr):
        want, got = expected.rows.get(key), found.rows.get(key)
        key_map = dict(zip(table.key, key))
        if want is None or got is None:
            _add(result, Difference(table.name, key_map, None, want, got))
            continue
        for column in expected.columns:
            allowed = expected.allowed.get((key, column))
            if allowed is not None:
                if any(same(value, got[column]) for value in allowed):
                    continue
            elif same(want[column], got[column]):
                continue
            _add(result, Difference(table.name, key_map, column, want[column], got[column]))


def _add(result: CheckResult, difference: Difference) -> None:
    result.differences_total += 1
    if len(result.differences) < MAX_SHOWN:
        result.differences.append(difference)


def merged_columns(table: str, plans: Sequence[WriterPlan]) -> list[str]:
    columns: list[str] = []
    for plan in plans:
        upsert = plan.writer.upsert
        if upsert is not None and upsert.table == table:
            columns.extend(m.column for m in upsert.merge if m.column not in columns)
    return columns


def inserted_rows(table: str, plans: Sequence[WriterPlan], statuses: Mapping[str, bytes]) -> int:
    total = 0
    for plan in plans:
        if plan.writer.action != "insert" or plan.writer.table != table:
            continue
        status = statuses.get(plan.name, b"")
        for txn in transactions(plan):
            if txn.index < len(status) and status[txn.index] == 1:
                total += len(txn.rows)
    return total


class Checker:
    """Reads the checked tables before the run, and compares them with the writes after it."""

    def __init__(self, workload: Workload, plans: Sequence[WriterPlan], database: Any) -> None:
        self.workload = workload
        self.plans = list(plans)
        self.database = database
        self.kinds = checked_tables(workload, plans)
        self.states: dict[str, State] = {}
        self.counts: dict[str, int] = {}

    def state(self, table: str) -> State:
        definition = self.workload.tables[table]
        return State(
            definition, merged_columns(table, self.plans), unordered_columns(table, self.plans)
        )

    def before(self) -> None:
        for table, kind in self.kinds.items():
            if kind == "merge":
                state = self.state(table)
                definition = state.table
                state.load(self.database.read(definition, [*definition.key, *state.columns]))
                self.states[table] = state
            else:
                self.counts[table] = self.database.count(self.workload.tables[table])

    def after(self, statuses: Mapping[str, bytes]) -> CheckResult:
        result = CheckResult()
        for plan in self.plans:
            if plan.writer.action == "sql" and plan.writer.upsert is None:
                result.unchecked.append(
                    f"writer {plan.name!r}: sql: without an effect: is not checked"
                )
        for table, kind in self.kinds.items():
            if kind == "merge":
                expected = expected_state(
                    self.workload.tables[table], self.plans, statuses, self.states[table]
                )
                found = self.state(table)
                definition = found.table
                found.load(self.database.read(definition, [*definition.key, *found.columns]))
                compare(expected, found, result)
                result.tables[table] = f"{len(expected.rows):,} rows merged"
            else:
                want = self.counts[table] + inserted_rows(table, self.plans, statuses)
                got = self.database.count(self.workload.tables[table])
                result.counts[table] = (want, got)
                result.tables[table] = f"{got:,} rows counted"
        return result
