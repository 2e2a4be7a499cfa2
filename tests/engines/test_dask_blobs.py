"""Runs on a real Dask cluster into a real Azurite container: the workers upload their shards.

Each run's blobs (names, bytes, content types; the manifest included) are
compared with those of ``--workers 1`` into another container of the same
kind (``azure://`` with a connection string, or a container URL with a SAS).
The workers were started without the credentials: they get them from the client.
"""

from __future__ import annotations

import signal
import time
from typing import Iterator

import pytest

from datagen.generator import generate_documents
from tests.azurite import Azurite
from tests.dask_cluster import Cluster, dask_cluster

pytest.importorskip("distributed")

Blobs = dict[str, tuple[bytes, str]]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with dask_cluster(tmp_path_factory.mktemp("dask-logs"), workers=2) as started:
        yield started


def blobs(azurite: Azurite, container: str) -> Blobs:
    """Every blob of ``container``: its bytes and content type, by name."""
    client = azurite.container(container)
    try:
        return {
            item.name: (
                client.download_blob(item.name).readall(),
                item.content_settings.content_type,
            )
            for item in client.list_blobs()
        }
    finally:
        client.close()


def targets(azurite: Azurite, kind: str, prefix: str) -> tuple[str, str, list[str]]:
    """Two containers of one kind: (one's URL, the other's URL, their names)."""
    names = [azurite.new_container_name("one"), azurite.new_container_name("dask")]
    if kind == "azure":
        return f"azure://{names[0]}/{prefix}", f"azure://{names[1]}/{prefix}", names
    urls = []
    for name in names:
        azurite.service().create_container(name)  # a SAS for one container can't create it
        urls.append(azurite.container_url(name, prefix) + azurite.sas_token(name))
    return urls[0], urls[1], names


@pytest.mark.parametrize(
    "fmt, quantity, kind",
    [("jsonl", 5500, "azure"), ("csv", 2100, "url"), ("json", 1200, "url")],
)
def test_documents_match_one_worker(run, cluster, azurite, monkeypatch, fmt, quantity, kind):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    one, dask, names = targets(azurite, kind, "runs/org")
    common = ("document", "-p", "org", "-q", quantity, "--seed", 7, "--format", fmt, "--quiet")
    result = run(*common, "--to", one, "--workers", 1)
    assert result.exit_code == 0, result.output
    result = run(*common, "--to", dask, "--scheduler", cluster.address)
    assert result.exit_code == 0, result.output
    expected = blobs(azurite, names[0])
    assert "runs/org/manifest.json" in expected
    assert blobs(azurite, names[1]) == expected
    secret = dask.partition("sig=")[2].split("&")[0] or azurite.connection_string
    for log in cluster.logs.iterdir():  # the credentials went to the workers, not to a log
        assert secret not in log.read_text(errors="replace")


def test_journeys_match_one_worker(run, cluster, azurite, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    one, dask, names = targets(azurite, "azure", "journeys")
    common = ("journey", "-p", "job_lifecycle", "-q", 1100, "--seed", 3)
    assert run(*common, "--to", one, "--workers", 1, "--quiet").exit_code == 0
    result = run(*common, "--to", dask, "--scheduler", cluster.address)
    assert result.exit_code == 0, result.output
    expected = blobs(azurite, names[0])
    assert len(expected) == 2 * 1100 + 1
    assert blobs(azurite, names[1]) == expected
    assert result.output.splitlines()[-1] == f"Written: {names[1]}: 2201"


def test_a_worker_killed_mid_upload_changes_nothing(cluster, azurite, monkeypatch):
    """Its shards are run again elsewhere: the same names with the same bytes."""
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    one, dask, names = targets(azurite, "azure", "killed")
    options = dict(provider="org", quantity=24_000, seed=11, fmt="jsonl")

    def write(progress, attempt: int) -> None:
        generate_documents(**options, to=dask, scheduler=cluster.address, progress=progress)

    cluster.run_killing_a_worker("victim-blob", write)
    generate_documents(**options, to=one, workers=1)
    assert blobs(azurite, names[1]) == blobs(azurite, names[0])


def test_ctrl_c_leaves_no_manifest_not_even_the_earlier_one(run, cluster, azurite, monkeypatch):
    """A run is complete only when its manifest is there: the earlier run's at that prefix is
    deleted first, this run's is written last; Ctrl-C cancels the uploads before it."""
    from tests.test_signals import start

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    _, dask, names = targets(azurite, "azure", "again")
    common = ("document", "-p", "org", "--format", "json", "--to", dask, "--scheduler",
              cluster.address)  # fmt: skip
    assert run(*common, "-q", 1000, "--seed", 1, "--quiet").exit_code == 0
    assert "again/manifest.json" in blobs(azurite, names[1])
    process = start(*common, "-q", 200_000, "--seed", 2)
    client = azurite.container(names[1])
    deadline = time.monotonic() + 60
    while not any(b.name.startswith("again/org-001001") for b in client.list_blobs()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no blob of the second run was uploaded"
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.splitlines()[-1].startswith("Interrupted: the target may hold part of the run")
    assert "Trace" not in err
    left = [b.name for b in client.list_blobs()]
    client.close()
    assert "again/manifest.json" not in left and len(left) > 1000


@pytest.mark.parametrize("kind", ["azure", "url"])
def test_a_population_matches_one_worker(run, cluster, azurite, monkeypatch, kind):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    one, dask, names = targets(azurite, kind, "pop")
    common = ("populate", "scenarios/prod_like.yaml", "--seed", 5, "--scale", 0.2, "--quiet")
    assert run(*common, "--to", one, "--workers", 1).exit_code == 0
    result = run(*common, "--to", dask, "--scheduler", cluster.address)
    assert result.exit_code == 0, result.output
    expected = blobs(azurite, names[0])
    assert len(expected) == 12 and "pop/prod_like/job_run/manifest.json" in expected
    assert blobs(azurite, names[1]) == expected
