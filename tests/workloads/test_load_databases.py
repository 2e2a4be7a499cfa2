"""Loads into real PostgreSQL, MariaDB and SQLite: merge rules, the check, affinity, reports."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from datagen.sinks.dialects import parse_database_url
from datagen.workloads import load, plan_load
from datagen.workloads.schedule import transactions

USAGE = Path(__file__).resolve().parents[2] / "workloads" / "usage.yaml"

MERGES = """
seed: 11
duration: 10m
tables:
  totals:
    columns: {day: date, site: text, last: integer, high: integer, low: integer,
              total: integer, first: integer, amount: float}
    key: [day, site]
keys:
  site: {template: "s{n}", count: 6}
  day: {date: 2024-02-28}
writers:
  a:
    batch: {every: 1m, rows: {type: uniform, low: 2, high: 6}, spread: 20s, transaction: row}
    upsert:
      table: totals
      values: {v: {integer: [-50, 50]}, amount: {decimal: [0, 10]}}
      merge: {last: {replace: v}, high: {max: v}, low: {min: v}, total: {sum: v},
              first: {keep: v}, amount: sum}
    connections: 3
  b:
    stream: {rate: 2/s}
    upsert:
      table: totals
      key: [day, site]
      values: {w: {integer: [0, 1000]}, amount: {decimal: [0, 10]}}
      merge: {high: {max: w}, total: {sum: w}, amount: sum}
    connections: 2
    affinity: none
