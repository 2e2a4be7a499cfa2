"""Two runs at once into a new PostgreSQL database: both succeed, with the rows of one.

Issue 13: in 4 of 15 trials one of two concurrent `publish` (or `populate
--reset`) runs failed with ``duplicate key value violates unique constraint
"pg_type_typname_nsp_index"`` or ``relation "org" already exists``. Schema
changes now take a transaction-level advisory lock.

The two runs are made to create their tables at the same moment: the test
holds the database's ``public`` schema (``DROP SCHEMA public`` in a
transaction it has not ended) until both runs wait on it, then lets them go
together (rollback). Without the advisory lock this failed 10 of 10 trials
of each kind (about 2 s a trial); left to the processes' own timing, a pair
failed 8 of 20 publish and 13 of 20 populate trials on this machine, so
that 5 trials a test still missed the fault now and then.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from datagen.journey_generator import generate_journeys
from tests.servers import scratch_postgres

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def journeys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("journeys")
    generate_journeys(journey="job_lifecycle", quantity=20, seed=3, to=root, workers=1)
    return root


def engine_for(url: str):
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def start(*args: object) -> subprocess.Popen[str]:
    command = [sys.executable, str(REPO / "generate.py"), *map(str, args)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def both_at_once(url: str, *args: object) -> list[subprocess.CompletedProcess[str]]:
    """Run ``generate.py ARGS`` twice, both creating their tables at the same moment."""
    engine = engine_for(url)
    try:
        with engine.connect() as gate:
            gate.exec_driver_sql("DROP SCHEMA public CASCADE")  # held until the rollback
            processes = [start(*args) for _ in range(2)]
            deadline = time.monotonic() + 60
            while not any(process.poll() is not None for process in processes):
                gate.exec_driver_sql("SELECT pg_stat_clear_snapshot()")  # a fresh view
                waiting = gate.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                ).scalar_one()
                if waiting == 2:
                    break
                assert time.monotonic() < deadline, "the runs never reached their tables"
                time.sleep(0.02)
            gate.rollback()  # both go on at once
    finally:
        engine.dispose()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


def counts(url: str, tables: list[str]) -> dict[str, int]:
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(f'select count(*) from "{table}"')).scalar_one()
                for table in tables
            }
    finally:
        engine.dispose()


JOURNEY_TABLES = ["user", "engine", "pipeline", "job", "job_run", "job_status"]


def test_two_publishes_at_once_into_a_new_database(journeys: Path) -> None:
    with scratch_postgres() as url:
        for result in both_at_once(url, "publish", journeys, "--to", url, "--quiet"):
            assert result.returncode == 0, result.stderr
        got = counts(url, JOURNEY_TABLES)
    with scratch_postgres() as url:  # the rows of one publish, alone
        assert start("publish", journeys, "--to", url, "--quiet").wait(timeout=300) == 0
        assert got == counts(url, JOURNEY_TABLES) and got["user"] == 20


def test_two_populates_with_reset_at_once_into_a_new_database() -> None:
    scenario = REPO / "scenarios" / "dev" / "dev.yaml"
    with scratch_postgres() as url:
        for result in both_at_once(url, "populate", scenario, "--reset", "--to", url, "--quiet"):
            assert result.returncode == 0, result.stderr
        got = counts(url, ["org", "user", "engine", "pipeline", "job", "job_run"])
    assert got == {"org": 2, "user": 3, "engine": 2, "pipeline": 1, "job": 1, "job_run": 3}
