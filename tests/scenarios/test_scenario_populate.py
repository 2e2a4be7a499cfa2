"""Populate: same rows whatever the workers or target, integrity enforced by the databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from datagen.scenarios.digest import TableDigest, expected_digests, verify_target
from datagen.scenarios.populate import populate, prepare
from datagen.seeding import entity_key
from datagen.sinks.connections import create_engine_for
from datagen.sinks.reading import count_rows
from datagen.sinks.dialects import parse_database_url

ROOT = Path(__file__).resolve().parents[2]
PROD = ROOT / "scenarios" / "prod_like.yaml"
DEV = ROOT / "scenarios" / "dev" / "dev.yaml"
RESOURCE_1K = ROOT / "scenarios" / "resource_1k_shared_compute.yaml"
RESOURCE_10K = ROOT / "scenarios" / "resource_10k_shared_compute.yaml"
SMALL = 0.02  # prod_like at 2 %: 40 orgs, about 2,000 rows


@pytest.fixture(scope="module")
def small_plan():
    return prepare(PROD, seed=7, scale=SMALL)


@pytest.fixture(scope="module")
def expected(small_plan):
    return {name: d.hexdigest for name, d in expected_digests(small_plan, workers=1).items()}


def sqlite_url(tmp_path: Path, name: str = "db.sqlite") -> str:
    return f"sqlite:///{tmp_path / name}"


def connect_engine(url: str) -> Engine:
    """An engine like the sinks' (SQLite: foreign keys enforced)."""
    backend, parsed = parse_database_url(url)
    return create_engine_for(backend, parsed, backend.name, url)


def query(url: str, sql: str) -> list[tuple]:
    engine = connect_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


# Determinism ---------------------------------------------------------------------------------


def test_same_rows_with_one_worker_or_two(small_plan, expected):
    two = {name: d.hexdigest for name, d in expected_digests(small_plan, workers=2).items()}
    assert two == expected


def test_same_seed_same_plan_other_seed_other_rows(small_plan, expected):
    again = prepare(PROD, seed=7, scale=SMALL)
    assert {n: d.hexdigest for n, d in expected_digests(again, workers=1).items()} == expected
    other = prepare(PROD, seed=8, scale=SMALL)
    assert {n: d.hexdigest for n, d in expected_digests(other, workers=1).items()} != expected


def test_folder_target_holds_the_same_rows(tmp_path, small_plan, expected):
    result = populate(small_plan, to=tmp_path, workers=2)
    folder = Path(result.target)
    for name, table in small_plan.tables.items():
        digest = TableDigest(table)
        with open(folder / name / f"{name}.jsonl", "rb") as handle:
            for line in handle:
                row = orjson.loads(line)
                for column in table.columns:  # JSON lines hold timestamps as ISO text
                    if column.type == "timestamp" and row.get(column.name):
                        from datetime import datetime

                        row[column.name] = datetime.fromisoformat(row[column.name])
                digest.add(row)
        assert digest.hexdigest == expected[name], name
        assert (folder / name / "manifest.json").is_file()


def test_folder_output_publishes_to_a_database(run, tmp_path, small_plan):
    populate(small_plan, to=tmp_path / "out", workers=1)
    url = sqlite_url(tmp_path)
    result = run("publish", tmp_path / "out" / "prod_like", "--to", url)
    assert result.exit_code == 0, result.output
    assert query(url, "SELECT COUNT(*) FROM job")[0][0] == small_plan.counts()["job"]


# Databases -------------------------------------------------------------------------------------


