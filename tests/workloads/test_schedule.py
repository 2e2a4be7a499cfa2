"""Schedules: a pure function of (workload, seed, options), run on a manual clock."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest

from datagen.replay.clock import ManualClock
from datagen.workloads import describe_plan, plan_load
from datagen.workloads.database import Database
from datagen.workloads.schedule import transactions
from datagen.workloads.writer import Writer

USAGE = Path(__file__).resolve().parents[2] / "workloads" / "usage.yaml"

SMALL = """
tables:
  media_storage:
    columns: {utc_date: date, site_id: text, n: integer}
    key: [utc_date, site_id]
keys:
  site_id: {template: "mlw_{n:03d}", count: 40}
  utc_date: {date: 2017-11-29}
writers:
  cron:
    service: media_library
    batch: {rows: {type: uniform, low: 10, high: 30}, spread: 30s, transaction: row}
    upsert:
      table: media_storage
      values: {n: {integer: [0, 1000]}}
  events:
    service: stream
    stream: {rate: 20/s, arrivals: poisson}
    upsert:
      table: media_storage
      values: {n: {integer: [0, 1000]}}
  ticks:
    service: stream
    stream: {rate: 4/s, arrivals: constant}
    insert:
      table: media_storage
      values: {utc_date: {key: utc_date}, site_id: {template: "t{run}"}, n: {number: run}}
