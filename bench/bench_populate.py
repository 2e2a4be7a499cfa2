"""Populate speed and memory: ``scenarios/prod_like.yaml`` into PostgreSQL.

- ``populate prod_like --scale 10`` (about 1.1 million rows) into PostgreSQL,
  end to end (start-up, planning, generating and encoding on all cores, COPY
  in one transaction, each table's primary and foreign keys built and
  checked over all its rows after them, then the scenario's 32 ``checks:``
  as 21 statements on two connections, which publish does not run), in rows/s.
  On a shared machine, compare CPU seconds too (the workers' and PostgreSQL's:
  populate spends about 2 s of PostgreSQL CPU on its checks at ``--scale 10``);
- the baseline: ``publish`` of the very same rows (written first as JSONL
  by ``populate --to FOLDER``, not timed) into the same database; the ratio
  is populate's rate ÷ publish's (goal ≥ 0.8); and ÷ ``publish --foreign-keys``,
  which writes the same tables as populate (foreign keys checked);
- the peak memory (largest resident set of the populate processes) at
  ``--scale 1`` and ``--scale 10``: it should stay flat, since no table is
  ever held in memory.

Each figure is measured ``--repeat`` times (default 2; the machine is shared
and noisy) and the best is printed. The database is a scratch one,
``datagen_bench_<random>``, dropped afterwards.

    python -m bench.bench_populate --scale 1 --repeat 1     # a quick look
    DATAGEN_BENCH_POSTGRES=postgresql://postgres@127.0.0.1/test python -m bench.bench_populate
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Skipped, report, scratch_postgres  # noqa: E402
from datagen.scenarios.populate import prepare  # noqa: E402

SCENARIO = ROOT / "scenarios" / "prod_like.yaml"
SEED = 7

# Runs a command and prints its largest resident set (KiB on Linux) after it: a fresh
# wrapper per measurement, so the figure is this command's own (its main process or a worker).
_MEASURE = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


def run_measured(*args: str) -> tuple[float, int]:
    """Seconds and peak memory (MiB) of ``python generate.py ARGS``."""
    command = [sys.executable, "-c", _MEASURE, sys.executable, str(ROOT / "generate.py"), *args]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"failed: generate.py {' '.join(args)}\n{done.stderr}")
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    return elapsed, peak_kib // 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0, help="the large run (default 10)")
    parser.add_argument("--repeat", type=int, default=2)
    options = parser.parse_args(argv)
    large = options.scale
    rows = prepare(SCENARIO, seed=SEED, scale=large).rows
    small_rows = prepare(SCENARIO, seed=SEED, scale=1).rows
    print(f"\npopulate: {SCENARIO.name}, seed {SEED}: {rows:,} rows at --scale {large:g}")
    with ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_postgres())
        except Skipped as skipped:
            print(f"populate: skipped: {skipped}")
            return
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-populate-"))
        common = ["--seed", str(SEED), "--quiet"]
        subprocess.run(
            [sys.executable, str(ROOT / "generate.py"), "populate", str(SCENARIO), "--to", tmp,
             "--scale", f"{large:g}", *common],
            cwd=ROOT, check=True,
        )  # fmt: skip
        folder = str(Path(tmp) / "prod_like")
        populate_runs, publish_runs, small_peaks, large_peaks = [], [], [], []
        publish_fk_runs = []
        for _ in range(options.repeat):
            seconds, peak = run_measured(
                "populate", str(SCENARIO), "--to", url, "--reset", "--scale", f"{large:g}", *common
            )
            populate_runs.append(rows / seconds)
            large_peaks.append(peak)
            seconds, _ = run_measured("publish", folder, "--to", url, "--reset", "--quiet")
            publish_runs.append(rows / seconds)
            seconds, _ = run_measured(
                "publish", folder, "--to", url, "--reset", "--foreign-keys", "--quiet"
            )
            publish_fk_runs.append(rows / seconds)
            _, peak = run_measured(
                "populate", str(SCENARIO), "--to", url, "--reset", "--scale", "1", *common
            )
            small_peaks.append(peak)
    best_publish = max(publish_runs)
    report(f"publish of the same rows into PostgreSQL ({rows:,})", best_publish, "rows/s")
    report(
        f"populate prod_like --scale {large:g} into PostgreSQL",
        max(populate_runs),
        "rows/s",
        baseline=best_publish,
        goal=">= 0.8",
    )
    # The same tables as populate's, with their FOREIGN KEYs checked by PostgreSQL.
    best_fk = max(publish_fk_runs)
    report("publish --foreign-keys of the same rows (same tables)", best_fk, "rows/s")
    report(
        f"populate prod_like --scale {large:g} ÷ publish --foreign-keys",
        max(populate_runs),
        "rows/s",
        baseline=best_fk,
        goal=">= 0.8",
    )
    print(
        "   runs: populate "
        + ", ".join(f"{r:,.0f}" for r in populate_runs)
        + " rows/s; publish "
        + ", ".join(f"{r:,.0f}" for r in publish_runs)
        + " rows/s; publish --foreign-keys "
        + ", ".join(f"{r:,.0f}" for r in publish_fk_runs)
        + " rows/s"
    )
    report(f"peak memory, --scale 1 ({small_rows:,} rows)", min(small_peaks), "MiB")
    report(
        f"peak memory, --scale {large:g} ({rows:,} rows)",
        min(large_peaks),
        "MiB",
        baseline=min(small_peaks),
        goal="flat (~1.0)",
    )


if __name__ == "__main__":
    main()
