"""The Dask engine against a real cluster: ``dask scheduler`` and two ``dask worker`` processes.

Every run on the cluster is compared byte for byte with ``--workers 1``: a
shard's result is the same whatever the engine, even when a worker dies.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import inspect, text

from datagen.engines import dask as dask_engine
from datagen.generator import generate_documents
from datagen.sinks.connections import create_engine_for
from datagen.sinks.urls import parse_database_url
from tests.dask_cluster import Cluster, dask_cluster, free_port
from tests.servers import scratch_mariadb, scratch_postgres
from tests.trees import digest_tree

pytest.importorskip("distributed")

SCENARIO = "scenarios/prod_like.yaml"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with dask_cluster(tmp_path_factory.mktemp("dask-logs"), workers=2) as started:
        yield started


def assert_same_tree(a: Path, b: Path) -> None:
    found, expected = digest_tree(a), digest_tree(b)
    assert found and found == expected


@pytest.mark.parametrize("fmt, quantity", [("jsonl", 5500), ("json", 1200)])
def test_documents_match_one_worker(run, cluster, tmp_path, fmt, quantity):
    common = ("document", "-p", "org", "-q", quantity, "--seed", 7, "--format", fmt, "--quiet")
    assert run(*common, "--to", tmp_path / "one", "--workers", 1).exit_code == 0
    result = run(*common, "--to", tmp_path / "dask", "--scheduler", cluster.address)
    assert result.exit_code == 0, result.output
    assert_same_tree(tmp_path / "dask", tmp_path / "one")


def test_journeys_match_one_worker(run, cluster, tmp_path, monkeypatch):
    common = ("journey", "-p", "job_lifecycle", "-q", 1100, "--seed", 3, "--quiet")
    assert run(*common, "--to", tmp_path / "one", "--workers", 1).exit_code == 0
    monkeypatch.setenv("DATAGEN_SCHEDULER", cluster.address)  # the option's environment
    result = run(*common, "--to", tmp_path / "dask")
    assert result.exit_code == 0, result.output
    assert_same_tree(tmp_path / "dask", tmp_path / "one")


def test_scenario_folder_matches_one_worker(run, cluster, tmp_path):
    common = ("populate", SCENARIO, "--seed", 5, "--scale", 0.2, "--quiet")
    assert run(*common, "--to", tmp_path / "one", "--workers", 1).exit_code == 0
    result = run(*common, "--to", tmp_path / "dask", "--scheduler", cluster.address)
    assert result.exit_code == 0, result.output
    assert_same_tree(tmp_path / "dask", tmp_path / "one")
    result = run("verify", tmp_path / "dask", "--scheduler", cluster.address)
    assert result.exit_code == 0 and result.output.count("OK ") == 6, result.output


@pytest.mark.postgres
def test_scenario_into_postgres_holds(run, cluster, postgres_url):
    common = (SCENARIO, "--seed", 5, "--scale", 0.2, "--scheduler", cluster.address)
    result = run("populate", *common, "--to", postgres_url, "--reset", "--quiet")
    assert result.exit_code == 0, result.output
    assert connections_left(postgres_url) == 0  # the workers closed theirs
    result = run("verify-target", *common, "--to", postgres_url)
    assert result.exit_code == 0, result.output
    assert "holds exactly prod_like (seed 5, --scale 0.2)" in result.output
    engine = create_engine_for(*parse_database_url(postgres_url), "PostgreSQL", "test")
    with engine.connect() as conn:  # the workers' ledger of shards is gone
        assert "datagen_shards" not in inspect(conn).get_table_names()
    engine.dispose()
    result = run("populate", *common, "--to", postgres_url)  # without --reset
    assert result.exit_code == 2
    assert result.output.splitlines()[-1].startswith(
        "Error: populate --scheduler loads new tables from the workers; engine, job, job_run"
    )


def connections_left(url: str) -> int:
    """Other connections to ``url``'s database, once those closing have gone (10 s at most)."""
    engine = create_engine_for(*parse_database_url(url), "PostgreSQL", "test")
    sql = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with engine.connect() as conn:
                count = int(conn.execute(sql).scalar_one())
            if count == 0 or time.monotonic() > deadline:
                return count
            time.sleep(0.1)
    finally:
        engine.dispose()


def table_rows(url: str, table: str) -> list[tuple]:
    engine = create_engine_for(*parse_database_url(url), "database", "test")
    try:
        with engine.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote_identifier(table)
            return [tuple(row) for row in conn.execute(text(f"SELECT * FROM {quoted} ORDER BY id"))]
    finally:
        engine.dispose()


@pytest.mark.parametrize("server", ["postgres", "mariadb"])
def test_documents_into_a_database_match_one_worker(run, cluster, server):
    """Each worker upserts its own shards; the client made the table and counts it."""
    scratch = scratch_postgres if server == "postgres" else scratch_mariadb
    with scratch() as one, scratch() as dask:
        common = ("document", "-p", "user", "-q", 3500, "--seed", 4, "--refs", "org=50")
        assert run(*common, "--to", one, "--workers", 1, "--quiet").exit_code == 0
        result = run(*common, "--to", dask, "--scheduler", cluster.address)
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[-1] == "Written: user: 3500"
        assert len(table_rows(one, "user")) == 3500
        assert table_rows(dask, "user") == table_rows(one, "user")
        if server == "postgres":
            assert connections_left(dask) == 0  # the workers closed theirs


