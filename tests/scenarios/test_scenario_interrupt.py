"""Ctrl-C or SIGTERM in the middle of a populate: one line saying what holds, nothing half-written.

Issue 13: into SQLite, it said `the target may hold part of the run`, though the
run is one transaction and a database file it made is removed.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FOLDER = (
    "nothing was written: the folder populate was building is removed; run the same command "
    "again to write the population."
)
SQLITE = (
    "nothing was written: populate writes SQLite in one transaction, rolled back (a database "
    "file it made is removed); run the same command again to write the population."
)


def start(to: str, scale: str, *extra: str, workers: int = 1) -> subprocess.Popen[str]:
    """populate in its own process group; with one worker, no fork a signal could land in."""
    command = [
        sys.executable, "generate.py", "populate", "scenarios/prod_like.yaml",
        "--to", to, "--scale", scale, "--seed", "7", "--workers", str(workers), *extra,
    ]  # fmt: skip
    # A terminal sends SIGINT to the whole process group: the workers get it too.
    return subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def stopped(process: subprocess.Popen[str], how: signal.Signals) -> tuple[int, str]:
    """Send ``how`` (SIGINT to the group, as a terminal does; SIGTERM to the run alone)."""
    try:
        if how is signal.SIGINT:
            os.killpg(process.pid, how)
        else:
            process.send_signal(how)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, err


def wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    """Until ``path`` exists: the run has opened its target and is writing rows."""
    deadline = time.monotonic() + 60
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_ctrl_c_during_populate_says_one_line_and_leaves_no_partial_folder(tmp_path: Path) -> None:
    process = start(str(tmp_path), "5", workers=2)
    deadline = time.monotonic() + 60
    while not any(p.is_file() and p.stat().st_size for p in tmp_path.rglob("*.jsonl")):
        assert process.poll() is None, process.communicate()  # rows written: workers at work
        assert time.monotonic() < deadline, "no rows written"
        time.sleep(0.05)
    code, err = stopped(process, signal.SIGINT)
    assert code == 130, err
    assert err.splitlines() == [f"Interrupted: {FOLDER}"]
    assert list(tmp_path.iterdir()) == []  # not even the hidden folder it was building


def test_sigterm_of_populate_into_a_new_sqlite_file_says_nothing_was_written(tmp_path: Path):
    """Was: `Terminated (SIGTERM): the target may hold part of the run, …`."""
    db = tmp_path / "new.db"
    process = start(f"sqlite:///{db}", "2")
    wait_for(db, process)
    code, err = stopped(process, signal.SIGTERM)
    assert code == 143, err
    assert err.splitlines() == [f"Terminated (SIGTERM): {SQLITE}"]
    assert list(tmp_path.iterdir()) == []  # the file it made, with its -wal and -shm


def test_ctrl_c_of_populate_reset_into_sqlite_leaves_the_database_as_it_was(tmp_path: Path):
    db = tmp_path / "kept.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE org (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO org VALUES (1, 'kept')")
    connection.close()
    process = start(f"sqlite:///{db}", "2", "--reset")
    wait_for(Path(f"{db}-wal"), process)  # connected: the run's transaction is open
    code, err = stopped(process, signal.SIGINT)
    assert code == 130, err
    assert err.splitlines() == [f"Interrupted: {SQLITE}"]
    with sqlite3.connect(db) as connection:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master")]
        rows = connection.execute("SELECT * FROM org").fetchall()
    connection.close()
    assert tables == ["org"] and rows == [(1, "kept")]  # --reset's drop was rolled back too


@pytest.mark.postgres
def test_sigterm_of_populate_into_postgresql_says_nothing_was_written(postgres_db: str):
    from sqlalchemy import create_engine, inspect

    engine = create_engine(postgres_db, isolation_level="AUTOCOMMIT")
    try:
        process = start(postgres_db, "2")
        deadline = time.monotonic() + 60
        with engine.connect() as watch:
            while not watch.exec_driver_sql(  # the run's transaction is open: it is writing
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            ).scalar_one():
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the run never began its transaction"
                time.sleep(0.05)
        code, err = stopped(process, signal.SIGTERM)
        assert code == 143, err
        assert err.splitlines() == [
            "Terminated (SIGTERM): nothing was written: populate writes PostgreSQL in one "
            "transaction, rolled back; run the same command again to write the population."
        ]
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
