"""Two runs at once into a new PostgreSQL database: both succeed, with the rows of one.

Issue 13: in 4 of 15 trials one of two concurrent `publish` (or `populate
--reset`) runs failed with ``duplicate key value violates unique constraint
"pg_type_typname_nsp_index"`` or ``relation "org" already exists``; measured
again here before the fix, 7 of 10 publish pairs and 4 of 8 populate pairs
failed. Schema changes now take a transaction-level advisory lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from datagen.journey_run import generate_journeys
from tests.servers import scratch_postgres

REPO = Path(__file__).resolve().parents[2]
TRIALS = 5
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def journeys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("journeys")
    generate_journeys(journey="job_lifecycle", quantity=20, seed=3, to=root, workers=1)
    return root


def both(*args: object) -> list[subprocess.CompletedProcess[str]]:
    """Run ``generate.py ARGS`` twice at the same time."""
    command = [sys.executable, str(REPO / "generate.py"), *map(str, args)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return results


def counts(url: str, tables: list[str]) -> dict[str, int]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(f'select count(*) from "{table}"')).scalar_one()
                for table in tables
            }
    finally:
        engine.dispose()


def test_two_publishes_at_once_into_a_new_database(journeys: Path) -> None:
    expected: dict[str, int] | None = None
    for _ in range(TRIALS):
        with scratch_postgres() as url:
            for result in both("publish", journeys, "--to", url, "--quiet"):
                assert result.returncode == 0, result.stderr
            got = counts(url, ["user", "engine", "pipeline", "job", "job_run", "job_status"])
        expected = expected or got
        assert got == expected and got["user"] == 20


def test_two_populates_with_reset_at_once_into_a_new_database() -> None:
    scenario = REPO / "scenarios" / "dev" / "dev.yaml"
    for _ in range(TRIALS):
        with scratch_postgres() as url:
            for result in both("populate", scenario, "--reset", "--to", url, "--quiet"):
                assert result.returncode == 0, result.stderr
            got = counts(url, ["org", "user", "engine", "pipeline", "job", "job_run"])
        assert got == {"org": 2, "user": 3, "engine": 2, "pipeline": 1, "job": 1, "job_run": 3}
