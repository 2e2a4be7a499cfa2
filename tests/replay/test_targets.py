"""Replay into real targets: HTTP server, SQLite, PostgreSQL, MariaDB, folders, Azurite."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, text

from datagen.errors import SinkError
from datagen.replay import replay
from datagen.replay.source import load_journeys
from tests.azurite import Azurite
from tests.replay.conftest import Recorder


def steps_of(journeys: Path) -> list[tuple[str, int, str, dict]]:
    """(journey id, step index, type, document) of every step, from the zips themselves."""
    found = []
    for path in sorted(journeys.glob("*.zip")):
        with zipfile.ZipFile(path) as archive:
            metadata = json.loads(archive.read("metadata.json"))
            for step in metadata["steps"]:
                document = json.loads(archive.read(step["file"]))
                found.append((path.stem, step["index"], step["document_type"], document))
    return found


def test_http_posts_each_document_with_its_type_and_headers(
    journeys: Path, http_server: Recorder
) -> None:
    report = replay(
        journeys,
        to=f"{http_server.url}/api/{{type}}?v=1",
        speed=None,
        concurrency=3,
        headers={"Authorization": "Bearer s3cret"},
    )
    expected = steps_of(journeys)
    assert report.ok and report.steps_written == len(expected)
    received = {r.headers["Idempotency-Key"]: r for r in http_server.received}
    assert len(http_server.received) == len(received) == len(expected)
    for journey, index, kind, document in expected:
        request = received[f"{journey}:{index}"]
        assert request.path == f"/api/{kind}?v=1"
        assert request.body == document
        assert request.headers["Authorization"] == "Bearer s3cret"
        assert request.headers["Content-Type"] == "application/json"


def test_http_5xx_is_retried_and_4xx_fails_the_step(journeys: Path, http_server: Recorder) -> None:
    one = sorted(journeys.glob("*.zip"))[0]
    http_server.answers = [503, 502]
    report = replay(one, to=f"{http_server.url}/{{type}}", speed=None, concurrency=1, backoff=0.01)
    assert report.ok and report.retries == 2
    assert len(http_server.received) == len(load_journeys(one)[0].steps)

    http_server.received.clear()
    http_server.answers = [400]
    report = replay(one, to=f"{http_server.url}/{{type}}", speed=None, concurrency=1)
    assert report.retries == 0
    assert [(f.journey, f.step) for f in report.failures] == [(one.stem, 0)]
    assert "answered HTTP 400 for /user" in report.failures[0].error
    assert http_server.received == []  # the rest of the journey was skipped
    assert report.skipped == len(load_journeys(one)[0].steps) - 1


def test_http_unreachable_fails_before_any_write(journeys: Path) -> None:
    with pytest.raises(SinkError) as error:
        replay(journeys, to="http://127.0.0.1:9/{type}", speed=None)
    assert str(error.value).startswith("cannot reach 127.0.0.1:9: Connection refused")


def test_http_failing_after_retries_leaves_a_checkpoint(
    journeys: Path, http_server: Recorder, tmp_path: Path
) -> None:
    one = sorted(journeys.glob("*.zip"))[0]
    http_server.answers = [503, 503, 503]
    report = replay(
        one, to=f"{http_server.url}/{{type}}", speed=None, retries=2, backoff=0.01,
        checkpoint=tmp_path / "ck.json",
    )  # fmt: skip
    assert report.retries == 2
    assert [(f.journey, f.step, f.error) for f in report.failures] == [
        (one.stem, 0, f"{http_server.url.removeprefix('http://')} answered HTTP 503 for /user")
    ]
    assert report.checkpoint == str(tmp_path / "ck.json")
    http_server.answers = []
    resumed = replay(one, to=f"{http_server.url}/{{type}}", speed=None, resume=tmp_path / "ck.json",
                     checkpoint=tmp_path / "ck.json")  # fmt: skip
    assert resumed.ok and resumed.steps_written == len(load_journeys(one)[0].steps)
    assert not (tmp_path / "ck.json").exists()  # complete: nothing left to resume


def database_rows(url: str, table: str) -> list[tuple]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return sorted(
                tuple(row)
                for row in conn.execute(text(f"SELECT id, journey_id, step_index FROM {table}"))
            )
    finally:
        engine.dispose()


def check_database(url: str, journeys: Path) -> None:
    expected = steps_of(journeys)
    first = replay(journeys, to=url, speed=None, concurrency=2)
    assert first.ok and first.steps_written == len(expected)
    users = database_rows(url, "job_status")
    second = replay(journeys, to=url, speed=None, concurrency=2)  # idempotent
    assert second.ok
    assert database_rows(url, "job_status") == users
    metadata = {
        p.stem: json.loads(zipfile.ZipFile(p).read("metadata.json")) for p in journeys.glob("*.zip")
    }
    assert users == sorted(
        (doc["id"], metadata[journey]["user_id"], index)
        for journey, index, kind, doc in expected
        if kind == "job_status"
    )


def test_sqlite_end_to_end(journeys: Path, tmp_path: Path) -> None:
    check_database(f"sqlite:///{tmp_path / 'staging.db'}", journeys)


@pytest.mark.postgres
def test_postgres_end_to_end(journeys: Path, postgres_db: str) -> None:
    check_database(postgres_db, journeys)


@pytest.mark.mariadb
def test_mariadb_end_to_end(journeys: Path, mariadb_db: str) -> None:
    check_database(mariadb_db, journeys)


def test_folder_target_gets_each_document(journeys: Path, tmp_path: Path) -> None:
    report = replay(journeys, to=str(tmp_path / "out"), speed=None)
    assert report.ok
    for journey, index, kind, document in steps_of(journeys):
        (file,) = (tmp_path / "out" / journey).glob(f"*{index:03d}-{kind}.json")
        assert orjson.loads(file.read_bytes()) == document


@pytest.mark.azurite
def test_azurite_source_and_target(
    journeys: Path, azurite: Azurite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    source = azurite.new_container_name("journeys")
    container = azurite.service().create_container(source)
    for path in sorted(journeys.glob("*.zip"))[:4]:
        container.upload_blob(f"runs/{path.name}", path.read_bytes())
    container.upload_blob("elsewhere/x.zip", b"not under the prefix")

    target = azurite.new_container_name("staging")
    report = replay(f"azure://{source}/runs", to=f"azure://{target}/replayed", speed=None)
    assert report.ok and report.journeys == 4
    blobs = {b.name: b for b in azurite.container(target).list_blobs()}
    assert len(blobs) == report.steps_written
    for journey in load_journeys(f"azure://{source}/runs"):
        for step in journey.steps:
            name = f"replayed/{journey.id}/{step.file}"
            assert azurite.container(target).download_blob(name).readall() == step.data
            assert blobs[name].content_settings.content_type == "application/json"


def test_replay_and_publish_store_the_same_rows(journeys: Path, tmp_path: Path) -> None:
    from datagen.publish import publish

    published, replayed = tmp_path / "published.db", tmp_path / "replayed.db"
    publish(journeys, to=f"sqlite:///{published}")
    assert replay(journeys, to=f"sqlite:///{replayed}", speed=None).ok

    def contents(path: Path) -> dict[str, list[tuple]]:
        engine = create_engine(f"sqlite:///{path}")
        with engine.connect() as conn:
            query = "SELECT name FROM sqlite_master WHERE type = 'table'"
            tables = [r[0] for r in conn.execute(text(query))]
            found = {
                t: sorted(conn.execute(text(f'SELECT * FROM "{t}"')).all(), key=repr)
                for t in tables
            }
        engine.dispose()
        return found

    expected = contents(published)
    keys = {(kind, doc["id"]) for _, _, kind, doc in steps_of(journeys)}  # a job_run is updated
    assert sum(map(len, expected.values())) == len(keys)
    assert contents(replayed) == expected
