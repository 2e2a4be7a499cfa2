"""Journey generation speed against the document generator on the same documents.

Ours: ``generate.py journey -p job_lifecycle`` end to end (one zip and one
metadata file per journey). Baseline, measured in the same run: the document
generator's docs/s for each document type of those journeys (``jsonl``, one
worker), combined in the proportions the journeys use them.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from bench.common import ROOT, report, time_call, time_command
from datagen.generator import generate_documents

JOURNEYS = 3_000
DOCS_PER_TYPE = 10_000


def journeys_rate(base: Path) -> tuple[float, dict[str, int], float]:
    """(journeys/s, counts, seconds) of the journey command writing under ``base``."""
    out = Path(tempfile.mkdtemp(prefix="bench-journeys-", dir=base))
    try:
        seconds = time_command(
            "journey",
            "-p",
            "job_lifecycle",
            "-q",
            str(JOURNEYS),
            "--seed",
            "1",
            "--workers",
            "1",
            "--quiet",
            "--to",
            str(out),
        )
        counts = json.loads((out / "job_lifecycle" / "manifest.json").read_text())["counts"]
        return JOURNEYS / seconds, counts, seconds
    finally:
        shutil.rmtree(out, ignore_errors=True)


def mix_rate(counts: dict[str, int]) -> float:
    """Document generator docs/s on the journeys' document mix (jsonl, 1 worker)."""
    out = Path(tempfile.mkdtemp(prefix="bench-journeys-docs-"))
    types = {k: v for k, v in counts.items() if k not in ("journeys", "steps")}
    mix_seconds = 0.0
    try:
        for name, count in types.items():
            seconds = time_call(
                lambda: generate_documents(
                    provider=name, quantity=DOCS_PER_TYPE, seed=1, to=out, fmt="jsonl", workers=1
                )
            )
            report(
                f"document generator: {name}, jsonl, 1 worker", DOCS_PER_TYPE / seconds, "docs/s"
            )
            mix_seconds += count * seconds / DOCS_PER_TYPE
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return counts["steps"] / mix_seconds


def main() -> None:
    print("== journeys (job_lifecycle) ==")
    places = [("output/ disk", ROOT / "output")]
    if Path("/dev/shm").is_dir():
        places.append(("tmpfs", Path("/dev/shm")))
    results = [(label, *journeys_rate(base)) for label, base in places]
    docs_rate = mix_rate(results[0][2])
    report("document generator on the journeys' document mix", docs_rate, "docs/s")
    for label, rate, counts, seconds in results:
        report(f"[{label}] generate.py journey, 1 worker", rate, "journeys/s")
        report(
            f"[{label}] journey steps/s ÷ document docs/s",
            counts["steps"] / seconds,
            "steps/s",
            baseline=docs_rate,
            goal=">= 0.7",
        )


if __name__ == "__main__":
    main()