def test_a_worker_killed_mid_run_changes_nothing(cluster, tmp_path):
    """The worker that holds shards in flight is SIGKILLed; Dask reruns them elsewhere."""
    options = dict(provider="org", quantity=24_000, seed=11, fmt="jsonl")

    def write(progress, attempt: int) -> None:
        to = tmp_path / f"dask-{attempt}"
        generate_documents(**options, to=to, scheduler=cluster.address, progress=progress)

    attempt = cluster.run_killing_a_worker("victim", write)
    generate_documents(**options, to=tmp_path / "one", workers=1)
    assert_same_tree(tmp_path / f"dask-{attempt}", tmp_path / "one")


@pytest.mark.postgres
def test_a_worker_killed_while_writing_to_postgres_changes_nothing(run, cluster, postgres_db):
    """Shards its batch committed before it died are claimed in datagen_shards: not loaded twice."""
    from datagen.scenarios.populate import populate, prepare

    plan = prepare(SCENARIO, seed=9, scale=0.3)

    def load(progress, attempt: int) -> None:
        populate(plan, to=postgres_db, reset=True, scheduler=cluster.address, progress=progress)

    cluster.run_killing_a_worker("victim-pg", load)
    result = run("verify-target", SCENARIO, "--seed", 9, "--scale", 0.3, "--to", postgres_db)
    assert result.exit_code == 0, result.output


def test_ctrl_c_cancels_the_tasks_and_leaves_nothing(cluster, tmp_path):
    from distributed import Client

    from tests.test_signals import start, wait_for_partial

    out = tmp_path / "out"
    process = start("document", "-p", "org", "-q", 2_000_000, "--seed", 7, "--format", "jsonl",
                    "--to", out, "--scheduler", cluster.address)  # fmt: skip
    wait_for_partial(out, process, "org.jsonl")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.startswith("Interrupted: the target may hold part of the run") and "Trace" not in err
    assert list(out.iterdir()) == []
    with Client(cluster.address, timeout=10) as client:  # its tasks were cancelled
        deadline = time.monotonic() + 30
        while any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(client.processing().values())


def test_unreachable_scheduler_is_one_line(run, tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"
    result = run(
        "document", "-p", "org", "-q", 10, "--seed", 1, "--to", tmp_path, "--scheduler", address
    )
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: cannot reach the Dask scheduler at {address} in 5 s (OSError) "
        "(start it with 'dask scheduler', or check --scheduler / DATAGEN_SCHEDULER)"
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "package, message",
    [
        ('__version__ = "0.0.1"\n', "runs generator_version 0.0.1, this is"),
        (
            'raise ImportError("not installed")\n',
            "without the project (cannot import datagen): the scheduler, worker tcp://",
        ),
    ],
    ids=["another-version", "no-project"],
)
def test_workers_of_another_version_are_refused(run, tmp_path, package, message):
    other = tmp_path / "other" / "datagen"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text(package)
    logs = tmp_path / "logs"
    logs.mkdir()
    with dask_cluster(logs, workers=1, pythonpath=str(other.parent)) as elsewhere:
        result = run(
            "document",
            "-p",
            "org",
            "-q",
            10,
            "--seed",
            1,
            "--to",
            tmp_path / "out",
            "--scheduler",
            elsewhere.address,
        )
    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 1 and message in result.output, result.output
    assert list((tmp_path / "out").iterdir()) == []


def test_all_workers_lost_is_one_line(run, tmp_path, monkeypatch):
    monkeypatch.setattr(dask_engine, "WORKERS_TIMEOUT", 2.0)
    logs = tmp_path / "logs"
    logs.mkdir()
    with dask_cluster(logs, workers=1) as alone:
        only = alone.workers[0]

        def progress(count: int) -> None:
            if only.poll() is None:
                os.kill(only.pid, signal.SIGKILL)
                only.wait()

        with pytest.raises(dask_engine.EngineError, match="lost all its workers"):
            generate_documents(
                provider="org",
                quantity=20_000,
                seed=2,
                fmt="jsonl",
                to=tmp_path / "out",
                scheduler=alone.address,
                progress=progress,
            )
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.postgres
def test_sigterm_of_a_cluster_populate_says_the_tables_are_dropped(cluster, postgres_db):
    """Its --reset is committed before the workers load: say so, not 'rolled back'."""
    from sqlalchemy import create_engine

    from tests.test_signals import start

    engine = create_engine(postgres_db, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE org (id text PRIMARY KEY)")  # a population before
        process = start("populate", SCENARIO, "--seed", 3, "--scale", 3, "--reset", "--to",
                        postgres_db, "--scheduler", cluster.address)  # fmt: skip
        deadline = time.monotonic() + 60
        while "datagen_shards" not in inspect(engine).get_table_names():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the workers never began to load"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=90)
        assert process.returncode == 143, err
        assert err.splitlines() == [
            "Terminated (SIGTERM): the tables this run made are dropped; --reset had dropped "
            "the previous ones before the workers loaded; run the same command again with "
            "--reset to write the population (it also drops tables a stopped run left without "
            "keys)."
        ]
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
