"""``load()``: the ``load`` command as a function (keyword arguments = its options).

workload (YAML) → plan (``planning``: writers picked by --services, each schedule resolved)
→ set-up (--reset, or the tables checked) → one process per writer, all
starting at one instant → live status → the writers' stats merged → the
check (nothing lost) → the report.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import orjson

from datagen.atomic import atomic_write_bytes
from datagen.errors import InputError, SinkError
from datagen.workloads.check import Checker
from datagen.workloads.database import Database
from datagen.workloads.metrics import from_wire, merged, merged_status
from datagen.workloads.model import Batch, Workload
from datagen.workloads.planning import LoadPlan, plan_load, processes_of, writer_notes
from datagen.workloads.report import LoadReport, WriterReport
from datagen.workloads.process import run_in_process
from datagen.workloads.writer import Statements

REPORT_JSON = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE

START_DELAY = 0.3  # seconds between "every writer is ready" and the common start
EXIT_GRACE = 2.0  # seconds a writer's last message may take after its process ended
Status = Callable[[dict[str, dict[str, Any]]], None]


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
