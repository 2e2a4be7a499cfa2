"""Journey generation speed against the document generator on the same documents.

Ours: journeys of ``job_lifecycle`` (one zip and one metadata file per journey),
one worker, measured two ways: ``generate.py journey`` end to end (Python's
start-up and imports included), and ``generate_journeys`` in this process, as
the baseline is measured. Baseline, measured in the same run: the document
generator's docs/s for each document type of those journeys (``jsonl``, one
worker, in this process), combined in the proportions the journeys use them.
Each in-process figure is given in wall time and in CPU time (user + system
of this process: one worker runs here), which other work on the machine
disturbs less.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, TypeVar

from bench.common import ROOT, report, time_command
from datagen.generator import generate_documents
from datagen.journey_generator import generate_journeys

JOURNEY = "job_lifecycle"
JOURNEYS = 3_000
DOCS_PER_TYPE = 10_000
GOAL = ">= 0.7"
T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[float, float, T]:
    """(wall seconds, CPU seconds of this process, result) of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def command_seconds(base: Path) -> tuple[float, dict[str, int]]:
    """(seconds, counts) of ``generate.py journey`` writing under ``base``."""
    out = Path(tempfile.mkdtemp(prefix="bench-journeys-", dir=base))
    try:
        options = f"-p {JOURNEY} -q {JOURNEYS} --seed 1 --workers 1 --quiet --to".split()
        seconds = time_command("journey", *options, str(out))
        counts = json.loads((out / JOURNEY / "manifest.json").read_text())["counts"]
        return seconds, counts
    finally:
        shutil.rmtree(out, ignore_errors=True)


def in_process_seconds(base: Path, seed: int, quantity: int = JOURNEYS) -> tuple[float, float, int]:
    """(wall, CPU seconds, steps) of ``generate_journeys`` writing under ``base`` in this process.

    Each call has its own seed: a new job, whose document factories are compiled afresh
    (as each of the baseline's document types is).
    """
    out = Path(tempfile.mkdtemp(prefix="bench-journeys-", dir=base))
    try:
        wall, cpu, result = timed(
            lambda: generate_journeys(
                journey=JOURNEY, quantity=quantity, seed=seed, to=out, workers=1
            )
        )
        return wall, cpu, result.counts["steps"]
    finally:
        shutil.rmtree(out, ignore_errors=True)


def mix_rates(counts: dict[str, int]) -> tuple[float, float]:
    """Document generator (wall, CPU) docs/s on the journeys' document mix (jsonl, 1 worker)."""
    out = Path(tempfile.mkdtemp(prefix="bench-journeys-docs-"))
    types = {k: v for k, v in counts.items() if k not in ("journeys", "steps")}
    wall_total = cpu_total = 0.0
    try:
        for name, count in types.items():
            wall, cpu, _ = timed(
                lambda: generate_documents(
                    provider=name, quantity=DOCS_PER_TYPE, seed=1, to=out, fmt="jsonl", workers=1
                )
            )
            report(f"document generator: {name}, jsonl, 1 worker", DOCS_PER_TYPE / wall, "docs/s")
            wall_total += count * wall / DOCS_PER_TYPE
            cpu_total += count * cpu / DOCS_PER_TYPE
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return counts["steps"] / wall_total, counts["steps"] / cpu_total


def main() -> None:
    print(f"== journeys ({JOURNEY}) ==")
    places = [("output/ disk", ROOT / "output")]
    if Path("/dev/shm").is_dir():
        places.append(("tmpfs", Path("/dev/shm")))
    in_process_seconds(places[-1][1], seed=0, quantity=10)  # imports (numpy), as the baseline's
    commands = [(label, *command_seconds(base)) for label, base in places]
    in_process = [
        (label, *in_process_seconds(base, seed)) for seed, (label, base) in enumerate(places, 1)
    ]
    counts = commands[0][2]
    docs_wall, docs_cpu = mix_rates(counts)
    report("document generator on the journeys' document mix", docs_wall, "docs/s")
    report("  the same in CPU time", docs_cpu, "docs/s")
    for label, seconds, _ in commands:
        report(f"[{label}] generate.py journey, 1 worker", JOURNEYS / seconds, "journeys/s")
        report(
            f"[{label}] end to end: journey steps/s ÷ document docs/s",
            counts["steps"] / seconds,
            "steps/s",
            baseline=docs_wall,
            goal=GOAL,
        )
    for label, wall, cpu, steps in in_process:
        report(
            f"[{label}] in process: journey steps/s ÷ document docs/s",
            steps / wall,
            "steps/s",
            baseline=docs_wall,
            goal=GOAL,
        )
        report(f"[{label}]   the same in CPU time", steps / cpu, "steps/s", baseline=docs_cpu)


if __name__ == "__main__":
    main()