def check_database(url: str, small_plan, run) -> None:
    """Populate, verify, prove integrity is enforced, then catch a changed and a lost row."""
    result = run(
        "populate", PROD, "--to", url, "--seed", 7, "--scale", SMALL, "--reset", "--workers", 2
    )
    assert result.exit_code == 0, result.output
    counts = small_plan.counts()
    assert {table: count_rows(url, table) for table in counts} == counts
    verified = run("verify-target", PROD, "--to", url, "--seed", 7, "--scale", SMALL)
    assert verified.exit_code == 0, verified.output
    assert "holds exactly prod_like" in verified.output

    # The database itself rejects a job of an org that does not exist.
    engine = connect_engine(url)
    try:
        with pytest.raises(IntegrityError):
            with engine.begin() as conn:
                conn.execute(
                    text("INSERT INTO job (id, org_id) VALUES (:id, :org)"),
                    {"id": "not-a-job", "org": "not-an-org"},
                )
        with engine.begin() as conn:
            conn.execute(text("UPDATE job SET name = 'changed' WHERE id = :id"),
                         {"id": entity_key(7, "job", 3)})  # fmt: skip
    finally:
        engine.dispose()
    changed = run("verify-target", PROD, "--to", url, "--seed", 7, "--scale", SMALL)
    assert changed.exit_code == 1
    assert "job                 " in changed.output
    assert "DIFFERS: same row count, different content" in changed.output
    assert changed.output.strip().splitlines()[-1].endswith(": job differ")

    engine = connect_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM job_run WHERE job_id = :id"),
                         {"id": entity_key(7, "job", 5)})  # fmt: skip
    finally:
        engine.dispose()
    lost = run("verify-target", PROD, "--to", url, "--seed", 7, "--scale", SMALL)
    assert lost.exit_code == 1
    assert "job, job_run differ" in lost.output


def test_sqlite(run, tmp_path, small_plan):
    check_database(sqlite_url(tmp_path), small_plan, run)


@pytest.mark.postgres
def test_postgresql(run, postgres_url, small_plan):
    check_database(postgres_url, small_plan, run)


@pytest.mark.postgres
def test_postgresql_again_without_reset_upserts_the_same_rows(run, postgres_db, small_plan):
    """Tables populate did not create keep their keys; rows go in by upsert, all or nothing."""
    args = ("populate", PROD, "--to", postgres_db, "--seed", 7, "--scale", SMALL)
    assert run(*args, "--reset").exit_code == 0
    again = run(*args)
    assert again.exit_code == 0, again.output
    assert {table: count_rows(postgres_db, table) for table in small_plan.counts()} == (
        small_plan.counts()
    )
    verified = run("verify-target", PROD, "--to", postgres_db, "--seed", 7, "--scale", SMALL)
    assert verified.exit_code == 0, verified.output
    # Another seed's population beside the first breaks what production keeps unique (org
    # names are the locale's company names in each): the UNIQUE constraint refuses it, in the
    # one transaction, so nothing of it is written.
    other = run(*args[:-4], "--seed", 8, "--scale", SMALL)
    assert other.exit_code == 1, other.output
    assert "unique constraint 'org_" in other.output and " violated: " in other.output
    assert "nothing was written" in other.output
    assert count_rows(postgres_db, "org") == small_plan.counts()["org"]


SPLIT = """
name: split
seed: 1
entities:
  org: {count: 3}
  user: {per: org, distribution: {type: fixed, value: 2}}
  partner_org: {provider: org, count: 2}
  partner_user: {provider: user, per: partner_org, distribution: {type: fixed, value: 2}}
"""


@pytest.mark.postgres
def test_postgresql_keys_come_after_a_tables_last_rows(postgres_db, tmp_path, monkeypatch):
    """Entities sharing a table come in several runs: its keys wait for the last one."""
    from datagen.sinks.pg_bulk import PostgresBulkLoad

    calls: list[tuple[str, str]] = []
    copy, finish = PostgresBulkLoad.copy, PostgresBulkLoad.finish

    def recorded_copy(self, table, chunks):
        calls.append(("copy", table.name))
        return copy(self, table, chunks)

    def recorded_finish(self, table):
        calls.append(("finish", table.name))
        finish(self, table)

    monkeypatch.setattr(PostgresBulkLoad, "copy", recorded_copy)
    monkeypatch.setattr(PostgresBulkLoad, "finish", recorded_finish)
    scenario = tmp_path / "split.yaml"
    scenario.write_text(SPLIT)
    result = populate(scenario, to=postgres_db, reset=True, workers=1)
    assert result.written == {"org": 5, "user": 10}
    assert calls == [
        ("copy", "org"),
        ("copy", "user"),
        ("copy", "org"),
        ("finish", "org"),
        ("copy", "user"),
        ("finish", "user"),
    ]
    assert verify_target(prepare(scenario), postgres_db).ok


@pytest.mark.mariadb
def test_mariadb(run, mariadb_url, small_plan):
    check_database(mariadb_url, small_plan, run)


