"""publish checks every run against its manifest before it writes anything, to any target.

Issue 13: a truncated JSONL left rows committed in PostgreSQL; a zip or blob
target published files that did not match their manifest; a CSV run was
refused after the other runs were written; damaged journey zips gave raw
tracebacks; a zip bomb took 2.1 GB; `--to existing.zip` replaced a file that
was not ours; a kill -9 leftover was packed into the zip; `publish output`
uploaded `output/*.db`.
"""

from __future__ import annotations

import io
import json
import sqlite3
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from datagen.journey_generator import build_zip
from tests.azurite import Azurite
from tests.processes import run_measured
from tests.trees import forge_manifest


def org_run(run, to: Path, quantity: int = 5) -> Path:
    args = ("-p", "org", "-q", quantity, "--seed", "2", "--format", "jsonl", "--quiet")
    assert run("document", *args, "--to", to).exit_code == 0
    return to / "org"


def journey_run(run, to: Path, quantity: int = 3) -> Path:
    args = ("-p", "job_lifecycle", "-q", quantity, "--seed", "2", "--quiet")
    assert run("journey", *args, "--to", to).exit_code == 0
    return to / "job_lifecycle"


def cut_line(path: Path, line: int) -> None:
    """Cut ``path`` in the middle of line ``line`` (1-based), as a copy cut short would."""
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: line - 1]) + lines[line - 1][:20])


def tables(db: Path) -> list[str]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as connection:
        return [name for (name,) in connection.execute("select name from sqlite_master")]


@pytest.mark.postgres
def test_a_truncated_jsonl_writes_no_row_into_postgresql(run, tmp_path, postgres_db, monkeypatch):
    """Was: 150,000 of 300,000 rows committed before the cut line failed (exit 1)."""
    import datagen.publish
    from sqlalchemy import create_engine, inspect

    monkeypatch.setattr(datagen.publish, "BATCH", 1000)  # the cut line comes after 4 batches
    run_folder = org_run(run, tmp_path / "d", 5000)
    cut_line(run_folder / "org.jsonl", 4001)
    result = run("publish", tmp_path / "d", "--to", postgres_db)
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: {run_folder / 'org.jsonl'} does not match its manifest (SHA-256 differs): the "
        "run was changed or cut short; nothing was published (generate it again; 'python "
        f"generate.py verify {run_folder}' lists every file that differs)"
    )
    engine = create_engine(postgres_db.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("target", ["all.zip", "folder", "sqlite:///{tmp}/x.db"])
def test_a_changed_file_is_refused_for_every_target(run, tmp_path, target):
    org_run(run, tmp_path / "runs")
    changed = journey_run(run, tmp_path / "runs")
    first = sorted(changed.glob("*.metadata.json"))[0]
    first.write_bytes(first.read_bytes().replace(b'"seed"', b'"Seed"'))
    to = target.replace("{tmp}", str(tmp_path))
    result = run("publish", tmp_path / "runs", "--to", to if "://" in to else tmp_path / to)
    assert result.exit_code == 2
    assert f"Error: {first} does not match its manifest (SHA-256 differs)" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]  # no zip, folder or db


@pytest.mark.parametrize(
    "command, target",
    [
        ("publish", "folder"),
        ("publish", "all.zip"),
        ("publish", "sqlite:///{tmp}/x.db"),
        ("verify", None),
    ],
)
def test_an_unknown_format_is_refused_as_such(run, tmp_path, command, target):
    """Was: published (exit 0), 'xml runs to a database is not supported', or verify DIFFERS."""
    run_folder = org_run(run, tmp_path / "runs")
    manifest = run_folder / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"format": "jsonl"', '"format": "xml"'))
    args = [command, tmp_path / "runs"]
    if target is not None:
        to = target.replace("{tmp}", str(tmp_path))
        args += ["--to", to if "://" in to else tmp_path / to]
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [
        f"Error: {manifest}: unknown format 'xml'; known for a documents run: json, jsonl, csv "
        "(correct the manifest's format, or generate the run again)"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]  # no folder, zip or db


def test_a_missing_file_is_named(run, tmp_path):
    run_folder = journey_run(run, tmp_path / "runs")
    gone = sorted(run_folder.glob("*.zip"))[1]
    gone.unlink()
    result = run("publish", tmp_path / "runs", "--to", tmp_path / "all.zip")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: {gone} is listed in {run_folder / 'manifest.json'} but missing: the run is "
        "incomplete; nothing was published (generate the run again)"
    )
    assert not (tmp_path / "all.zip").exists()


