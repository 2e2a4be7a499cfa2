"""One scale of a probe: populate, set up, ANALYZE, run every item, explain, check invariants.

The order at each scale:

1. populate the scenario at this scale (``--reset``, the populate command's
   own path), unless ``--no-populate``;
2. run the probe's ``setup:`` statements (indexes to try, the tables the
   transactions write);
3. refresh the planner's statistics of every table involved (``ANALYZE`` /
   ``ANALYZE TABLE``) and count each table's rows in the database;
4. run each query (its plan is asked first, with the parameters of its first
   execution, so a statement the database refuses stops the run before
   anything is timed), then each transaction, then explain the transaction
   steps that read, with the arguments of their first execution;
5. run the invariants.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from datagen.errors import InputError
from datagen.probes.database import Database, QueryFailed, Session
from datagen.probes.model import Probe, QueryDef, Sql, TransactionDef
from datagen.probes.params import bind
from datagen.probes.plans import summarize
from datagen.probes.results import (
    Explained,
    FullScan,
    InvariantResult,
    Merged,
    QueryResult,
    ScaleResult,
    StepResult,
    TransactionResult,
    row_stats,
)
from datagen.probes.queries import QueryWork
from datagen.probes.runner import Control, TransactionWork, refused, run_clients
from datagen.probes.statements import Statement
from datagen.scenarios.planning import Plan
from datagen.scenarios.populate import populate

DEFAULT_REPEAT = 100
_CREATED = re.compile(
    r"\bCREATE\s+(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[`\"]?(\w+)", re.IGNORECASE
)

Log = Callable[[str], None]


@dataclass
class Settings:
    """The options of a run that every scale uses."""

    probe: Probe
    database: Database
    clients: int
    duration: float | None
    retries: int
    backoff: float
    populate: bool
    workers: int | None
    control: Control
    log: Log
    runs: dict[str, tuple[int | None, float | None]] = field(default_factory=dict)


def plan_runs(probe: Probe, duration: float | None) -> dict[str, tuple[int | None, float | None]]:
    """``item -> (repeat, seconds)``: without ``--duration`` each item's ``repeat`` (default
    100); with it, every item runs for its ``share`` of the duration (equal parts of what the
    given shares leave for the items without one), whatever its ``repeat``."""
    items = probe.items()
    if duration is None:
        return {item.name: (item.repeat or DEFAULT_REPEAT, None) for item in items}
    given = sum(item.share or 0 for item in items)
    rest = [item for item in items if item.share is None]
    if given > 1 + 1e-9 or (rest and given >= 1):
        raise InputError(
            f"{probe.path}: the shares of --duration add up to {given:g}"
            + (f", leaving nothing for {', '.join(i.name for i in rest)}" if rest else ""),
            hint="make them add up to 1 at most",
        )
    each = (1 - given) / len(rest) if rest else 0.0
    return {
        item.name: (None, duration * (item.share if item.share is not None else each))
        for item in items
    }


def run_scale(settings: Settings, plan: Plan, session: Session, result: ScaleResult) -> None:
    """Fill ``result`` with what ``plan``'s scale measures (partly, if interrupted)."""
    probe, database, log = settings.probe, settings.database, settings.log
    scale = f"{plan.scale:g}×"
    if settings.populate:
        log(f"Scale {scale}: populating {plan.scenario.name} ({plan.rows:,} rows planned)…")
        start = time.perf_counter()
        populate(plan, to=database.url, reset=True, workers=settings.workers)
        result.populate_seconds = time.perf_counter() - start
        result.populated = True
    created: list[str] = []
    for sql in probe.setup:
        text = database.text_of(sql)
        if text:
            _statement(session, database, sql, text, "setup")
            created.extend(_CREATED.findall(text))
    existing = session.tables()
    missing = [table for table in plan.tables if table not in existing]
    if missing:
        raise InputError(
            f"no table {', '.join(map(repr, missing))} in {database.label} at {database.where}",
            hint="populate it (leave out --no-populate)",
        )
    tables = [*plan.tables, *(t for t in dict.fromkeys(created) if t in existing)]
    session.analyze(tables)
    result.rows = {table: session.count(table) for table in plan.tables}
    if not settings.populate:
        _check_counts(plan, result.rows, database)
    log(
        f"Scale {scale}: {result.total_rows:,} rows ("
        + ", ".join(f"{t} {n:,}" for t, n in result.rows.items())
        + ")"
    )
    counts: dict[str, int | None] = dict(result.rows)
    for query in probe.queries.values():
        result.queries.append(_query(settings, plan, session, query, counts))
        if settings.control.interrupted:
            return
    for transaction in probe.transactions.values():
        result.transactions.append(_transaction(settings, plan, session, transaction, counts))
        if settings.control.interrupted:
            return
    for name, invariant in probe.invariants.items():
        text = database.text_of(invariant.sql)
        if text is None:
            continue
        rows = _statement(session, database, invariant.sql, text, f"invariant {name!r}") or []
        checked = InvariantResult(name, len(rows), [[str(v) for v in row] for row in rows[:3]])
        result.invariants.append(checked)
        state = "ok" if not rows else f"VIOLATED by {len(rows):,} rows"
        log(f"Scale {scale}: invariant {name}: {state}")
    result.complete = True


def _statement(session: Session, database: Database, sql: Sql, text: str, what: str) -> Any:
    """Run setup or invariant SQL (no parameters: sent as written)."""
    try:
        return session.execute(text)
    except QueryFailed as error:
        if error.bad_sql:
            raise refused(sql.where, what, database, error) from None
        raise InputError(
            f"{what}: {database.label} failed it: {error.message}", where=str(sql.where)
        ) from None


