"""A run into a blob container is complete only when its manifest is there.

Without ``--scheduler`` the client uploads the files itself: an earlier run's
manifest at that prefix is deleted before anything else, and the new manifest
is uploaded only after every file (streamed ones included) has landed. A run
cut short therefore leaves no manifest, neither its own nor an earlier one.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from datagen.driver import Batch, Files, Prepare
from datagen.formats import Chunk
from datagen.manifest import MANIFEST_NAME, build_manifest
from datagen.runs import write_run
from datagen.seeding import REFERENCE_DATE

pytestmark = pytest.mark.azurite


class Producer:
    """Two streamed chunks of one file and a whole file; optionally fails at the end."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def batches(self, *, workers: int | None) -> Iterator[Batch]:
        yield Prepare()
        yield Files([Chunk("org.jsonl", b'{"id": 1}\n'), Chunk("extra.json", b"{}", whole=True)])
        yield Files([Chunk("org.jsonl", b'{"id": 2}\n')], counts={"org": 2})
        if self.fail:
            raise RuntimeError("cut short")


def manifests(counts, files):
    manifest = build_manifest(
        kind="documents",
        provider="org",
        seed=1,
        quantity=2,
        locale="en",
        format="jsonl",
        reference_date=REFERENCE_DATE,
        counts=dict(counts),
        files=dict(files),
        options={},
    )
    return {MANIFEST_NAME: manifest}


def test_the_manifest_names_every_file_committed_before_it(azurite, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    name = azurite.new_container_name()
    run = write_run(Producer(), f"azure://{name}/runs", name="org", manifests=manifests)
    client = azurite.container(name)
    blobs = {blob.name: blob for blob in client.list_blobs()}
    assert sorted(blobs) == ["runs/extra.json", "runs/manifest.json", "runs/org.jsonl"]
    assert client.download_blob("runs/org.jsonl").readall() == b'{"id": 1}\n{"id": 2}\n'
    assert run.counts == {"org": 2}
    # Uploaded after the streamed file was committed: never older than any file it names.
    manifest_time = blobs["runs/manifest.json"].last_modified
    assert all(blob.last_modified <= manifest_time for blob in blobs.values())


def test_a_run_cut_short_leaves_no_manifest_not_even_an_earlier_one(azurite, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    name = azurite.new_container_name()
    url = f"azure://{name}/runs"
    write_run(Producer(), url, name="org", manifests=manifests)
    client = azurite.container(name)
    assert "runs/manifest.json" in [blob.name for blob in client.list_blobs()]

    with pytest.raises(RuntimeError, match="cut short"):
        write_run(Producer(fail=True), url, name="org", manifests=manifests)
    assert "runs/manifest.json" not in [blob.name for blob in client.list_blobs()]
