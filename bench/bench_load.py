"""``load`` against pgbench, on the same upsert (the media library's, keeping the max).

1. Capacity: pgbench's custom script (``\\set`` a random site and value,
   ``INSERT … ON CONFLICT … DO UPDATE SET max_bytes_stored = GREATEST(…)``)
   for ``-T`` seconds at 2, 8 and 32 connections, then ``load --speed max``
   of as many transactions from one writer with as many connections: our
   transactions/s ÷ pgbench's (goal ≥ 0.9 at each).
2. Timing: at 80 % of pgbench's capacity at 8 connections, Poisson arrivals
   for ``-T`` seconds: ``load --speed 1`` achieved ÷ requested (goal ≥ 0.98),
   and its latency p99 from the intended time beside pgbench ``-R``'s at the
   same rate (from its per-transaction log, latency from the scheduled start;
   goal ≤ 2×).

Each capacity is measured BENCH_LOAD_REPEAT times (default 2), pgbench and
load in turn, and the best of each is printed: the machine's load changes
from minute to minute. Skipped, with the reason, where pgbench or PostgreSQL
is missing. Set BENCH_LOAD_SECONDS (default 10) for shorter or longer runs.
"""

from __future__ import annotations

import glob
import os
import re
import resource
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.common import Skipped, scratch_postgres
from datagen.sinks.dialects import parse_database_url
from datagen.workloads import load

# BENCH_LOAD_CONNECTIONS=8 and BENCH_LOAD_TIMING=0 measure part of it (comparing two versions)

SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "10"))
REPEAT = int(os.environ.get("BENCH_LOAD_REPEAT", "2"))  # the best of each is printed
CONNECTIONS = [int(n) for n in os.environ.get("BENCH_LOAD_CONNECTIONS", "2,8,32").split(",")]
TIMING = os.environ.get("BENCH_LOAD_TIMING", "1") != "0"  # 0: capacity only

TABLE = """
CREATE TABLE media_storage (
    utc_date DATE NOT NULL, site_id TEXT COLLATE "C" NOT NULL,
    bytes_stored BIGINT, max_bytes_stored BIGINT, PRIMARY KEY (utc_date, site_id))
"""
SCRIPT = r"""\set site random(1, 999)
\set bytes random(0, 5000000000000)
INSERT INTO media_storage (utc_date, site_id, bytes_stored, max_bytes_stored)
VALUES ('2017-11-29', 'mlw_' || lpad(:site::text, 3, '0'), :bytes, :bytes)
ON CONFLICT (utc_date, site_id) DO UPDATE SET bytes_stored = EXCLUDED.bytes_stored,
max_bytes_stored = GREATEST(COALESCE(media_storage.max_bytes_stored,
EXCLUDED.max_bytes_stored), EXCLUDED.max_bytes_stored);
"""
WORKLOAD = """
seed: 1
tables:
  media_storage:
    columns: {{utc_date: date, site_id: text, bytes_stored: integer, max_bytes_stored: integer}}
    key: [utc_date, site_id]
keys:
  site_id: {{template: "mlw_{{n:03d}}", count: 999}}
  utc_date: {{date: 2017-11-29}}
writers:
  upsert:
    stream: {{rate: {rate}, arrivals: {arrivals}}}
    upsert:
      table: media_storage
      values: {{bytes_stored: {{integer: [0, 5000000000000]}}}}
      merge: {{bytes_stored: replace, max_bytes_stored: {{max: bytes_stored}}}}
    connections: {connections}
    affinity: none
"""


def pgbench(url: str, folder: Path, connections: int, *extra: str) -> tuple[float, str]:
    """Run pgbench with the script; (tps, its output)."""
    _, parsed = parse_database_url(url)
    script = folder / "upsert.sql"
    script.write_text(SCRIPT)
    command = [
        "pgbench", "-n", "-M", "prepared", "-f", str(script), "-c", str(connections),
        "-j", str(min(connections, 4)), "-T", str(int(SECONDS)),
        "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
        "-U", parsed.username or "postgres", *extra, parsed.database or "postgres",
    ]  # fmt: skip
    env = {**os.environ, "PGPASSWORD": parsed.password or ""}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=folder)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench failed: {done.stderr.strip()[:300]}")
    match = re.search(r"tps = ([0-9.]+)", done.stdout)
    assert match, done.stdout
    return float(match.group(1)), done.stdout


