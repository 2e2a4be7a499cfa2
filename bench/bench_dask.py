"""A Dask cluster of 2 single-threaded workers ÷ local processes (``--workers 2``), same runs.

The cluster (``dask scheduler`` and two ``dask worker --nthreads 1`` processes on
127.0.0.1, started by :mod:`tests.dask_cluster`) is started before the timing,
as a cluster is long-lived; both sides are timed end to end as processes
(``python generate.py …``), start-up included. Then the engine's own cost: the
time per task of shard tasks that do nothing, and the client's CPU per shard,
the figures the README's calculation for 10 and 100 machines starts from.
"""

from __future__ import annotations

import argparse
import operator
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench.common import ROOT, Skipped, report, scratch_postgres

SCENARIO = ROOT / "scenarios" / "prod_like.yaml"
SEED = 7


def timed(*args: str) -> tuple[float, float]:
    """Wall seconds and this process's children's CPU seconds of ``generate.py ARGS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "generate.py"), *args], check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def task_overhead(address: str, shards: int) -> float:
    """Seconds per shard task that does nothing, through the engine, on the whole cluster."""
    from datagen.engines import using
    from datagen.seeding import plan_shards

    plan = plan_shards(quantity=shards * 1000, seed=1, name="noop")
    with using(address) as engine:
        list(engine.run_shards(operator.is_, None, plan[:20], workers=None))  # warm
        start = time.perf_counter()
        for _ in engine.run_shards(operator.is_, None, plan, workers=None):
            pass
        return (time.perf_counter() - start) / shards


def main(argv: list[str] | None = None) -> None:
    from tests.dask_cluster import dask_cluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--scale", type=float, default=10.0)
    options = parser.parse_args(argv)
    print("\n== Dask: 2 single-threaded workers ÷ local --workers 2 ==")
    with ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-dask-")))
        cluster = stack.enter_context(dask_cluster(logs, workers=2))
        out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-dask-out-")))
        docs = ["document", "-p", "org", "-q", str(options.docs), "--format", "jsonl"]
        docs += ["--seed", str(SEED), "--quiet"]
        local, _ = timed(*docs, "--to", str(out / "local"), "--workers", "2")
        report("document org jsonl, local --workers 2", options.docs / local, "docs/s")
        dask, client_cpu = timed(*docs, "--to", str(out / "dask"), "--scheduler", cluster.address)
        report(
            "document org jsonl, Dask 2 workers ÷ local",
            options.docs / dask,
            "docs/s",
            baseline=options.docs / local,
            goal=">= 0.85",
        )
        shards = -(-options.docs // 1000)
        print(
            f"  client CPU per shard (Dask run, folder output): {client_cpu / shards * 1e3:.2f} ms"
        )
        print(f"  shard time (2 workers busy): {dask * 2 / shards * 1e3:.1f} ms per 1,000 docs")
        shutil.rmtree(out, ignore_errors=True)
        overhead = task_overhead(cluster.address, 2000)
        print(f"  per-shard task overhead (no-op tasks, 2 workers): {overhead * 1e3:.2f} ms wall")
        try:
            url = stack.enter_context(scratch_postgres())
        except Skipped as skipped:
            print(f"populate: skipped: {skipped}")
            return
        from datagen.scenarios.populate import prepare

        rows = prepare(SCENARIO, seed=SEED, scale=options.scale).rows
        populate = ["populate", str(SCENARIO), "--to", url, "--reset"]
        populate += ["--scale", f"{options.scale:g}", "--seed", str(SEED), "--quiet"]
        local, _ = timed(*populate, "--workers", "2")
        report(f"populate prod_like --scale {options.scale:g}, local --workers 2", rows / local,
               "rows/s")  # fmt: skip
        dask, client_cpu = timed(*populate, "--scheduler", cluster.address)
        report(
            "populate into PostgreSQL, Dask 2 workers ÷ local",
            rows / dask,
            "rows/s",
            baseline=rows / local,
            goal=">= 0.85",
        )
        print(f"  client CPU (Dask run): {client_cpu:.1f} s for {rows:,} rows")


if __name__ == "__main__":
    main()
