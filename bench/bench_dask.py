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
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

from bench.common import ROOT, Skipped, report, scratch_postgres
from datagen.sinks.urls import CONNECTION_STRING_ENV

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


def task_overhead(address: str, shards: int, per_task: int) -> float:
    """Wall seconds per shard of shard tasks that do nothing, ``per_task`` shards a task."""
    from datagen.engines import dask as dask_engine
    from datagen.engines import using
    from datagen.seeding import plan_shards

    plan = plan_shards(quantity=shards * 1000, seed=1, name="noop")
    default, dask_engine.SHARDS_PER_TASK = dask_engine.SHARDS_PER_TASK, per_task
    try:
        with using(address) as engine:
            list(engine.map_shards(operator.is_, None, plan[:50], workers=None))  # warm
            start = time.perf_counter()
            for _ in engine.map_shards(operator.is_, None, plan, workers=None):
                pass
            return (time.perf_counter() - start) / shards
    finally:
        dask_engine.SHARDS_PER_TASK = default


def overheads(address: str) -> None:
    from datagen.engines.dask import SHARDS_PER_TASK

    for per_task in (1, SHARDS_PER_TASK):
        seconds = task_overhead(address, 2000, per_task)
        print(
            f"  no-op shards, {per_task} per task, 2 workers: {seconds * 1e3:.2f} ms wall per shard"
            f" ({1 / seconds:,.0f} shards/s)",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    from tests.dask_cluster import dask_cluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--blob-docs", type=int, default=300_000, help="documents into Azurite")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, the best kept")
    parser.add_argument("--only-overhead", action="store_true", help="only the no-op tasks")
    parser.add_argument("--only-blobs", action="store_true", help="only the Azurite runs")
    options = parser.parse_args(argv)
    print("\n== Dask: 2 single-threaded workers ÷ local --workers 2 ==")
    with ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-dask-")))
        cluster = stack.enter_context(dask_cluster(logs, workers=2))
        if options.only_overhead:
            overheads(cluster.address)
            return
        if options.only_blobs:
            blobs(stack, cluster.address, logs, options.blob_docs, options.repeat)
            return
        out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-dask-out-")))
        docs = ["document", "-p", "org", "--format", "jsonl", "--seed", str(SEED), "--quiet"]
        local_docs = docs + ["--workers", "2"]
        dask_docs = docs + ["--scheduler", cluster.address]
        shards = -(-options.docs // 1000)
        local, dask, client_cpu = best_of(
            options.repeat,
            lambda: timed(*local_docs, "-q", str(options.docs), "--to", str(out / "local")),
            lambda: timed(*dask_docs, "-q", str(options.docs), "--to", str(out / "dask")),
            lambda: shutil.rmtree(out / "local", ignore_errors=True)
            or shutil.rmtree(out / "dask", ignore_errors=True),
        )
        report(f"document org jsonl -q {options.docs:,}, local --workers 2", options.docs / local,
               "docs/s")  # fmt: skip
        report(
            "document org jsonl, Dask 2 workers ÷ local",
            options.docs / dask,
            "docs/s",
            baseline=options.docs / local,
            goal=">= 0.85",
        )
        per_shard = (local * 2 / shards * 1e3, dask * 2 / shards * 1e3)
        print("  shard (1,000 docs) on one core: %.1f ms local, %.1f ms on the cluster" % per_shard
              + " (wall × 2 workers ÷ shards)")  # fmt: skip
        print(
            f"  client CPU per shard (Dask run, folder output): {client_cpu / shards * 1e3:.2f} ms"
        )
        small_local, small_dask, _ = best_of(
            options.repeat,
            lambda: timed(*local_docs, "-q", "1000", "--to", str(out / "local")),
            lambda: timed(*dask_docs, "-q", "1000", "--to", str(out / "dask")),
            lambda: shutil.rmtree(out / "local", ignore_errors=True)
            or shutil.rmtree(out / "dask", ignore_errors=True),
        )
        print(f"  one shard end to end: {small_local:.2f} s local, {small_dask:.2f} s on the "
              "cluster (the difference: importing distributed, connecting, checking "
              "versions)")  # fmt: skip
        shutil.rmtree(out, ignore_errors=True)
        overheads(cluster.address)
        try:
            blobs(stack, cluster.address, logs, options.blob_docs, options.repeat)
        except Skipped as skipped:
            print(f"blobs: skipped: {skipped}")
        try:
            url = stack.enter_context(scratch_postgres())
        except Skipped as skipped:
            print(f"populate: skipped: {skipped}")
            return
        from datagen.scenarios.populate import prepare

        rows = prepare(SCENARIO, seed=SEED, scale=options.scale).rows
        populate = ["populate", str(SCENARIO), "--to", url, "--reset"]
        populate += ["--scale", f"{options.scale:g}", "--seed", str(SEED), "--quiet"]
        local, dask, client_cpu = best_of(
            options.repeat,
            lambda: timed(*populate, "--workers", "2"),
            lambda: timed(*populate, "--scheduler", cluster.address),
        )
        report(f"populate prod_like --scale {options.scale:g}, local --workers 2", rows / local,
               "rows/s")  # fmt: skip
        report(
            "populate into PostgreSQL, Dask 2 workers ÷ local",
            rows / dask,
            "rows/s",
            baseline=rows / local,
            goal=">= 0.85",
        )
        print(f"  client CPU (Dask run): {client_cpu:.1f} s for {rows:,} rows")


def blobs(stack: ExitStack, address: str, scratch: Path, docs: int, repeat: int) -> None:
    """``document … --to azure://…`` into Azurite: the workers upload ÷ the client uploads."""
    from bench.bench_publish import azurite

    folder = scratch / "azurite"
    folder.mkdir()
    os.environ[CONNECTION_STRING_ENV] = stack.enter_context(azurite(folder))
    run = ["document", "-p", "org", "--format", "jsonl", "--seed", str(SEED), "--quiet"]
    run += ["-q", str(docs)]
    local, dask, client_cpu = best_of(
        repeat,
        lambda: timed(*run, "--to", "azure://bench-local/org", "--workers", "2"),
        lambda: timed(*run, "--to", "azure://bench-dask/org", "--scheduler", address),
    )
    report(f"document org jsonl -q {docs:,} into Azurite, local --workers 2", docs / local,
           "docs/s")  # fmt: skip
    report(
        "into Azurite, Dask 2 workers (they upload) ÷ local",
        docs / dask,
        "docs/s",
        baseline=docs / local,
    )
    shards = -(-docs // 1000)
    print(f"  client CPU per shard (Dask run, into Azurite): {client_cpu / shards * 1e3:.2f} ms")


def best_of(
    repeat: int,
    local: Callable[[], tuple[float, float]],
    dask: Callable[[], tuple[float, float]],
    between: Callable[[], object] = lambda: None,
) -> tuple[float, float, float]:
    """The best wall time of each, run in turn ``repeat`` times; the Dask run's client CPU."""
    local_best = dask_best = cpu = float("inf")
    for _ in range(repeat):
        local_best = min(local_best, local()[0])
        between()
        wall, used = dask()
        if wall < dask_best:
            dask_best, cpu = wall, used
        between()
    return local_best, dask_best, cpu


if __name__ == "__main__":
    main()