@pytest.mark.azurite
def test_blobs_get_only_runs_files_that_match_their_manifest(
    run, tmp_path, azurite: Azurite, monkeypatch
):
    """Was: a run whose files did not match was uploaded, and so was output/*.db."""
    output = tmp_path / "output"
    run_folder = org_run(run, output / "documents")
    (output / "demo.db").write_bytes(b"SQLite format 3\0")
    (output / "documents" / ".datagen-partial-org-abcd1234").mkdir()
    (output / "documents" / ".datagen-partial-org-abcd1234" / "org.jsonl").write_text("{}\n")
    container = azurite.new_container_name()
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)

    def publish() -> int:
        return run("publish", output, "--to", f"azure://{container}/p").exit_code

    (run_folder / "org.jsonl").write_bytes((run_folder / "org.jsonl").read_bytes() + b"{}\n")
    assert publish() == 2
    assert container not in [c.name for c in azurite.service().list_containers()]
    forge_manifest(run_folder)
    assert publish() == 0
    names = sorted(blob.name for blob in azurite.container(container).list_blobs())
    assert names == ["p/documents/org/manifest.json", "p/documents/org/org.jsonl"]


def test_a_csv_run_is_refused_before_any_other_run_is_written(run, tmp_path):
    """Was: the other runs went into the database first, then the CSV run was refused."""
    org_run(run, tmp_path / "runs" / "a")
    args = ("-p", "user", "-q", "3", "--seed", "2", "--format", "csv", "--quiet")
    assert run("document", *args, "--to", tmp_path / "runs" / "b").exit_code == 0
    db = tmp_path / "x.db"
    result = run("publish", tmp_path / "runs", "--to", f"sqlite:///{db}")
    assert result.exit_code == 2
    assert "publishing csv runs to a database is not supported; nothing was written" in (
        result.output
    )
    assert tables(db) == []


def test_an_existing_zip_is_replaced_only_if_publish_wrote_it(run, tmp_path):
    org_run(run, tmp_path / "runs")
    notes = tmp_path / "notes.zip"
    notes.write_text("my notes, not a zip")
    foreign = tmp_path / "photos.zip"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("cat.jpg", b"\xff\xd8")
    other = tmp_path / "app.zip"  # was replaced: any zip holding a manifest.json passed as ours
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("manifest.json", b'{"name": "someone else\'s app"}')
        archive.writestr("plugin/manifest.json", b"{}")
    for path in (notes, foreign, other):
        before = path.read_bytes()
        result = run("publish", tmp_path / "runs", "--to", path)
        assert result.exit_code == 2
        assert result.output.splitlines()[-1] == (
            f"Error: {path} exists and is not a zip of runs written by publish; it is left as "
            "it is (remove it first, or choose another name)"
        )
        assert path.read_bytes() == before
    ours = tmp_path / "ours.zip"
    for _ in range(2):  # made, then replaced
        assert run("publish", tmp_path / "runs", "--to", ours).exit_code == 0
    with zipfile.ZipFile(ours) as archive:
        assert archive.namelist() == ["org/manifest.json", "org/org.jsonl"]


