"""Unique fields at ten million documents: how many values repeat (goal: none).

Generates ``--rows`` documents of every provider that declares ``unique``
fields (``document --format jsonl`` on all cores, end to end), then counts
the values of each unique field that occur more than once: each value is
hashed to 64 bits, the hashes sorted, and every repeated hash checked
against the values themselves (so a hash collision is not counted).

    .venv/bin/python -m bench.bench_unique              # 10,000,000 rows each
    .venv/bin/python -m bench.bench_unique --rows 100000 --only org
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

from bench.common import ROOT, time_command
from datagen.documents import registry


def repeated(path: Path, field: str) -> tuple[int, int]:
    """(rows, values that occur more than once) of ``field`` in a JSONL file."""
    hashes = []
    with path.open("rb") as lines:
        for line in lines:
            value = orjson.loads(line)[field]
            digest = hashlib.blake2b(str(value).encode(), digest_size=8).digest()
            hashes.append(int.from_bytes(digest, "little"))
    array = np.array(hashes, dtype=np.uint64)
    array.sort()
    twice = set(array[1:][array[1:] == array[:-1]].tolist())
    if not twice:
        return len(array), 0
    seen: dict[str, int] = {}
    with path.open("rb") as lines:  # the values behind repeated hashes, compared for real
        for line in lines:
            value = str(orjson.loads(line)[field])
            digest = hashlib.blake2b(value.encode(), digest_size=8).digest()
            if int.from_bytes(digest, "little") in twice:
                seen[value] = seen.get(value, 0) + 1
    return len(array), sum(1 for count in seen.values() if count > 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--only", default="", help="providers, comma-separated")
    args = parser.parse_args(argv)
    chosen = [name for name, cls in registry.all().items() if cls.unique]
    if args.only:
        chosen = [name for name in chosen if name in args.only.split(",")]
    print(f"== unique fields at {args.rows:,} documents ==")
    for provider in chosen:
        out = Path(tempfile.mkdtemp(prefix="bench-unique-", dir=ROOT / "output"))
        try:
            seconds = time_command(
                "document",
                "-p",
                provider,
                "-q",
                str(args.rows),
                "--seed",
                "1",
                "--format",
                "jsonl",
                "--quiet",
                "--to",
                str(out),
            )
            for field in registry.get(provider).unique:
                started = time.perf_counter()
                rows, twice = repeated(out / provider / f"{provider}.jsonl", field)
                print(
                    f"{provider + '.' + field:<42} {rows:>12,} rows  {twice:>3} repeated values "
                    f"(goal 0)  [generated in {seconds:.0f} s, counted in "
                    f"{time.perf_counter() - started:.0f} s]"
                )
        finally:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
