"""Real processes and faults: Ctrl-C, a lost connection, deadlocks retried."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from datagen.sinks.dialects import parse_database_url
from datagen.workloads import load

REPO = Path(__file__).resolve().parents[2]

STREAM = """
seed: 5
duration: {duration}
tables:
  levels: {{columns: {{site: text, level: integer, peak: integer}}, key: site}}
keys:
  site: {{template: "s{{n:02d}}", count: 20}}
writers:
  levels:
    stream: {{rate: {rate}, arrivals: constant}}
    upsert:
      table: levels
      values: {{level: {{integer: [0, 1000000]}}}}
      merge: {{level: replace, peak: {{max: level}}}}
    connections: 2
"""


def start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-u", str(REPO / "generate.py"), *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job
    )


def wait_for(process: subprocess.Popen[str], prefix: str) -> list[str]:
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if line.startswith(prefix):
            return lines
    raise AssertionError("".join(lines))


def test_ctrl_c_stops_the_writers_and_prints_the_partial_report(workload_file, tmp_path) -> None:
    path = workload_file(STREAM.format(duration="1h", rate="20/s"))
    database = tmp_path / "levels.db"
    report = tmp_path / "partial.json"
    process = start(
        ["load", str(path), "--to", f"sqlite:///{database}", "--reset", "--report", str(report)]
    )
    lines = wait_for(process, "Loading ")
    time.sleep(1.5)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's job
    output, _ = process.communicate(timeout=60)
    output = "".join(lines) + output
    assert process.returncode == 130, output
    assert "Interrupted: w into sqlite:///" in output
    assert "Check: nothing lost: levels (" in output
    assert "Traceback" not in output
    data = json.loads(report.read_text())
    assert data["interrupted"] is True
    writer = data["writers"][0]
    assert 0 < writer["transactions"]["written"] < writer["transactions"]["planned"]
    assert writer["transactions"]["failed"] == 0
    assert 0.9 < writer["achieved_over_requested"] <= 1.05  # over the time it ran


def test_a_lost_connection_is_retried(workload_file, postgres_db, tmp_path) -> None:
    path = workload_file(STREAM.format(duration="4s", rate="100/s"))
    _, url = parse_database_url(postgres_db)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    killed: list[int] = []

    def kill_the_writers() -> None:
        time.sleep(2.0)  # writers started (set-up and fork take well under that)
        with admin.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            killed.extend(1 for _ in rows)

    killer = threading.Thread(target=kill_the_writers)
    killer.start()
    try:
        result = load(path, to=postgres_db, reset=True, speed=1.0)
    finally:
        killer.join()
        admin.dispose()
    assert len(killed) >= 2  # both connections of the writer
    data = result.to_dict()["writers"][0]
    assert data["failed_attempts"]["connection"] >= 1 and data["retries"] >= 1
    assert data["transactions"]["written"] == data["transactions"]["planned"] == 400, data[
        "error_messages"
    ]
    assert result.ok and result.check is not None and result.check.ok


DEADLOCKS = """
seed: 2
duration: 1s
tables:
  pair: {columns: {k: text, n: integer}, key: k}
setup:
  - "INSERT INTO pair (k, n) VALUES ('s1', 0), ('s2', 0)"
keys:
  k: {template: "s{n}", count: 2}
writers:
  crossing:
    stream: {rate: 40/s, arrivals: constant}
    sql:
      - "SELECT CASE WHEN :a = 's1' THEN 's2' ELSE 's1' END AS b"
      - "SET LOCAL deadlock_timeout = '20ms'"
      - "UPDATE pair SET n = n + 1 WHERE k = :a"
      - "SELECT pg_sleep(0.03) IS NULL AS slept"
      - "UPDATE pair SET n = n + 1 WHERE k = :b"
    params: {a: {key: k}}
    connections: 4
    affinity: none
"""


def test_deadlocks_are_counted_and_retried(workload_file, postgres_db) -> None:
    result = load(workload_file(DEADLOCKS), to=postgres_db, reset=True, speed=None, retries=50)
    data = result.to_dict()["writers"][0]
    assert data["failed_attempts"]["deadlock"] >= 1, data
    assert data["retries"] >= data["failed_attempts"]["deadlock"]
    assert data["transactions"]["written"] == 40 and data["transactions"]["failed"] == 0
    _, url = parse_database_url(postgres_db)
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = dict(conn.execute(text("SELECT k, n FROM pair")).all())
    engine.dispose()
    assert counts == {"s1": 40, "s2": 40}  # each transaction once, retried or not
    assert "deadlk" in result.table()[0]
