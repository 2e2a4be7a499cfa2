"""One run, every target: a zip or a blob container gets the bytes a folder gets.

``document``, ``journey`` and ``populate`` write a zip or blobs straight from
the driver (no folder made first, then published): the zip must be the one
``publish`` makes of the folder run, byte for byte, and the blobs the folder's
files. A journey run into a database streams its steps: the rows must be those
``publish`` writes from the journey run's folder. And one rule for runs on
disk: an interrupted run's hidden folder is never published, whatever the target.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest

from tests.azurite import Azurite
from tests.trees import digest_tree, forge_manifest

needs_azurite = pytest.mark.azurite

RUNS = {
    "document-jsonl": ("document", "-p", "user", "-q", 1200, "--format", "jsonl"),
    "document-json": ("document", "-p", "org", "-q", 30),
    "document-csv": ("document", "-p", "job", "-q", 1100, "--format", "csv"),
    "journey": ("journey", "-p", "job_lifecycle", "-q", 25),
    "populate": ("populate", "scenarios/dev/dev.yaml"),
}
SEED = ("--seed", 5)


def folder_run(run, tmp_path: Path, case: str) -> Path:
    """The run ``case`` into a folder: the folder that holds its run(s)."""
    out = tmp_path / "folder"
    result = run(*RUNS[case], *SEED, "--to", out, "--quiet")
    assert result.exit_code == 0, result.output
    (child,) = out.iterdir()
    return child


@pytest.mark.parametrize("case", list(RUNS))
def test_a_zip_target_gets_the_zip_publish_makes_of_the_folder_run(run, tmp_path, case):
    folder = folder_run(run, tmp_path, case)
    published = tmp_path / "published.zip"
    # publish names a zip's files by their path under SOURCE: a populate run's from its parent
    source = folder.parent if case == "populate" else folder
    assert run("publish", source, "--to", published).exit_code == 0
    direct = tmp_path / "direct.zip"
    result = run(*RUNS[case], *SEED, "--to", direct, "--quiet")
    assert result.exit_code == 0, result.output
    assert direct.read_bytes() == published.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["direct.zip", "folder", "published.zip"]


@needs_azurite
@pytest.mark.parametrize("case", list(RUNS))
def test_a_blob_target_gets_the_folder_runs_files(run, tmp_path, azurite, monkeypatch, case):
    folder = folder_run(run, tmp_path, case)
    expected = digest_tree(folder.parent if case == "populate" else folder)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    name = azurite.new_container_name()
    result = run(*RUNS[case], *SEED, "--to", f"azure://{name}/runs", "--quiet")
    assert result.exit_code == 0, result.output
    assert blob_digests(azurite, name, "runs/") == expected


def blob_digests(azurite: Azurite, container: str, prefix: str) -> dict[str, str]:
    client = azurite.container(container)
    return {
        blob.name[len(prefix) :]: hashlib.sha256(
            client.download_blob(blob.name).readall()
        ).hexdigest()
        for blob in client.list_blobs(name_starts_with=prefix)
    }


def interrupted_beside_a_run(run, tmp_path: Path) -> Path:
    """``out/org`` (a run) beside ``out/.datagen-partial-user-…`` (a run cut short).

    The hidden folder holds what an interrupted run leaves, its manifest even
    vouching for its files: it is still not a run.
    """
    out = tmp_path / "out"
    for provider in ("org", "user"):
        args = ("document", "-p", provider, "-q", 3, "--seed", 1, "--to", out, "--quiet")
        assert run(*args).exit_code == 0
    partial = out / ".datagen-partial-user-abcd1234"
    shutil.move(out / "user", partial)
    forge_manifest(partial)
    return out


def test_a_zip_target_skips_an_interrupted_run(run, tmp_path):
    out = interrupted_beside_a_run(run, tmp_path)
    result = run("publish", out, "--to", tmp_path / "all.zip")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "all.zip") as archive:
        assert [name.split("/")[0] for name in archive.namelist()] == ["org"] * 4


@needs_azurite
def test_a_blob_target_skips_an_interrupted_run(run, tmp_path, azurite, monkeypatch):
    out = interrupted_beside_a_run(run, tmp_path)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    name = azurite.new_container_name()
    result = run("publish", out, "--to", f"azure://{name}")
    assert result.exit_code == 0, result.output
    assert sorted(blob_digests(azurite, name, "")) == [
        "org/manifest.json",
        "org/org-000001.json",
        "org/org-000002.json",
        "org/org-000003.json",
    ]


def dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return list(connection.iterdump())


@pytest.mark.parametrize("journey", ["job_lifecycle", "starfleet", "user_onboarding"])
def test_journeys_into_a_database_are_the_rows_publish_writes(run, tmp_path, journey):
    args = ("journey", "-p", journey, "-q", 40, *SEED)
    streamed = tmp_path / "streamed.db"
    result = run(*args, "--to", f"sqlite:///{streamed}")
    assert result.exit_code == 0, result.output
    assert run(*args, "--to", tmp_path / "out", "--quiet").exit_code == 0
    published = tmp_path / "published.db"
    assert run("publish", tmp_path / "out", "--to", f"sqlite:///{published}").exit_code == 0
    assert dump(streamed) == dump(published)
    assert result.output.splitlines()[-1].startswith("Written: ")