def test_rows_are_consistent(tmp_path, small_plan):
    url = sqlite_url(tmp_path)
    populate(small_plan, to=url, workers=1)
    db = sqlite3.connect(tmp_path / "db.sqlite")
    # a job runs on an engine of its own org, and its pipeline is of its org too
    assert db.execute(
        "SELECT COUNT(*) FROM job j JOIN engine e ON e.id = j.engine_id WHERE e.org_id != j.org_id"
    ).fetchone() == (0,)
    assert db.execute(
        "SELECT COUNT(*) FROM job j JOIN pipeline p ON p.id = j.pipeline_id "
        "WHERE p.org_id != j.org_id"
    ).fetchone() == (0,)
    # engine URLs are rewritten by the template: engine-<org index>-<n within the org>
    urls = [row[0] for row in db.execute("SELECT url FROM engine")]
    assert all(
        u.startswith("http://engine-") and u.endswith(".staging.internal:18630") for u in urls
    )
    assert "http://engine-0-1.staging.internal:18630" in urls
    # a minority of jobs are running
    statuses = dict(db.execute("SELECT status, COUNT(*) FROM job GROUP BY status").fetchall())
    assert set(statuses) <= {"ACTIVE", "INACTIVE", "ERROR"}
    assert 0 < statuses["ACTIVE"] < statuses["INACTIVE"]
    # every user belongs to an org, as many per org as planned
    per_org = dict(db.execute("SELECT org_id, COUNT(*) FROM user GROUP BY org_id").fetchall())
    counts = small_plan.entities["user"].counts
    assert [per_org.get(entity_key(7, "org", i), 0) for i in range(len(counts))] == list(counts)


def test_sqlite_gets_the_population_in_one_transaction(tmp_path, small_plan, monkeypatch):
    """An interrupted populate leaves the file as it was, the --reset drops included."""
    import datagen.scenarios.populate as populating

    url = sqlite_url(tmp_path)
    populate(prepare(DEV), to=url)
    real = populating.batches

    def interrupted(plan, *, workers):
        for number, batch in enumerate(real(plan, workers=workers)):
            if number == 2:
                raise KeyboardInterrupt
            yield batch

    monkeypatch.setattr(populating, "batches", interrupted)
    with pytest.raises(KeyboardInterrupt):
        populate(small_plan, to=url, reset=True)
    assert verify_target(prepare(DEV), url, workers=1).ok


