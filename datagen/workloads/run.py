"""``load()``: the ``load`` command as a function (keyword arguments = its options).

workload (YAML) → plan (writers picked by --services, each schedule resolved)
→ set-up (--reset, or the tables checked) → one process per writer, all
starting at one instant → live status → the writers' stats merged → the
check (nothing lost) → the report.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import orjson

from datagen.atomic import atomic_write_bytes
from datagen.errors import InputError, SinkError
from datagen.seeding import choose_seed
from datagen.workloads.check import Checker, checked_tables
from datagen.workloads.database import Database
from datagen.workloads.loader import load_workload
from datagen.workloads.metrics import from_wire, merged, merged_status
from datagen.workloads.model import Batch, Workload
from datagen.workloads.report import LoadReport, WriterReport
from datagen.workloads.schedule import WriterPlan, plan_writer
from datagen.workloads.values import RowMaker
from datagen.workloads.process import run_in_process
from datagen.workloads.writer import Statements

REPORT_JSON = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE

NAMES = {"postgresql": "PostgreSQL", "mysql": "MySQL/MariaDB", "sqlite": "SQLite"}
START_DELAY = 0.3  # seconds between "every writer is ready" and the common start
MAX_PROCESSES = 4  # of one writer (pgbench's -j in the bench)
CONNECTIONS_PER_PROCESS = 8  # at least: a process waiting on fewer wakes up per transaction
EXIT_GRACE = 2.0  # seconds a writer's last message may take after its process ended
Status = Callable[[dict[str, dict[str, Any]]], None]


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


def load(
    workload: str | Path | Workload,
    *,
    to: str,  # same as --to
    seed: int | None = None,  # same as --seed
    services: list[str] | None = None,  # same as --services
    runs_per_hour: float | None = None,  # same as --runs_per_hour
    duration: float | None = None,  # same as --duration (schedule seconds)
    speed: float | None = 1.0,  # same as --speed; None is "max"
    reset: bool = False,  # same as --reset
    retries: int = 5,  # same as --retries
    check: bool = True,  # same as --check/--no-check
    report: Path | None = None,  # same as --report
    html: Path | None = None,  # same as --html
    stop: threading.Event | None = None,  # set it to stop as Ctrl-C does
    status: Status | None = None,  # called with every writer's latest status, while it runs
    on_start: Callable[[LoadPlan], None] | None = None,  # called once the writers are ready
) -> LoadReport:
    """Run the workload's writers against ``to``, each in its own process; returns the report."""
    if speed is not None and not 0 < speed < float("inf"):
        raise InputError(f"speed must be positive, got {speed}", hint="e.g. --speed 60 or max")
    if retries < 0:
        raise InputError(f"--retries must be 0 or more, got {retries}")
    plan = plan_load(
        workload, seed=seed, services=services, runs_per_hour=runs_per_hour, duration=duration
    )
    database = Database(to)
    for writer_plan in plan.plans:
        Statements(writer_plan, database.dialect)  # an sql: writer without this dialect's SQL
    tables = sorted({p.writer.table for p in plan.plans if p.writer.table}, key=str)
    definitions = (
        [plan.workload.tables[t] for t in plan.workload.tables]
        if reset
        else [plan.workload.tables[t] for t in tables]
    )
    database.prepare(plan.workload, definitions, reset=reset)
    checker = Checker(plan.workload, plan.plans, database) if check else None
    if checker is not None:
        checker.before()
    database.dispose()  # nothing open across the fork
    result = LoadReport(
        workload=plan.workload.name,
        target=database.shown,
        seed=plan.seed,
        speed=speed,
        duration=plan.duration,
        writers=[
            WriterReport(
                name=p.name,
                service=p.writer.service,
                kind="batch" if isinstance(p.writer.schedule, Batch) else "stream",
                action=p.writer.action,
                connections=1 if database.dialect == "sqlite" else p.writer.connections,
                planned_transactions=p.transactions_planned(),
                planned_rows=p.rows_planned(),
                requested_rate=(
                    None
                    if speed is None
                    else (
                        p.transactions_planned() / (plan.duration / speed)
                        if plan.duration > 0
                        else 0.0
                    )
                ),
            )
            for p in plan.plans
        ],
        notes=[n for p in plan.plans for n in writer_notes(plan, p, database.dialect)],
    )
    _run_writers(
        plan, to, result, speed=speed, retries=retries, stop=stop, status=status, on_start=on_start
    )
    if checker is not None:
        statuses = {w.name: w.data.get("status", b"") for w in result.writers}
        result.check = checker.after(statuses)
        database.dispose()
    _write_reports(result, report, html)
    return result


