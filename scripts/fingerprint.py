"""Fingerprint what this version generates: one SHA-256 per output, to compare before/after.

A refactor that must not change the output prints the same lines before and
after it: every document provider in every format and every journey (a
manifest's SHA-256, which holds every file's), every shipped scenario
populated into a folder (its manifest's) and into PostgreSQL (each table as
psql dumps it in key order, hashed: read by psql, not by the code under test).

    .venv/bin/python scripts/fingerprint.py > before.txt
    … the change …
    .venv/bin/python scripts/fingerprint.py | diff before.txt -

``FP_ROOT=DIR`` fingerprints the checkout in DIR instead (e.g. a ``git archive``
export of the commit before a change), so both sides come from one script.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(os.environ.get("FP_ROOT") or Path(__file__).resolve().parents[1]).resolve()
sys.path.insert(0, str(ROOT))

from datagen.atomic import sha256_file  # noqa: E402
from datagen.documents import registry  # noqa: E402
from datagen.journeys import registry as journeys  # noqa: E402

SCENARIOS = [
    "scenarios/prod_like.yaml",
    "scenarios/resource_1k_shared_compute.yaml",
    "scenarios/resource_10k_shared_compute.yaml",
    "scenarios/dev/dev.yaml",
]
POSTGRES = "postgresql://postgres@127.0.0.1:5432"


def run(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "generate.py"), *args], check=True, cwd=ROOT)


def main() -> None:
    refs = ["--refs", "org=500", "--refs", "user=2000", "--refs", "job=3000"]
    with tempfile.TemporaryDirectory(prefix="fingerprint-") as folder:
        out = Path(folder)
        for provider in registry.names():
            for fmt in ("jsonl", "json", "csv"):
                to = out / "documents" / fmt
                run(
                    "document", "-p", provider, "-q", "2500", "--seed", "11",
                    "--format", fmt, "--to", str(to), "--quiet", *refs,
                )  # fmt: skip
                print(f"document {provider} {fmt}: {sha256_file(to / provider / 'manifest.json')}")
        for journey in journeys.names():
            to = out / "journeys"
            run("journey", "-p", journey, "-q", "300", "--seed", "11", "--to", str(to), "--quiet")
            print(f"journey {journey}: {sha256_file(to / journey / 'manifest.json')}")
        for scenario in SCENARIOS:
            to = out / "scenarios"
            run("populate", scenario, "--scale", "0.3", "--to", str(to), "--quiet")
            for manifest in sorted((to / Path(scenario).stem).glob("*/manifest.json")):
                table = manifest.parent.name
                print(f"populate {scenario} folder {table}: {sha256_file(manifest)}")
            database = (
                "fingerprint_" + hashlib.blake2b(scenario.encode(), digest_size=4).hexdigest()
            )
            admin = [
                "psql",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
            ]
            drop = [*admin, f"DROP DATABASE IF EXISTS {database}"]
            subprocess.run(drop, check=True, stderr=subprocess.DEVNULL)
            subprocess.run([*admin, f"CREATE DATABASE {database}"], check=True)
            try:
                url = f"{POSTGRES}/{database}"
                run("populate", scenario, "--scale", "0.3", "--to", url, "--quiet")
                for table, digest in table_digests(database).items():
                    print(f"populate {scenario} postgresql {table}: {digest}")
            finally:
                subprocess.run([*admin, f"DROP DATABASE IF EXISTS {database}"], check=True)


def table_digests(database: str) -> dict[str, str]:
    """Each table's rows, read by psql in key order (not by our code), hashed."""
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-At", "-c"]
    tables = subprocess.run(
        [*psql, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    found = {}
    for table in tables:
        dump = subprocess.run(
            [*psql, f'COPY (SELECT * FROM "{table}" ORDER BY id) TO STDOUT'],
            check=True,
            capture_output=True,
        ).stdout
        rows = dump.count(b"\n")
        found[table] = f"{rows} rows {hashlib.sha256(dump).hexdigest()}"
    return found


if __name__ == "__main__":
    main()
