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

from bench.common import report, time_call, time_command
from datagen.generator import generate_documents

JOURNEYS = 3_000
DOCS_PER_TYPE = 10_000


def main() -> None:
    print("== journeys (job_lifecycle) ==")
    out = Path(tempfile.mkdtemp(prefix="bench-journeys-"))
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
        manifest = json.loads((out / "job_lifecycle" / "manifest.json").read_text())
        counts = manifest["counts"]
        steps = counts["steps"]
        types = {k: v for k, v in counts.items() if k not in ("journeys", "steps")}
        mix_seconds = 0.0
        for name, count in types.items():
            rate = DOCS_PER_TYPE / time_call(
                lambda: generate_documents(
                    provider=name,
                    quantity=DOCS_PER_TYPE,
                    seed=1,
                    to=out / "docs",
                    fmt="jsonl",
                    workers=1,
                )
            )
            report(f"document generator: {name}, jsonl, 1 worker", rate, "docs/s")
            mix_seconds += count / rate
        docs_rate = steps / mix_seconds
        report("document generator on the journeys' document mix", docs_rate, "docs/s")
        report("generate.py journey, 1 worker (end to end)", JOURNEYS / seconds, "journeys/s")
        report(
            "generate.py journey steps/s ÷ docs/s",
            steps / seconds,
            "steps/s",
            baseline=docs_rate,
            goal=">= 0.7",
        )
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
