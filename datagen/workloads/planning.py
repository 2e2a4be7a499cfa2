"""The load's plan: the writers that run and their schedules, how many processes each
gets, and the dry run's description of it (``--dry-run``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from datagen.errors import InputError
from datagen.seeding import choose_seed
from datagen.workloads.check import checked_tables
from datagen.workloads.loader import load_workload
from datagen.workloads.model import Batch, Workload
from datagen.workloads.schedule import WriterPlan, plan_writer
from datagen.workloads.values import RowMaker

NAMES = {"postgresql": "PostgreSQL", "mysql": "MySQL/MariaDB", "sqlite": "SQLite"}
MAX_PROCESSES = 4  # of one writer (pgbench's -j in the bench)
# At least: a process waiting on fewer wakes up more often for fewer answers. At 32
# connections on 2 cores, 2 processes of 16 took 25 µs of client CPU a transaction where
# 4 of 8 took 32 (bench_load, 4 runs, each ratio to pgbench as good or better).
CONNECTIONS_PER_PROCESS = 16


@dataclass
class LoadPlan:
    workload: Workload
    plans: list[WriterPlan]
    seed: int
    duration: float
    runs_per_hour: float


def plan_load(
    workload: str | Path | Workload,
    *,
    seed: int | None = None,
    services: list[str] | None = None,
    runs_per_hour: float | None = None,
    duration: float | None = None,
) -> LoadPlan:
    """The writers that run and their schedules (bad input: InputError before any work)."""
    loaded = workload if isinstance(workload, Workload) else load_workload(workload)
    if runs_per_hour is not None and not runs_per_hour > 0:
        raise InputError(f"--runs_per_hour must be positive, got {runs_per_hour:g}")
    if duration is not None and duration < 0:
        raise InputError(f"--duration must not be negative, got {duration:g}")
    chosen = select(loaded, services)
    seed = seed if seed is not None else loaded.seed if loaded.seed is not None else choose_seed()
    rph = runs_per_hour if runs_per_hour is not None else loaded.runs_per_hour
    span = duration if duration is not None else loaded.duration
    plans = [
        plan_writer(loaded, loaded.writers[name], seed=seed, duration=span, runs_per_hour=rph)
        for name in chosen
    ]
    for plan in plans:
        RowMaker(loaded, plan.writer, seed)  # an unknown Mimesis field fails here, named
    return LoadPlan(loaded, plans, seed, span, rph)


def select(workload: Workload, services: list[str] | None) -> list[str]:
    """The writers of ``services`` (service or writer names; default: the file's, else all)."""
    wanted = services or list(workload.services) or list(workload.writers)
    known_services = sorted({w.service for w in workload.writers.values() if w.service})
    chosen: list[str] = []
    for name in wanted:
        matches = [w.name for w in workload.writers.values() if w.service == name or w.name == name]
        if not matches:
            raise InputError(
                f"--services: no service or writer {name!r} in {workload.path}",
                hint=f"services: {', '.join(known_services) or 'none'}; "
                f"writers: {', '.join(workload.writers)}",
            )
        chosen.extend(m for m in matches if m not in chosen)
    return [name for name in workload.writers if name in chosen]  # the file's order


def describe_plan(plan: LoadPlan, dialect: str | None = None) -> list[str]:
    """The dry run: writers, rates, rows per run, expected totals, what a database skips."""
    lines = [
        f"Workload {plan.workload.name} (seed {plan.seed}): {plan.duration:g} s of schedule, "
        f"batch writers without 'every' run {plan.runs_per_hour:g} times an hour"
    ]
    for writer_plan in plan.plans:
        writer = writer_plan.writer
        schedule = writer.schedule
        target = writer.table or "statements"
        affinity = "affinity key" if writer.affinity else "affinity none"
        head = (
            f"  {writer.name} ({writer.service or 'no service'}): {writer.action} {target}, "
            f"{writer.connections} connection(s), {affinity}"
        )
        if isinstance(schedule, Batch):
            rows = writer_plan.rows_per_run
            per_run = f"rows per run {schedule.rows.describe()}: " + (
                f"min {int(rows.min())}, mean {float(rows.mean()):.1f}, max {int(rows.max())}"
                if len(rows)
                else "no run within the duration"
            )
            spread = f", spread over {schedule.spread:g} s" if schedule.spread else ""
            txn = "a transaction per row" if schedule.per_row else "one transaction per run"
            body = (
                f"every {writer_plan.every:g} s: {writer_plan.runs} runs, {per_run}{spread}, "
                f"{txn}"
            )
        else:
            arrivals = "Poisson" if schedule.poisson else "constant"
            body = f"stream at {schedule.rate:g}/s ({arrivals}), {schedule.rows} row(s) each"
        total = (
            f"expected {writer_plan.transactions_planned():,} transactions, "
            f"{writer_plan.rows_planned():,} rows ({writer_plan.requested_rate():.2f} tx/s "
            "of schedule)"
        )
        lines += [head, f"    {body}", f"    {total}"]
        lines += [f"    {note}" for note in writer_notes(plan, writer_plan, dialect)]
    checked = checked_tables(plan.workload, plan.plans)
    if checked:
        lines.append(
            "Checked at the end: "
            + ", ".join(
                f"{t} ({'merge per key' if k == 'merge' else 'row count'})"
                for t, k in checked.items()
            )
        )
    return lines


def writer_notes(plan: LoadPlan, writer_plan: WriterPlan, dialect: str | None) -> list[str]:
    """What this database does differently for the writer (skipped SQL, SQLite's lock)."""
    writer = writer_plan.writer
    notes = []
    dialects = [dialect] if dialect else ["postgresql", "mysql", "sqlite"]
    for name in writer.refresh:
        view = plan.workload.views[name]
        if view.materialized:
            others = [d for d in dialects if d != "postgresql"]
            if others:
                shown = "/".join(NAMES[d] for d in others)
                notes.append(
                    f"after each run: REFRESH MATERIALIZED VIEW {name} on PostgreSQL only: "
                    f"{shown} has no materialized views ({name} is a plain view there, "
                    "always fresh)"
                )
            else:
                notes.append(f"after each run: REFRESH MATERIALIZED VIEW {name}")
    for statement in writer.after:
        missing = [d for d in dialects if statement.for_dialect(d) is None]
        if missing:
            notes.append(f"after: SQL at {statement.where} is skipped on {', '.join(missing)}")
    count = processes_of(writer_plan, dialect or "postgresql")
    if count > 1:
        notes.append(
            f"runs in {count} processes sharing its {writer.connections} connections "
            "(no affinity: each takes the next run or chunk of 1,000 arrivals when done "
            "with its last)"
        )
    if "sqlite" in dialects and writer.connections > 1:
        notes.append(
            "on SQLite: one connection, and the writers take turns (SQLite has one writer "
            "at a time)"
        )
    if writer.action == "sql" and writer.upsert is None:
        notes.append("not checked at the end (sql: without an effect:)")
    return notes


def processes_of(plan: WriterPlan, dialect: str) -> int:
    """How many processes run a writer: several for many connections without affinity.

    Each takes the next run or chunk of arrivals when done with its last, with
    its share of the connections, as pgbench's ``-j`` threads share its
    clients: one process gets one CPU's share of time, however many
    connections it drives. With
    ``affinity: key`` a key's writes must stay on one connection: one process.
    """
    writer = plan.writer
    if dialect == "sqlite" or writer.affinity:
        return 1
    return max(1, min(MAX_PROCESSES, writer.connections // CONNECTIONS_PER_PROCESS))