def _check_counts(plan: Plan, found: dict[str, int], database: Database) -> None:
    planned = plan.counts()
    wrong = [t for t in planned if found.get(t) != planned[t]]
    if wrong:
        shown = ", ".join(
            f"{t} has {found.get(t, 0):,} rows, planned {planned[t]:,}" for t in wrong
        )
        raise InputError(
            f"the database does not hold {plan.scenario.name!r} at --scale {plan.scale:g} "
            f"(seed {plan.seed}): {shown}",
            hint="populate it (leave out --no-populate), or give the --scales and --seed it was "
            "populated with",
        )


def _query(
    settings: Settings, plan: Plan, session: Session, query: QueryDef, counts: dict[str, Any]
) -> QueryResult:
    database, log = settings.database, settings.log
    result = QueryResult(query.name)
    text = database.text_of(query.sql)
    if text is None:
        result.skipped = f"no SQL for {database.dialect}"
        return result
    statement = database.statement(text)
    params = bind(
        query.params, plan=plan, probe=settings.probe.name, item=query.name, session=session
    )
    work = QueryWork(query, statement, params, database)
    result.explained = _explain(
        session, database, statement, work.arguments(session, 0), counts, query.where,
        f"query {query.name!r}",
    )  # fmt: skip
    repeat, seconds = settings.runs[query.name]
    work.warm(repeat)
    recorders, result.seconds = run_clients(
        database, work, clients=settings.clients, repeat=repeat, seconds=seconds,
        control=settings.control,
    )  # fmt: skip
    merged = Merged.of(recorders)
    result.executions = sum(merged.rows.values())
    result.errors = merged.total("errors")
    result.rows = row_stats(merged.rows)
    result.latency = merged.latency
    if merged.total("failures"):
        result.failure = f"{merged.total('failures')} executions failed: {merged.messages()[0]}"
    log(
        f"Scale {plan.scale:g}×: query {query.name}: {result.executions:,} runs, "
        f"p50 {_ms(result.latency.p50)}, p99 {_ms(result.latency.p99)}; "
        + (result.explained.plan.describe() if result.explained.plan else "no plan")
    )
    return result


def _transaction(
    settings: Settings,
    plan: Plan,
    session: Session,
    transaction: TransactionDef,
    counts: dict[str, Any],
) -> TransactionResult:
    database, probe = settings.database, settings.probe
    result = TransactionResult(transaction.name)
    statements: list[Statement | None] = []
    for step in transaction.steps:
        text = database.text_of(step.sql)
        statements.append(None if text is None else database.statement(text))
    params = bind(
        transaction.params, plan=plan, probe=probe.name, item=transaction.name, session=session
    )
    work = TransactionWork(
        transaction, statements, params, database,
        seed=plan.seed, label=f"probe:{probe.name}:{transaction.name}:{plan.scale:g}",
        retries=settings.retries, backoff=settings.backoff, control=settings.control,
    )  # fmt: skip
    repeat, seconds = settings.runs[transaction.name]
    recorders, result.seconds = run_clients(
        database, work, clients=settings.clients, repeat=repeat, seconds=seconds,
        control=settings.control,
    )  # fmt: skip
    merged = Merged.of(recorders)
    result.committed = merged.total("committed")
    result.ended_empty = merged.total("ended_empty")
    result.failures = merged.total("failures")
    result.attempted = result.committed + result.ended_empty + result.failures
    result.conflicts = merged.total("conflicts")
    result.retries = merged.total("retries")
    result.messages = merged.messages()
    result.latency = merged.latency
    for step, statement in zip(transaction.steps, statements):
        if statement is None or not statement.reads or step.name not in work.first_arguments:
            continue
        args = work.first_arguments[step.name]
        what = f"transaction {transaction.name!r}, step {step.name}"
        explained = _explain(session, database, statement, args, counts, step.where, what)
        result.steps.append(StepResult(step.name, explained))
    settings.log(
        f"Scale {plan.scale:g}×: transaction {transaction.name}: {result.committed:,} committed "
        f"({result.per_second:,.1f}/s), {result.ended_empty:,} ended empty, "
        f"{result.conflicts:,} conflicts, {result.failures:,} failed"
    )
    return result


def _explain(
    session: Session,
    database: Database,
    statement: Statement,
    args: tuple[Any, ...] | None,
    counts: dict[str, int | None],
    where: Any,
    what: str,
) -> Explained:
    """The plan of ``statement`` with ``args``; a statement the database refuses stops the run
    (``what`` names it as the run names it: ``query 'q'``)."""
    if not statement.reads:
        return Explained()
    try:
        raw = session.explain(statement, args)
    except QueryFailed as error:
        if error.bad_sql:
            raise refused(where, what, database, error) from None
        return Explained(error=error.message)
    plan = summarize(database.dialect, raw, statement.source)
    tables: dict[str, int | None] = {}
    for access in plan.accesses:  # the scenario's tables were counted; others change: count
        if access.table in tables:
            continue
        if access.table in counts:
            tables[access.table] = counts[access.table]
            continue
        try:
            tables[access.table] = session.count(access.table)
        except QueryFailed:
            tables[access.table] = None
    scans = [FullScan(table, tables.get(table)) for table in plan.full_scans]
    return Explained(plan, scans, tables)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} ms"