def rewrite_zip(path: Path, change) -> None:
    """Rewrite the journey zip ``path`` with ``change(entries)`` applied (a dict name -> bytes)."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    change(entries)
    path.write_bytes(build_zip(list(entries.items())))


def first_step(entries: dict[str, bytes]) -> str:
    return json.loads(entries["metadata.json"])["steps"][0]["file"]


DAMAGES = {
    "not a zip": (lambda path: path.write_bytes(b"PK\x03\x04 but no zip"), "not a zip file"),
    "missing entry": (
        lambda path: rewrite_zip(path, lambda e: e.pop(first_step(e))),
        "step 0 names the file '000-user.json', which is missing from the zip",
    ),
    "damaged step": (
        lambda path: path.write_bytes(
            path.read_bytes().replace(b'"id"', b'"iX"', 1)  # a stored entry: its CRC fails
        ),
        "zip entry '000-user.json' is damaged (Bad CRC-32 for file '000-user.json')",
    ),
    "step not json": (
        lambda path: rewrite_zip(path, lambda e: e.update({first_step(e): b"not json"})),
        "step 0's file '000-user.json' is not a JSON object",
    ),
    "metadata version 99": (
        lambda path: rewrite_zip(
            path,
            lambda e: e.update(
                {
                    "metadata.json": e["metadata.json"].replace(
                        b'"metadata_version": 1', b'"metadata_version": 99'
                    )
                }  # noqa: E501
            ),
        ),
        "metadata version 99 is not supported (this datagen reads version 1) (replay it with "
        "the datagen version that generated it)",
    ),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_bad_journey_zip_vouched_for_by_its_manifest_is_one_line_and_writes_nothing(
    run, tmp_path, damage
):
    """Was: raw tracebacks (orjson, BadZipFile, KeyError) and empty tables; version 99 went in."""
    run_folder = journey_run(run, tmp_path / "runs")
    zip_path = sorted(run_folder.glob("*.zip"))[1]
    spoil, message = DAMAGES[damage]
    spoil(zip_path)
    forge_manifest(run_folder)
    db = tmp_path / "x.db"
    result = run("publish", tmp_path / "runs", "--to", f"sqlite:///{db}")
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[-1] == f"Error: {zip_path}: {message}"
    assert tables(db) == []


GIB = 1 << 30


@pytest.fixture(scope="module")
def bomb_entry() -> bytes:
    """A deflated stream of 1 GiB of zeros (about 1 MB), made once: the bomb's payload."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("000-user.json")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as handle:
            block = bytes(8 << 20)
            for _ in range(GIB // len(block)):
                handle.write(block)
    return buffer.getvalue()


def plant_bomb(zip_path: Path, bomb: bytes) -> None:
    """Make ``zip_path``'s first step the 1 GiB entry: the bomb's zip, the other entries added."""
    with zipfile.ZipFile(zip_path) as archive:
        others = [(info, archive.read(info)) for info in archive.infolist()]
    out = io.BytesIO(bomb)
    with zipfile.ZipFile(out, "a") as archive:
        for info, data in others:
            if info.filename != "000-user.json":
                archive.writestr(info, data)
    zip_path.write_bytes(out.getvalue())


def undeflatable(bomb: bytes) -> bytes:
    """``bomb`` with its entry's first deflate byte made a reserved block type (0b11).

    Its sizes are the bomb's; inflating any of its data fails at once (zlib.error).
    A reader that refuses it with the bomb's message never inflated a byte of it.
    """
    name_length, extra_length = struct.unpack_from("<HH", bomb, 26)  # its local file header
    start = 30 + name_length + extra_length
    return bomb[:start] + b"\xff" + bomb[start + 1 :]


def test_the_bomb_is_what_it_claims(tmp_path, bomb_entry):
    with zipfile.ZipFile(io.BytesIO(bomb_entry)) as archive:
        [info] = archive.infolist()
    assert info.file_size == GIB and len(bomb_entry) < 2 << 20
    with zipfile.ZipFile(io.BytesIO(undeflatable(bomb_entry))) as archive:
        assert archive.getinfo("000-user.json").file_size == GIB
        with pytest.raises(zlib.error, match="invalid block type"):
            archive.open("000-user.json").read(1)


@pytest.mark.parametrize("payload", ["bomb", "undeflatable"])
@pytest.mark.parametrize("command", ["publish", "replay"])
def test_a_zip_bomb_is_refused_from_its_declared_sizes(run, tmp_path, bomb_entry, command, payload):
    """Was: 2.1 GB of memory and 4-7 s in both publish and replay before it was refused.

    Refused before inflating, as the same message for a payload that cannot be
    inflated shows (was a wall-clock bound); in little memory, for the real bomb.
    """
    run_folder = journey_run(run, tmp_path / "runs", 2)
    zip_path = sorted(run_folder.glob("*.zip"))[0]
    plant_bomb(zip_path, bomb_entry if payload == "bomb" else undeflatable(bomb_entry))
    forge_manifest(run_folder)
    db = tmp_path / "x.db"
    args = [command, tmp_path / "runs", "--to", f"sqlite:///{db}"]
    done = run_measured([*args, "--speed", "max"] if command == "replay" else args, cwd=tmp_path)
    assert done.returncode == 2, done
    assert done.stderr == (
        f"Error: {zip_path}: zip entry '000-user.json' would inflate to 1,073,741,824 bytes, "
        "more than a journey's document may be (16,777,216); refused unread (a zip bomb?)\n"
    )
    assert done.peak_mib < 200, done  # 1 GiB was neither held nor (see undeflatable) inflated
    assert tables(db) == []
