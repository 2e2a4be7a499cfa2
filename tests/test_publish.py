"""publish and --to: runs into SQLite (embedded), zips and folders, end to end."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from tests.trees import forge_manifest


def org_jsonl(run, to: Path) -> None:
    """Three org documents, seed 1, as a JSONL run under ``to``."""
    args = ("-p", "org", "-q", "3", "--seed", "1", "--format", "jsonl", "--quiet")
    assert run("document", *args, "--to", to).exit_code == 0


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def test_publish_jsonl_run_to_sqlite_is_idempotent(run, tmp_path):
    assert (
        run(
            "document",
            "-p",
            "org",
            "-q",
            "1200",
            "--seed",
            "2",
            "--format",
            "jsonl",
            "--to",
            tmp_path / "out",
            "--quiet",
        ).exit_code
        == 0
    )
    db = tmp_path / "dev.db"
    for _ in range(2):
        result = run("publish", tmp_path / "out", "--to", f"sqlite:///{db}")
        assert result.exit_code == 0, result.output
        assert result.output.strip() == f"Published to sqlite:///{db}: org: 1200"
    assert rows(db, "select count(*) from org") == [(1200,)]
    lines = (tmp_path / "out" / "org" / "org.jsonl").read_bytes().splitlines()
    first = orjson.loads(lines[0])
    [(name, seats, settings)] = rows(
        db, f"select name, seats, settings from org where id = '{first['id']}'"
    )
    assert (name, seats) == (first["name"], first["seats"])
    assert json.loads(settings) == first["settings"]


def test_document_to_sqlite_streams_the_same_rows_as_publishing_files(run, tmp_path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    result = run(
        "document",
        "-p",
        "user",
        "-q",
        "1500",
        "--seed",
        "3",
        "--to",
        f"sqlite:///{a}",
        "--workers",
        "2",
    )
    assert result.exit_code == 0, result.output
    assert "Written: user: 1500" in result.output
    run(
        "document",
        "-p",
        "user",
        "-q",
        "1500",
        "--seed",
        "3",
        "--format",
        "jsonl",
        "--to",
        tmp_path / "files",
        "--quiet",
    )
    assert run("publish", tmp_path / "files", "--to", f"sqlite:///{b}").exit_code == 0
    query = "select * from user order by id"
    assert rows(a, query) == rows(b, query)
    assert len(rows(a, query)) == 1500


def test_journeys_go_to_their_document_tables_with_journey_id_and_step(run, tmp_path):
    db = tmp_path / "j.db"
    result = run("journey", "-p", "starfleet", "-q", "20", "--seed", "5", "--to", f"sqlite:///{db}")
    assert result.exit_code == 0, result.output
    run("journey", "-p", "starfleet", "-q", "20", "--seed", "5", "--to", tmp_path / "j", "--quiet")
    manifest = json.loads((tmp_path / "j" / "starfleet" / "manifest.json").read_text())
    counts = manifest["counts"]
    for table in ("starfleet_account", "starfleet_login", "starfleet_claim"):
        assert rows(db, f"select count(*) from {table}") == [(counts[table],)]
    accounts = rows(db, "select id, journey_id, step_index from starfleet_account")
    assert all(id_ == journey and step == 0 for id_, journey, step in accounts)
    claims = rows(db, "select account_id, journey_id from starfleet_claim")
    assert all(account == journey for account, journey in claims)


def test_reset_empties_the_tables_it_writes(run, tmp_path):
    db = tmp_path / "r.db"
    run("document", "-p", "org", "-q", "30", "--seed", "1", "--to", f"sqlite:///{db}")
    run("document", "-p", "org", "-q", "10", "--seed", "2", "--to", f"sqlite:///{db}")
    assert rows(db, "select count(*) from org") == [(40,)]
    run("document", "-p", "org", "-q", "10", "--seed", "2", "--to", f"sqlite:///{db}", "--reset")
    assert rows(db, "select count(*) from org") == [(10,)]


def test_publish_to_a_zip_and_a_folder(run, tmp_path):
    run("journey", "-p", "starfleet", "-q", "2", "--seed", "1", "--to", tmp_path / "j", "--quiet")
    result = run("publish", tmp_path / "j", "--to", tmp_path / "all.zip")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "all.zip") as archive:
        names = archive.namelist()
    assert "starfleet/manifest.json" in names and len(names) == 5
    result = run("publish", tmp_path / "j" / "starfleet", "--to", tmp_path / "copy")
    assert result.exit_code == 0, result.output
    assert run("verify", tmp_path / "copy" / "starfleet").exit_code == 0


def test_publishing_a_csv_run_to_a_database_is_refused(run, tmp_path):
    run(
        "document",
        "-p",
        "org",
        "-q",
        "3",
        "--seed",
        "1",
        "--format",
        "csv",
        "--to",
        tmp_path,
        "--quiet",
    )
    result = run("publish", tmp_path, "--to", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: {tmp_path / 'org'}: publishing csv runs to a database is not supported; "
        "nothing was written (regenerate with --format jsonl (csv loses the types), or "
        "publish the other runs on their own)"
    )


def test_a_line_that_is_not_json_is_named(run, tmp_path):
    run("document", "-p", "org", "-q", "5", "--format", "jsonl", "--to", tmp_path, "--quiet")
    jsonl = tmp_path / "org" / "org.jsonl"
    lines = jsonl.read_bytes().splitlines(keepends=True)
    jsonl.write_bytes(b"".join(lines[:3] + [b"\n", b'{"id": "x", oops}\n'] + lines[3:]))
    forge_manifest(tmp_path / "org")  # else the changed file is refused before it is read
    result = run("publish", tmp_path, "--to", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.exit_code == 2
    last = result.output.splitlines()[-1]
    assert last.startswith(f"Error: {jsonl}:5: not a JSON document (")


def published_equal_to_the_jsonl(run, tmp_path, url: str) -> None:
    """Publish a jsonl run twice to ``url``: the table holds exactly its documents."""
    from datagen.sinks.reading import read_rows
    from datagen.sinks.dialects import decode
    from datagen.tables import table_for

    out = tmp_path / "out"
    args = ("-p", "org", "-q", "2500", "--seed", "4", "--format", "jsonl", "--quiet")
    assert run("document", *args, "--to", out).exit_code == 0
    for reset in ("--reset", None):  # the second run meets every key again
        result = run("publish", out, "--to", url, *([reset] if reset else []))
        assert result.exit_code == 0, result.output
        assert result.output.strip().endswith(": org: 2500")
    table = table_for("org")
    lines = (out / "org" / "org.jsonl").read_bytes().splitlines()

    def typed(doc: dict) -> dict:  # as read back: JSON decoded, timestamps datetimes
        return {
            c.name: doc.get(c.name) if c.type == "json" else decode(c.type, doc.get(c.name))
            for c in table.columns
        }

    expected = sorted(map(typed, map(orjson.loads, lines)), key=lambda doc: doc["id"])
    assert len(expected) == 2500 and isinstance(expected[0]["created_at"], datetime)
    assert read_rows(url, table) == expected


@pytest.mark.postgres
def test_publish_jsonl_to_postgres(run, tmp_path, postgres_url):
    published_equal_to_the_jsonl(run, tmp_path, postgres_url)


@pytest.mark.mariadb
def test_publish_jsonl_to_mariadb(run, tmp_path, mariadb_url):
    published_equal_to_the_jsonl(run, tmp_path, mariadb_url)


def test_publish_jsonl_to_sqlite(run, tmp_path):
    published_equal_to_the_jsonl(run, tmp_path, f"sqlite:///{tmp_path / 'p.db'}")


def test_a_scenario_folder_publishes_parents_first_with_foreign_keys(run, tmp_path):
    # Its runs are found in name order (engine before org): publish must write org first.
    folder = tmp_path / "out"
    assert run("populate", "scenarios/dev/dev.yaml", "--to", folder, "--quiet").exit_code == 0
    database = f"sqlite:///{tmp_path / 'dev.db'}"
    result = run("publish", folder / "dev", "--to", database, "--foreign-keys")
    assert result.exit_code == 0, result.output
    verified = run("verify-target", "scenarios/dev/dev.yaml", "--to", database)
    assert verified.exit_code == 0, verified.output


def test_an_unknown_scheme_is_refused_without_writing_or_printing_the_password(run, tmp_path):
    run("document", "-p", "org", "-q", "3", "--seed", "1", "--to", tmp_path / "d")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        result = run("publish", tmp_path / "d", "--to", "oracle://u:s3cret@h/x")
    assert result.exit_code == 2
    assert "unsupported target 'oracle://u:***@h/x'" in result.output
    assert "s3cret" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


@pytest.mark.parametrize("to", ["sqlite:///", "sqlite:///:memory:"])
def test_an_in_memory_sqlite_target_is_refused(run, tmp_path, to):
    run("document", "-p", "org", "-q", "3", "--seed", "1", "--to", tmp_path / "d")
    result = run("publish", tmp_path / "d", "--to", to)
    assert result.exit_code == 2
    assert "names no database file" in result.output


@pytest.mark.parametrize("inside", ["d/org/copy", "d", "d/all.zip"])
def test_a_target_inside_the_source_is_refused(run, tmp_path, inside):
    run("document", "-p", "org", "-q", "3", "--seed", "1", "--to", tmp_path / "d")
    before = sorted(str(p) for p in (tmp_path / "d").rglob("*"))
    result = run("publish", tmp_path / "d", "--to", tmp_path / inside)
    assert result.exit_code == 2
    assert (
        result.output.strip()
        .splitlines()[-1]
        .endswith("publishing would copy the copy (choose a target outside the source folder)")
    )
    assert sorted(str(p) for p in (tmp_path / "d").rglob("*")) == before


def test_runs_are_found_at_any_depth(run, tmp_path):
    org_jsonl(run, tmp_path / "out/documents")
    run("journey", "-p", "starfleet", "-q", "2", "--seed", "1", "--to", tmp_path / "out/journeys")
    db = tmp_path / "all.db"
    result = run("publish", tmp_path / "out", "--to", f"sqlite:///{db}")
    assert result.exit_code == 0, result.output
    assert rows(db, "select count(*) from org") == [(3,)]
    assert rows(db, "select count(*) from starfleet_account") == [(2,)]


def test_foreign_keys_hold_across_batches_of_journey_steps(run, tmp_path, monkeypatch):
    import datagen.publish

    monkeypatch.setattr(datagen.publish, "BATCH", 3)  # children's batches fill before parents'
    run("journey", "-p", "user_onboarding", "-q", "6", "--seed", "4", "--to", tmp_path / "j")
    db = tmp_path / "fk.db"
    result = run("publish", tmp_path / "j", "--to", f"sqlite:///{db}", "--foreign-keys")
    assert result.exit_code == 0, result.output
    assert rows(db, "select count(*) from org") == [(6,)]
    assert rows(db, "select count(*) from user where org_id not in (select id from org)") == [(0,)]


def test_documents_and_journeys_of_one_type_share_a_table_with_journey_columns(run, tmp_path):
    org_jsonl(run, tmp_path / "m/z")
    run("journey", "-p", "user_onboarding", "-q", "2", "--seed", "1", "--to", tmp_path / "m/a")
    db = tmp_path / "m.db"
    assert run("publish", tmp_path / "m", "--to", f"sqlite:///{db}").exit_code == 0
    assert rows(db, "select count(*) from org where journey_id is null") == [(3,)]
    assert rows(db, "select count(*) from org where journey_id is not null") == [(2,)]
