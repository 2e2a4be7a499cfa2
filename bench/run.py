"""Run every benchmark: ``make bench``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (  # noqa: E402
    bench_dask,
    bench_documents,
    bench_journeys,
    bench_load,
    bench_populate,
    bench_probe,
    bench_publish,
    bench_replay,
    bench_unique,
)


def main() -> None:
    bench_documents.main()
    bench_journeys.main()
    bench_publish.main()
    bench_replay.main()
    bench_populate.main([])
    bench_unique.main([])
    bench_probe.main([])
    bench_load.main()
    bench_dask.main([])


if __name__ == "__main__":
    main()
