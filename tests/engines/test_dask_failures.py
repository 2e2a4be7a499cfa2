"""Runs on a real Dask cluster that cannot finish: one line, exit 1, nothing that looks complete.

A shard that kills every worker that runs it (Dask gives up after its
``allowed-failures``: KilledWorker), and workers that cannot connect to the
database the client can (their ``PGOPTIONS`` names no setting).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, inspect

from datagen import generator
from datagen.scenarios import cluster_blobs, cluster_load
from tests.dask_cluster import Cluster, dask_cluster, kill_documents, kill_uploads, kill_writes

pytest.importorskip("distributed")

SCENARIO = "scenarios/prod_like.yaml"
POPULATE = ("populate", SCENARIO, "--seed", 5, "--scale", 0.5, "--reset", "--quiet")


@pytest.fixture(scope="module")
def fragile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two workers under nannies (started again when they die); a task is run twice at most."""
    logs = tmp_path_factory.mktemp("dask-logs")
    with dask_cluster(logs, workers=2, nanny=True, allowed_failures=1) as started:
        yield started


@pytest.fixture(scope="module")
def cut_off(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A worker whose connections to PostgreSQL are refused (an unknown setting)."""
    logs = tmp_path_factory.mktemp("dask-logs")
    env = {"PGOPTIONS": "-c no_such_setting=1"}
    with dask_cluster(logs, workers=1, worker_env=env) as started:
        yield started


def assert_killed_workers(output: str) -> None:
    lines = output.splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: Dask workers died running one shard again and again (last:")
    assert lines[0].endswith("(see the workers' logs (memory?); nothing was completed)")


def tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_shard_that_kills_workers_leaves_no_folder(run, fragile, tmp_path, monkeypatch):
    monkeypatch.setattr(generator, "document_shard", kill_documents)
    result = run("document", "-p", "org", "-q", 8000, "--seed", 1, "--format", "jsonl",
                 "--to", tmp_path, "--scheduler", fragile.address)  # fmt: skip
    assert result.exit_code == 1
    assert_killed_workers(result.output)
    assert list(Path(tmp_path).iterdir()) == []


def test_a_shard_that_kills_workers_leaves_no_manifest(run, fragile, azurite, monkeypatch):
    monkeypatch.setattr(generator, "document_shard", kill_documents)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    name = azurite.new_container_name("killed")
    result = run("document", "-p", "org", "-q", 8000, "--seed", 1, "--format", "json",
                 "--to", f"azure://{name}/run", "--scheduler", fragile.address)  # fmt: skip
    assert result.exit_code == 1
    assert_killed_workers(result.output)
    client = azurite.container(name)
    left = [blob.name for blob in client.list_blobs()]
    client.close()
    assert "run/manifest.json" not in left


def test_a_population_whose_shard_kills_workers_leaves_no_manifest(
    run, fragile, azurite, monkeypatch
):
    monkeypatch.setattr(cluster_blobs, "upload_shard", kill_uploads)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    name = azurite.new_container_name("killed")
    result = run(*POPULATE[:-2], "--quiet", "--to", f"azure://{name}/pop",
                 "--scheduler", fragile.address)  # fmt: skip
    assert result.exit_code == 1
    assert_killed_workers(result.output)
    client = azurite.container(name)
    left = [blob.name for blob in client.list_blobs()]
    client.close()
    assert not [blob for blob in left if blob.endswith("manifest.json")], left


@pytest.mark.postgres
def test_a_shard_that_kills_workers_leaves_no_table(run, fragile, postgres_db, monkeypatch):
    monkeypatch.setattr(cluster_load, "write_shard", kill_writes)
    result = run(*POPULATE, "--to", postgres_db, "--scheduler", fragile.address)
    assert result.exit_code == 1
    assert_killed_workers(result.output)
    assert tables(postgres_db) == []


@pytest.mark.postgres
def test_workers_that_cannot_connect_to_postgres_populate(run, cut_off, postgres_db):
    result = run(*POPULATE, "--to", postgres_db, "--scheduler", cut_off.address)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: a Dask worker cannot connect to PostgreSQL: ")
    assert "no_such_setting" in lines[0]
    assert tables(postgres_db) == []


@pytest.mark.postgres
def test_workers_that_cannot_connect_to_postgres_documents(run, cut_off, postgres_db):
    result = run("document", "-p", "org", "-q", 3000, "--seed", 1, "--to", postgres_db,
                 "--scheduler", cut_off.address)  # fmt: skip
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines == [
        "Error: a Dask worker cannot connect to PostgreSQL at 127.0.0.1:5432: unrecognized "
        'configuration parameter "no_such_setting" (every worker must reach the database '
        "(host, pg_hba.conf, a password file))"
    ]