def test_an_interrupted_sqlite_populate_leaves_no_new_file(tmp_path, small_plan, monkeypatch):
    import datagen.scenarios.populate as populating

    def interrupted(plan, *, workers):
        raise KeyboardInterrupt
        yield  # a generator, as batches is

    monkeypatch.setattr(populating, "batches", interrupted)
    with pytest.raises(KeyboardInterrupt):
        populate(small_plan, to=sqlite_url(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_reset_goes_back_to_an_empty_schema(run, tmp_path):
    url = sqlite_url(tmp_path)
    assert run("populate", PROD, "--to", url, "--seed", 1, "--scale", SMALL).exit_code == 0
    result = run("populate", PROD, "--to", url, "--seed", 2, "--scale", SMALL, "--reset")
    assert result.exit_code == 0, result.output
    assert run("verify-target", PROD, "--to", url, "--seed", 2, "--scale", SMALL).exit_code == 0


# Includes, records, scale, dry run ----------------------------------------------------------------


def test_dev_scenario_includes_in_order_and_looks_up_natural_keys(run, tmp_path):
    plan = prepare(DEV)
    assert plan.scenario.files == [
        str(DEV),
        str(DEV.parent / "orgs.yaml"),
        str(DEV.parent / "users.yaml"),
    ]
    assert list(plan.entities) == ["org", "user", "engine", "pipeline", "job", "job_run"]
    url = sqlite_url(tmp_path)
    result = run("populate", DEV, "--to", url, "--reset")
    assert result.exit_code == 0, result.output
    db = sqlite3.connect(tmp_path / "db.sqlite")
    members = db.execute(
        "SELECT u.username, o.name FROM user u JOIN org o ON o.id = u.org_id ORDER BY u.username"
    ).fetchall()
    assert members == [("alice", "Acme QA"), ("bob", "Acme QA"), ("carol", "Globex Dev")]
    job = db.execute(
        "SELECT j.name, e.url, p.name, u.username FROM job j JOIN engine e ON e.id = j.engine_id "
        "JOIN pipeline p ON p.id = j.pipeline_id JOIN user u ON u.id = p.created_by"
    ).fetchall()
    assert job == [("Nightly orders", "http://localhost:18630", "Ingest orders", "alice")]
    # missing fields are generated
    assert db.execute("SELECT full_name FROM user WHERE username = 'bob'").fetchone()[0]
    assert db.execute("SELECT COUNT(*) FROM job_run").fetchone() == (3,)


def test_scale_multiplies_counts_not_records():
    small, large = prepare(RESOURCE_1K), prepare(RESOURCE_10K)
    assert small.counts()["resource_provider"] == 1_000
    assert large.counts()["resource_provider"] == 10_000
    assert large.counts()["inventory"] == 30_000
    assert small.counts()["resource_type"] == large.counts()["resource_type"] == 3
    assert prepare(RESOURCE_1K, scale=0.1).counts()["resource_provider"] == 100


def test_resource_inventories_by_natural_key(tmp_path):
    url = sqlite_url(tmp_path)
    populate(prepare(RESOURCE_1K, scale=0.1), to=url, reset=True, workers=1)
    db = sqlite3.connect(tmp_path / "db.sqlite")
    rows = db.execute(
        "SELECT t.code, COUNT(*), MIN(i.total), MAX(i.total) FROM inventory i "
        "JOIN resource_type t ON t.id = i.resource_type_id GROUP BY t.code ORDER BY t.code"
    ).fetchall()
    assert rows == [
        ("runm.block_storage", 100, 2_000_000_000_000, 2_000_000_000_000),
        ("runm.cpu.shared", 100, 32, 32),
        ("runm.memory", 100, 137_438_953_472, 137_438_953_472),
    ]
    names = [r[0] for r in db.execute("SELECT name FROM resource_provider ORDER BY name LIMIT 2")]
    assert names == ["compute-000-01", "compute-000-02"]


def test_dry_run_prints_the_plan_and_writes_nothing(run, tmp_path):
    result = run("populate", PROD, "--dry-run", "--to", sqlite_url(tmp_path), "--seed", 7)
    assert result.exit_code == 0, result.output
    assert "Scenario prod_like (seed 7, --scale 1):" in result.output
    assert "per org: lognormal(mu=1.5, sigma=1.0) in [1, 2000]; min 1, mean" in result.output
    assert "Dry run: nothing written." in result.output
    assert not (tmp_path / "db.sqlite").exists()


def test_verify_target_needs_a_database(run, tmp_path):
    result = run("verify-target", PROD, "--to", str(tmp_path))
    assert result.exit_code == 2
    assert "is not a database URL" in result.output


def test_verify_target_reports_missing_tables(tmp_path, small_plan):
    url = sqlite_url(tmp_path)
    populate(prepare(DEV), to=url)
    result = verify_target(small_plan, url, workers=1)
    assert not result.ok
    assert {t.table: t.problem() for t in result.differing}["job_run"].startswith("3 rows")


def test_verify_target_needs_the_seed_and_creates_no_database(run, tmp_path):
    scenario = tmp_path / "noseed.yaml"
    scenario.write_text("name: noseed\nentities:\n  org: {count: 3}\n")
    missing = tmp_path / "missing.db"
    result = run("verify-target", scenario, "--to", f"sqlite:///{missing}")
    assert result.exit_code == 2
    assert "noseed.yaml has no 'seed:': pass --seed N, the seed the population was made" in (
        result.output
    )
    result = run("verify-target", scenario, "--to", f"sqlite:///{missing}", "--seed", 3)
    assert result.exit_code == 1
    assert f"there is no SQLite database at {missing}" in result.output
    assert not missing.exists()


def test_folder_output_verifies_and_catches_a_change(run, tmp_path):
    assert run("populate", DEV, "--to", tmp_path, "--quiet").exit_code == 0
    assert run("verify", tmp_path / "dev").exit_code == 0
    with open(tmp_path / "dev" / "user" / "user.jsonl", "ab") as handle:
        handle.write(b"{}\n")
    result = run("verify", tmp_path / "dev")
    assert result.exit_code == 1
    assert "DIFFERS" in result.output and "user.jsonl" in result.output