def _write_reports(result: LoadReport, report: Path | None, html: Path | None) -> None:
    """Write ``--report`` and ``--html``; one that can't be (a full disk) is noted, not raised.

    What the load did is worth more than the file: the CLI prints its summary either way.
    """
    for path, name, label, content in (
        (report, "report", "Report", lambda: orjson.dumps(result.to_dict(), option=REPORT_JSON)),
        (html, "HTML report", "HTML", lambda: result.html().encode()),
    ):
        if path is None:
            continue
        try:
            atomic_write_bytes(path, content())
            result.written[label] = str(path)
        except OSError as err:  # named by the report's own path, not its temporary
            result.file_errors.append(f"cannot write the {name} {path}: {err.strerror or err}")


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


def by_writer(latest: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The live status per writer, from its processes' (``name#part``)."""
    parts: dict[str, list[dict[str, Any]]] = {}
    for name, data in latest.items():
        parts.setdefault(name.rpartition("#")[0], []).append(data)
    return {name: merged_status(values) for name, values in parts.items()}


def _run_writers(
    plan: LoadPlan,
    url: str,
    result: LoadReport,
    *,
    speed: float | None,
    retries: int,
    stop: threading.Event | None,
    status: Status | None,
    on_start: Callable[[LoadPlan], None] | None,
) -> None:
    """Fork a process per writer, start them together, gather their stats."""
    context = multiprocessing.get_context("fork")
    start, halt = context.Event(), context.Event()
    t0 = context.Value("d", 0.0)
    messages: Any = context.Queue()
    dialect = Database(url).dialect
    shares = [
        replace(p, part=part, parts=count, claims=claims)
        for p in plan.plans
        for count in [processes_of(p, dialect)]
        for claims in [context.Value("q", 0) if count > 1 else None]  # shared by its processes
        for part in range(count)
    ]
    processes = {
        f"{p.name}#{p.part}": context.Process(
            target=run_in_process,
            args=(p, url),
            kwargs={
                "speed": speed,
                "retries": retries,
                "start": start,
                "t0": t0,
                "stop": halt,
                "messages": messages,
            },
            name=f"datagen-writer-{p.name}-{p.part}",
            daemon=True,
        )
        for p in shares
    }
    for process in processes.values():
        process.start()
    reports = {w.name: w for w in result.writers}
    finished: dict[str, list[dict[str, Any]]] = {w.name: [] for w in result.writers}
    latest: dict[str, dict[str, Any]] = {}
    ready: set[str] = set()
    done: set[str] = set()
    failure: str | None = None
    exited: dict[str, float] = {}  # writer -> when its process was first seen ended
    began = 0.0
    try:
        while len(done) < len(processes):
            if stop is not None and stop.is_set() and not halt.is_set():
                halt.set()
                result.interrupted = True
            try:
                kind, name, data = messages.get(timeout=0.1)
            except queue.Empty:
                now = time.monotonic()
                for name, process in processes.items():
                    if name in done or process.is_alive():
                        continue
                    # its last message may still be on its way through the pipe
                    if now - exited.setdefault(name, now) > EXIT_GRACE:
                        done.add(name)
                        writer = name.rpartition("#")[0]
                        failure = failure or f"writer {writer!r} ended without a report"
                        halt.set()
                continue
            if kind == "ready":
                ready.add(name)
                if len(ready) == len(processes) and not halt.is_set():
                    t0.value = time.monotonic() + START_DELAY
                    began = t0.value
                    start.set()
                    if on_start is not None:
                        on_start(plan)
            elif kind == "status":
                latest[name] = data
                if status is not None:
                    status(by_writer(latest))
            elif kind == "done":
                writer = name.rpartition("#")[0]
                finished[writer].append(from_wire(data))
                reports[writer].data = merged(finished[writer])
                done.add(name)
            elif kind == "error":
                failure = failure or data
                done.add(name)
                halt.set()
    finally:
        halt.set()
        for process in processes.values():
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join()
        messages.close()
    result.elapsed = max(0.0, time.monotonic() - began) if began else 0.0
    if failure is not None:
        raise SinkError(failure)
