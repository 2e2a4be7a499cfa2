"""Plan summaries on SQLite, PostgreSQL and MariaDB: a full scan, then an index, then a scan again.

A table of 3,000 rows is queried by a column without an index (the summary
says the table is read in full), then an index is added (the summary names
it and the scan is gone), then dropped (the full scan is back). Each
database's own EXPLAIN is asked, through the session the probe uses.
"""

from __future__ import annotations

import pytest

from datagen.probes.database import Database
from datagen.probes.plans import aliases, summarize

ROWS = 3000


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'plans.db'}"
    return request.getfixturevalue(f"{request.param}_db")


def create_table(session, database):
    key = "VARCHAR(64)" if database.dialect == "mysql" else "TEXT"
    session.execute(f"CREATE TABLE host (id {key} PRIMARY KEY, rack {key} NOT NULL, cores INTEGER)")
    marks = ", ".join([database.placeholder] * 3)
    rows = [(f"h{i:05d}", f"r{i % 300:03d}", i % 64) for i in range(ROWS)]
    session.cursor.executemany(f"INSERT INTO host (id, rack, cores) VALUES ({marks})", rows)
    session.analyze(["host"])


def plan_of(session, database, sql, *args):
    statement = database.statement(sql)
    return summarize(database.dialect, session.explain(statement, args or None), sql)


def test_an_index_appears_in_the_summary_and_goes_with_it(url):
    database = Database(url)
    session = database.session()
    try:
        create_table(session, database)
        query = "SELECT h.id, h.cores FROM host h WHERE h.rack = :rack"

        before = plan_of(session, database, query, "r007")
        assert before.full_scans == ["host"]  # by its name, though the query calls it h
        assert before.indexes == []

        session.execute("CREATE INDEX ix_host_rack ON host (rack)")
        session.analyze(["host"])
        indexed = plan_of(session, database, query, "r007")
        assert indexed.full_scans == []
        assert indexed.indexes == ["ix_host_rack"]
        assert "index ix_host_rack on host" in indexed.describe()
        assert indexed.signature() != before.signature()

        drop = "DROP INDEX ix_host_rack" + (" ON host" if database.dialect == "mysql" else "")
        session.execute(drop)
        session.analyze(["host"])
        after = plan_of(session, database, query, "r007")
        assert after.full_scans == ["host"]
        assert after.signature() == before.signature()
    finally:
        session.close()


def test_a_lookup_by_primary_key_is_an_index_access(url):
    database = Database(url)
    session = database.session()
    try:
        create_table(session, database)
        plan = plan_of(session, database, "SELECT cores FROM host WHERE id = :id", "h00042")
        assert plan.full_scans == []
        assert [access.kind for access in plan.accesses] == ["index"]
        assert plan.accesses[0].table == "host"
        if database.dialect != "sqlite":  # SQLite gives no estimate
            assert plan.estimated_rows is not None and plan.estimated_rows <= 2
    finally:
        session.close()


def test_aliases_map_back_to_tables():
    sql = (
        "SELECT rp.id FROM resource_provider rp JOIN inventory AS cpu ON cpu.provider_id = rp.id "
        "LEFT JOIN allocation a ON a.provider_id = rp.id WHERE EXISTS (SELECT 1 FROM capability)"
    )
    assert aliases(sql) == {
        "resource_provider": "resource_provider",
        "rp": "resource_provider",
        "inventory": "inventory",
        "cpu": "inventory",
        "allocation": "allocation",
        "a": "allocation",
        "capability": "capability",
    }