"""


def rows_of(url: str, query: str) -> list[tuple]:
    _, parsed = parse_database_url(url)
    engine = create_engine(parsed)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query))]
    finally:
        engine.dispose()


def by_hand(plans) -> dict:
    """The merge of every write, computed here in schedule order (not by the check's code)."""
    writes = sorted(
        (
            (t.due, order, t.index, p.name, t.rows[0])
            for order, p in enumerate(plans)
            for t in transactions(p)
        ),
        key=lambda w: w[:3],
    )
    state: dict = {}
    for _, _, _, name, row in writes:
        key = (str(row["day"]), row["site"])
        now = state.setdefault(key, {})
        if name == "a":
            v = row["v"]
            now["last"] = v
            now["first"] = now.get("first", v)
            now["low"] = min(now.get("low", v), v)
            now["high"] = max(now.get("high", v), v)
            now["total"] = now.get("total", 0) + v
        else:
            w = row["w"]
            now["high"] = max(now.get("high", w), w)
            now["total"] = now.get("total", 0) + w
        now["amount"] = now.get("amount", 0.0) + row["amount"]
    return state


def test_merge_rules_on_every_database(workload_file, database_url) -> None:
    path = workload_file(MERGES)
    report = load(path, to=database_url, reset=True, speed=None)
    assert report.ok, (report.problems(), report.check and report.check.differences)
    assert report.check is not None and report.check.tables == {"totals": "6 rows merged"}
    plans = plan_load(path).plans
    expected = by_hand(plans)
    found = rows_of(
        database_url, "SELECT day, site, last, high, low, total, first, amount FROM totals"
    )
    assert len(found) == len(expected) == 6
    for day, site, last, high, low, total, first, amount in found:
        want = expected[(str(day)[:10], site)]
        if "last" in want:  # a row writer a wrote (ordered: one connection per key)
            assert (last, low, first) == (want["last"], want["low"], want["first"])
        assert (high, total) == (want["high"], want["total"])
        assert float(amount) == pytest.approx(want["amount"])
    written = {w.name: w.transactions for w in report.writers}
    assert written == {p.name: p.transactions_planned() for p in plans}


def test_the_same_seed_leaves_the_same_rows(workload_file, tmp_path) -> None:
    path = workload_file(MERGES)
    tables = []
    for name in ("one", "two"):
        url = f"sqlite:///{tmp_path / name}.db"
        assert load(path, to=url, reset=True, speed=None).ok
        rows = rows_of(url, "SELECT * FROM totals ORDER BY day, site")
        # float sums of concurrent writes may round differently in the last bit
        tables.append([(*row[:-1], round(row[-1], 6)) for row in rows])
    assert tables[0] == tables[1] and len(tables[0]) == 6


UNSAFE = """
seed: 3
duration: 2s
tables:
  counters: {columns: {site: text, hits: integer}, key: site}
keys:
  site: {template: "s{n}", count: 3}
writers:
  read_modify_write:
    stream: {rate: 800/s, arrivals: constant}
    sql:
      - "SELECT COALESCE(MAX(hits), 0) AS old FROM counters WHERE site = :site"
      - "INSERT INTO counters (site, hits) VALUES (:site, :old + :delta)
         ON CONFLICT (site) DO UPDATE SET hits = :old + :delta"
    params: {site: {key: site}, delta: {integer: [1, 3]}}
    effect: {table: counters, key: site, merge: {hits: {sum: delta}}}
    connections: 8
    affinity: none
"""


def test_the_check_catches_an_unsafe_read_modify_write(run, workload_file, postgres_db) -> None:
    path = workload_file(UNSAFE)
    result = run("load", path, "--to", postgres_db, "--reset", "--speed", "max")
    assert result.exit_code == 1, result.output
    lost = [line for line in result.output.splitlines() if line.startswith("Lost update: ")]
    assert lost, result.output
    assert lost[0].startswith("Lost update: counters (site='s")
    assert ": hits is " in lost[0] and ", the writes make " in lost[0]
    assert "Error: the database does not hold what the workload wrote:" in result.output
    # The figures are the database's and the schedule's: hits are fewer than the sum of deltas.
    plan = plan_load(path).plans[0]
    sums: dict = {}
    for txn in transactions(plan):
        sums[txn.rows[0]["site"]] = sums.get(txn.rows[0]["site"], 0) + txn.rows[0]["delta"]
    found = dict(rows_of(postgres_db, "SELECT site, hits FROM counters"))
    assert any(found[site] < total for site, total in sums.items())
    assert all(
        f"hits is {found[s]}, the writes make {sums[s]}" in result.output
        for s in sums
        if found[s] != sums[s]
    )


def test_the_same_counters_as_one_upsert_lose_nothing(run, workload_file, postgres_db) -> None:
    safe = UNSAFE.replace(
        """    sql:
      - "SELECT COALESCE(MAX(hits), 0) AS old FROM counters WHERE site = :site"
      - "INSERT INTO counters (site, hits) VALUES (:site, :old + :delta)
         ON CONFLICT (site) DO UPDATE SET hits = :old + :delta"
    params: {site: {key: site}, delta: {integer: [1, 3]}}
    effect: {table: counters, key: site, merge: {hits: {sum: delta}}}
""",
        """    upsert:
      table: counters
      values: {delta: {integer: [1, 3]}}
      merge: {hits: {sum: delta}}
""",
    ).replace(
        "counters: {columns: {site: text, hits: integer}",
        "counters: {columns: {site: text, hits: integer, delta: integer}",
    )
    path = workload_file(safe.replace("connections: 8", "connections: 32"))  # two processes
    result = run("load", path, "--to", postgres_db, "--reset", "--speed", "max")
    assert result.exit_code == 0, result.output
    assert "Check: nothing lost: counters (3 rows merged)" in result.output  # every sum exact
    dry = run("load", path, "--dry-run", "--to", postgres_db)
    assert "runs in 2 processes sharing its 32 connections" in dry.output


AFFINITY = """
seed: 4
duration: 1s
tables:
  seen: {columns: {n: integer, site: text, pid: integer}, key: n}
keys:
  site: {template: "s{n}", count: 12}
writers:
  w:
    stream: {rate: 300/s, arrivals: constant}
    sql: "INSERT INTO seen (n, site, pid) VALUES (:n, :site, pg_backend_pid())"
    params: {n: {number: run}, site: {key: site}}
    connections: 4
    affinity: key
"""


def test_affinity_key_sends_a_key_to_one_connection(workload_file, postgres_db) -> None:
    report = load(workload_file(AFFINITY), to=postgres_db, reset=True, speed=None)
    assert report.ok
    pids = rows_of(postgres_db, "SELECT site, COUNT(DISTINCT pid) FROM seen GROUP BY site")
    assert len(pids) == 12 and all(count == 1 for _, count in pids)
    assert len(rows_of(postgres_db, "SELECT DISTINCT pid FROM seen")) > 1
    load(
        workload_file(AFFINITY.replace("affinity: key", "affinity: none")),
        to=postgres_db,
        reset=True,
        speed=None,
    )
    spread = rows_of(postgres_db, "SELECT site, COUNT(DISTINCT pid) FROM seen GROUP BY site")
    assert any(count > 1 for _, count in spread)


def test_the_usage_workload_report_and_html(run, database_url, tmp_path) -> None:
    report, page = tmp_path / "load.json", tmp_path / "load.html"
    result = run(
        "load",
        USAGE,
        "--to",
        database_url,
        "--reset",
        "--speed",
        "max",
        "--duration",
        "40m",
        "--report",
        report,
        "--html",
        page,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert data["report_version"] == 1 and data["speed"] == "max" and data["seed"] == 7
    writers = {w["name"]: w for w in data["writers"]}
    assert set(writers) == {
        "media_bytes_stored",
        "media_count",
        "cdn_fastly",
        "cdn_edgecast",
        "pings",
        "compaction",
    }
    for writer in writers.values():
        assert writer["transactions"]["written"] == writer["transactions"]["planned"] > 0
        assert writer["service_ms"]["p50"] > 0 and writer["latency_ms"] is None
    assert data["check"]["ok"] and data["check"]["differences"] == 0
    inserted = data["check"]["inserted_rows"]["cdn_batch"]
    assert (
        inserted["found"]
        == inserted["expected"]
        == (writers["cdn_fastly"]["rows"]["written"] + writers["cdn_edgecast"]["rows"]["written"])
    )
    counted = rows_of(database_url, "SELECT COUNT(*) FROM cdn_batch")[0][0]
    assert counted == inserted["found"]
    day = "`utc_date`" if "mysql" in database_url else "utc_date"  # MySQL: UTC_DATE() unquoted
    days = rows_of(database_url, f"SELECT COUNT(*), MIN({day}) FROM media_storage")[0]
    assert str(days[1])[:10] == "2017-11-29"
    # At --speed max the writers don't wait for each other: the compaction and the refreshes
    # see some of the batches (all of them, for a plain view).
    daily = rows_of(database_url, "SELECT COUNT(*) FROM cdn_daily")[0][0]
    assert writers["compaction"]["transactions"]["written"] == 1 and daily <= counted
    view = int(rows_of(database_url, "SELECT SUM(batches) FROM cdn_usage")[0][0])
    if database_url.startswith("postgresql"):
        assert 0 < view <= counted and writers["cdn_fastly"]["after_ms"]["p50"] > 0
    else:
        assert view == counted and writers["cdn_fastly"]["after_ms"] is None
    html = page.read_text()
    assert html.startswith("<!doctype html>") and "<svg" in html and "media_count" in html
    assert "Check: nothing lost: media_storage (" in result.output


def test_runs_per_hour_and_services(run, workload_file, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'usage.db'}"
    result = run(
        "load",
        USAGE,
        "--to",
        url,
        "--reset",
        "--speed",
        "max",
        "--duration",
        "1h",
        "--services",
        "media_library",
        "--runs_per_hour",
        "4",
    )
    assert result.exit_code == 0, result.output
    plan = plan_load(USAGE, services=["media_library"], runs_per_hour=4, duration=3600)
    assert [p.every for p in plan.plans] == [900, 900]
    written = rows_of(url, "SELECT COUNT(*) FROM media_storage")[0][0]
    keys = {
        (t.rows[0]["utc_date"], t.rows[0]["site_id"]) for p in plan.plans for t in transactions(p)
    }
    assert written == len(keys)
    assert rows_of(url, "SELECT COUNT(*) FROM cdn_batch") == [(0,)]  # aggregations left out
    assert {d for d, _ in keys} == {date(2017, 11, 29)}


PROVIDER = """
seed: 1
duration: 10s
tables:
  orgs: {provider: org}
writers:
  signups:
    stream: {rate: 5/s, arrivals: constant}
    insert:
      table: orgs
      values:
        id: {template: "org-{run}"}
        name: {mimesis: finance.company}
        billing_email: {mimesis: person.email, args: {domains: [example.com]}}
        seats: {integer: [1, 500]}
"""


def test_a_providers_table_and_mimesis_fields(workload_file, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'orgs.db'}"
    report = load(workload_file(PROVIDER), to=url, reset=True, speed=None)
    assert report.ok and report.check is not None
    assert report.check.counts == {"orgs": (50, 50)}
    rows = rows_of(url, "SELECT id, name, billing_email, seats, plan FROM orgs ORDER BY seats")
    assert len(rows) == 50 and {r[0] for r in rows} == {f"org-{n}" for n in range(50)}
    assert all(r[2].endswith("@example.com") and r[1] and 1 <= r[3] <= 500 for r in rows)
    assert {r[4] for r in rows} == {None}  # a column no value was given for


def test_an_unknown_mimesis_field_is_named(run, workload_file, tmp_path) -> None:
    path = workload_file(PROVIDER.replace("finance.company", "finance.nope"))
    database = tmp_path / "never.db"
    result = run("load", path, "--to", f"sqlite:///{database}")
    assert result.exit_code == 2
    assert f"Error: {path}:12: writers.signups.insert.values.name: unknown Mimesis field " in (
        result.output
    )
    assert not database.exists()


def test_affinity_with_one_thread_for_all_connections(workload_file, postgres_db) -> None:
    """One-row inserts on PostgreSQL go through one thread multiplexing the connections."""
    spec = """
    seed: 4
    duration: 1s
    tables:
      seen: {columns: {n: integer, site: text, pid: integer}, key: n}
    setup:
      - "ALTER TABLE seen ALTER COLUMN pid SET DEFAULT pg_backend_pid()"
    keys:
      site: {template: "s{n}", count: 12}
    writers:
      w:
        stream: {rate: 400/s, arrivals: constant}
        insert: {table: seen, values: {n: {number: run}, site: {key: site}}}
        connections: 4
        affinity: key
    """
    for affinity, one_each in (("key", True), ("none", False)):
        path = workload_file(spec.replace("affinity: key", f"affinity: {affinity}"))
        report = load(path, to=postgres_db, reset=True, speed=None)
        assert report.ok and report.writers[0].transactions == 400
        pids = rows_of(postgres_db, "SELECT site, COUNT(DISTINCT pid) FROM seen GROUP BY site")
        assert len(pids) == 12
        assert all(count == 1 for _, count in pids) is one_each
        assert len(rows_of(postgres_db, "SELECT DISTINCT pid FROM seen")) > 1
