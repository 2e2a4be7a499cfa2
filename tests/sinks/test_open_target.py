"""One target protocol: ``open_target`` for every ``--to``, a context manager that aborts."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from datagen.errors import InputError
from datagen.formats import Chunk
from datagen.sinks.base import Column, TableSpec, Target
from datagen.sinks.backends import SQLiteSink
from datagen.sinks.files import FolderTarget, ZipTarget
from datagen.sinks.open import open_target
from datagen.sinks.sqlite_bulk import SQLiteBulkLoad
from datagen.sinks.urls import BLOB, DATABASE, FOLDER, HTTP, OTHER, ZIP, target_kind

TABLE = TableSpec("thing", "id", (Column("id", "text", nullable=False), Column("n", "integer")))


def test_every_kind_of_to_is_read_in_one_place() -> None:
    assert target_kind("output/x") == FOLDER
    assert target_kind(Path("out.zip")) == ZIP
    assert target_kind("sqlite:///x.db") == DATABASE
    assert target_kind("mariadb://root@h/db") == DATABASE
    assert target_kind("azure://data/p") == BLOB
    assert target_kind("http://127.0.0.1:10000/devstoreaccount1/data") == BLOB
    assert target_kind("http://127.0.0.1:8080/{type}", replay=True) == HTTP
    assert target_kind("ftp://h/x") == OTHER


def test_open_target_gives_one_protocol(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert type(open_target(url)) is SQLiteSink
    assert type(open_target(url, bulk=True)) is SQLiteBulkLoad
    assert isinstance(open_target(tmp_path / "f"), FolderTarget)
    assert isinstance(open_target(tmp_path / "f.zip"), ZipTarget)
    for target in (open_target(url), open_target(tmp_path / "f.zip")):
        assert isinstance(target, Target)
    with pytest.raises(InputError, match=r"unsupported target 'ftp://u:\*\*\*@h/x'"):
        open_target("ftp://u:secret@h/x")


def test_a_zip_target_aborts_on_an_exception_and_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "runs.zip"
    with pytest.raises(RuntimeError):
        with open_target(path) as target:
            target.prepare()
            target.add(Chunk("a/b.json", b"{}", whole=True))
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    with open_target(path) as target:
        target.prepare()
        target.add(Chunk("a/b.jsonl", b"1\n"))
        target.add(Chunk("a/b.jsonl", b"2\n"))
        target.commit()
    assert target.summary.written == {"runs.zip": 1}
    with zipfile.ZipFile(path) as archive:
        assert archive.read("a/b.jsonl") == b"1\n2\n"


def test_a_bulk_database_target_rolls_back_on_an_exception(tmp_path: Path) -> None:
    database = tmp_path / "bulk.db"
    with pytest.raises(RuntimeError):
        with open_target(f"sqlite:///{database}", bulk=True) as target:
            target.prepare([TABLE])
            target.write(TABLE, [{"id": "a", "n": 1}])
            raise RuntimeError("interrupted")
    assert not database.exists()  # the file it made is removed again
    with open_target(f"sqlite:///{database}", bulk=True) as target:
        target.prepare([TABLE])
        target.write(TABLE, [{"id": "a", "n": 1}, {"id": "b", "n": 2}])
        target.commit()
    assert target.summary.written == {"thing": 2}