"""


def flatten(plan):
    return [(t.index, t.due, t.unit, t.rows, t.route, t.closes_run) for t in transactions(plan)]


def test_same_seed_same_writes_and_times(workload_file) -> None:
    path = workload_file(SMALL)
    first = plan_load(path, seed=5, duration=600, runs_per_hour=30)
    again = plan_load(path, seed=5, duration=600, runs_per_hour=30)
    other = plan_load(path, seed=6, duration=600, runs_per_hour=30)
    for a, b, c in zip(first.plans, again.plans, other.plans):
        assert flatten(a) == flatten(b)
        if a.name != "ticks":  # ticks draws nothing at random
            assert flatten(a) != flatten(c)


def test_a_writer_left_out_changes_no_other_writer(workload_file) -> None:
    path = workload_file(SMALL)
    everything = plan_load(path, seed=5, duration=600)
    alone = plan_load(path, seed=5, duration=600, services=["stream"])
    assert [p.name for p in alone.plans] == ["events", "ticks"]
    assert flatten(alone.plans[0]) == flatten(everything.plans[1])


def test_batch_runs_spread_rows_and_keep_keys_distinct(workload_file) -> None:
    plan = plan_load(workload_file(SMALL), seed=1, duration=600, runs_per_hour=30).plans[0]
    assert plan.every == 120 and plan.runs == 5
    txns = list(transactions(plan))
    assert len(txns) == plan.transactions_planned() == int(plan.rows_per_run.sum())
    for run in range(plan.runs):
        rows = [t for t in txns if t.unit == run]
        count = len(rows)
        assert count == plan.rows_per_run[run] and 10 <= count <= 30
        assert [t.due for t in rows] == pytest.approx(
            [120 * run + 30 * n / count for n in range(count)]
        )
        sites = [t.rows[0]["site_id"] for t in rows]
        assert len(set(sites)) == count  # distinct keys within a run
        assert all(s.startswith("mlw_0") and 1 <= int(s[4:]) <= 40 for s in sites)
        assert [t.closes_run for t in rows] == [False] * (count - 1) + [True]


def test_runs_per_hour_sets_every_and_the_day_advances_after_24_L_runs(workload_file) -> None:
    path = workload_file(SMALL)
    plan = plan_load(path, seed=1, duration=2 * 86400, runs_per_hour=4, services=["cron"])
    cron = plan.plans[0]
    assert cron.every == 900 and cron.runs == 2 * 24 * 4
    days = {}
    for txn in transactions(cron):
        days.setdefault(txn.unit, txn.rows[0]["utc_date"])
    assert {days[r] for r in range(96)} == {date(2017, 11, 29)}
    assert {days[r] for r in range(96, 192)} == {date(2017, 11, 30)}


def test_stream_arrivals(workload_file) -> None:
    plan = plan_load(workload_file(SMALL), seed=2, duration=3600)
    events, ticks = plan.plans[1], plan.plans[2]
    times = [t.due for t in transactions(events)]
    assert times == sorted(times) and times[-1] < 3600
    assert len(times) == pytest.approx(20 * 3600, rel=0.02)  # Poisson at 20/s
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert sum(g > 2 / 20 for g in gaps) / len(gaps) == pytest.approx(0.135, abs=0.01)  # e^-2
    constant = list(transactions(ticks))
    assert [t.due for t in constant[:3]] == [0.0, 0.25, 0.5] and len(constant) == 4 * 3600
    assert [t.rows[0]["site_id"] for t in constant[:3]] == ["t0", "t1", "t2"]
    assert [t.rows[0]["n"] for t in constant[:3]] == [0, 1, 2]


def test_the_writer_performs_each_transaction_at_its_intended_time(workload_file, tmp_path) -> None:
    """An hour of schedule at --speed 60 on a manual clock, into a real SQLite file."""
    from datagen.workloads.database import Database as Db

    path = workload_file(SMALL)
    plan = plan_load(path, seed=3, duration=3600, runs_per_hour=30, services=["cron"])
    url = f"sqlite:///{tmp_path / 'clock.db'}"
    database = Db(url)
    database.prepare(plan.workload, list(plan.workload.tables.values()), reset=True)
    clock = ManualClock(start=1000.0)
    writer = Writer(plan.plans[0], database, speed=60, clock=clock)
    performed = []
    run = writer.statements.run

    def recording(session, txn):
        performed.append((clock.now(), txn.index))
        run(session, txn)

    writer.statements.run = recording
    stats = writer.run()
    expected = [(1000.0 + t.due / 60, t.index) for t in transactions(plan.plans[0])]
    assert performed == expected
    assert stats.transactions == len(expected) == plan.plans[0].transactions_planned()
    assert stats.latency.get_max_value() <= 1  # on time, to the microsecond
    assert stats.finished_at == pytest.approx(expected[-1][0] - 1000.0)
    database.dispose()


def test_stop_leaves_the_rest_undone(workload_file, tmp_path) -> None:
    path = workload_file(SMALL)
    plan = plan_load(path, seed=3, duration=3600, services=["ticks"])
    database = Database(f"sqlite:///{tmp_path / 'stop.db'}")
    database.prepare(plan.workload, list(plan.workload.tables.values()), reset=True)
    clock = ManualClock()
    stop = threading.Event()
    writer = Writer(plan.plans[0], database, speed=1, clock=clock, stop=stop)
    original = clock.sleep_until

    def sleep_until(deadline, event):
        if deadline >= 10:  # stop after ten seconds of schedule, once those are written
            writer._settle()
            stop.set()
        return original(deadline, event)

    clock.sleep_until = sleep_until
    stats = writer.run()
    assert stats.transactions == 40  # 4/s for 10 s
    assert bytes(stats.status[:40]) == b"\x01" * 40 and not any(stats.status[40:])
    database.dispose()


def test_the_usage_dry_run_names_writers_rates_and_totals(run) -> None:
    result = run("load", USAGE, "--dry-run", "--to", "mysql+pymysql://root@127.0.0.1/x")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "media_bytes_stored (media_library): upsert media_storage" in out
    assert "every 120 s: 30 runs" in out
    assert "every 1800 s: 2 runs" in out and "spread over 480 s" in out
    assert "REFRESH MATERIALIZED VIEW cdn_usage on PostgreSQL only: MySQL/MariaDB has no" in out
    assert "media_bytes_stored_stream" not in out  # not among the file's default services
    assert out.strip().endswith("Dry run: nothing written.")
    result = run("load", USAGE, "--dry-run", "--services", "media_library", "--runs_per_hour", "4")
    assert "every 900 s: 4 runs" in result.output and "cdn_fastly" not in result.output


def test_dry_run_totals_match_the_schedule() -> None:
    plan = plan_load(USAGE, seed=7, duration=3600)
    text = "\n".join(describe_plan(plan, "postgresql"))
    for writer in plan.plans:
        count = sum(1 for _ in transactions(writer))
        assert count == writer.transactions_planned()
        assert f"expected {count:,} transactions" in text