def reset(url: str) -> None:
    from sqlalchemy import create_engine

    _, parsed = parse_database_url(url)
    engine = create_engine(parsed, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS media_storage")
        conn.exec_driver_sql(TABLE)
    engine.dispose()


def ours(url: str, folder: Path, connections: int, *, count: int | None, rate: float | None):
    """``load`` of the same upsert: at --speed max (``count`` transactions) or at ``rate``."""
    if count is not None:
        spec = WORKLOAD.format(rate=100_000, arrivals="constant", connections=connections)
        path = folder / f"max{connections}.yaml"
        path.write_text(spec)
        return load(path, to=url, speed=None, duration=count / 100_000, check=False)
    spec = WORKLOAD.format(rate=rate, arrivals="poisson", connections=connections)
    path = folder / f"rate{connections}.yaml"
    path.write_text(spec)
    return load(path, to=url, speed=1.0, duration=SECONDS, check=False)


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes: pgbench, the writers."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def best(current: float, new: float) -> float:
    return new if not current else min(current, new)


def p99_of_logs(folder: Path) -> float:
    """pgbench -l logs: the p99 of each transaction's latency from its scheduled start, ms."""
    latencies = []
    for name in glob.glob(str(folder / "pgbench_log.*")):
        with open(name) as log:
            latencies.extend(int(line.split()[2]) for line in log if line.strip())
    latencies.sort()
    return latencies[max(0, int(len(latencies) * 0.99) - 1)] / 1000


def main() -> None:
    print(f"load vs pgbench: the media library's upsert, {SECONDS:g} s per measurement")
    if shutil.which("pgbench") is None:
        print("load vs pgbench: skipped: pgbench is not installed (PostgreSQL's client tools)")
        return
    try:
        with scratch_postgres() as url, tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            capacity = {}
            for connections in CONNECTIONS:
                theirs_best = mine_best = 0.0
                cpu = {"load": 0.0, "pgbench": 0.0}  # client CPU per transaction, µs (the best)
                for _ in range(REPEAT):  # interleaved: the machine's load changes by the minute
                    reset(url)
                    before = children_cpu()
                    theirs, out = pgbench(url, folder, connections)
                    done = int(re.search(r"processed: (\d+)", out).group(1))  # type: ignore
                    cpu["pgbench"] = best(cpu["pgbench"], (children_cpu() - before) / done)
                    theirs_best = max(theirs_best, theirs)
                    reset(url)
                    before = children_cpu()
                    result = ours(url, folder, connections, count=int(theirs * SECONDS), rate=None)
                    writer = result.writers[0]
                    assert writer.data["failed"] == 0, result.problems()
                    cpu["load"] = best(cpu["load"], (children_cpu() - before) / writer.transactions)
                    mine_best = max(mine_best, writer.achieved_rate(None))
                capacity[connections] = theirs_best
                print(
                    f"  {connections:>2} connections: load --speed max {mine_best:8,.0f} tx/s, "
                    f"pgbench -T {theirs_best:8,.0f} tx/s   ratio {mine_best / theirs_best:5.2f} "
                    f"(goal ≥ 0.9); client CPU per transaction: load {cpu['load'] * 1e6:.0f} µs, "
                    f"pgbench {cpu['pgbench'] * 1e6:.0f} µs",
                    flush=True,
                )
            if not TIMING or 8 not in capacity:
                return
            rate = 0.8 * capacity[8]
            reset(url)
            logs = folder / "logs"
            logs.mkdir()
            _, out = pgbench(url, logs, 8, "-R", f"{rate:.0f}", "-l")
            theirs_p99 = p99_of_logs(logs)
            reset(url)
            result = ours(url, folder, 8, count=None, rate=rate)
            writer = result.writers[0]
            achieved = writer.achieved_rate(result.scheduled)
            requested = writer.requested_rate or rate  # the schedule's own (Poisson) count
            latency = result.to_dict()["writers"][0]["latency_ms"]
            print(
                f"  at 80 % of capacity ({rate:,.0f} tx/s, 8 connections, Poisson): "
                f"achieved ÷ requested {achieved / requested:5.3f} (goal ≥ 0.98)",
                flush=True,
            )
            print(
                f"  latency from the schedule p99: load {latency['p99']:.1f} ms, pgbench -R "
                f"{theirs_p99:.1f} ms   ratio {latency['p99'] / theirs_p99:5.2f} (goal ≤ 2); "
                f"load p50 {latency['p50']:.1f} ms, max {latency['max']:.0f} ms",
                flush=True,
            )
    except Skipped as skipped:
        print(f"load vs pgbench: skipped: {skipped}")


if __name__ == "__main__":
    main()
