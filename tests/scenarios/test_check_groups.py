"""Checks over the same rows run as one statement, and find what each finds alone.

``prod_like`` is populated into a real database, rows are broken so that
several checks of each group find some (and others none), and every check's
count is compared with its own SQL run alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from datagen.scenarios.check_groups import simple, units
from datagen.scenarios.checks import DIALECTS, run_checks, statements
from datagen.scenarios.populate import populate, prepare

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

BREAK = [  # each breaks one check of a group of several, on a few rows
    "UPDATE {job_run} SET finished_at = NULL, status = 'RUNNING' WHERE status = 'FINISHED' "
    "AND run_count = 1",
    "UPDATE {job_run} SET duration_seconds = 5 WHERE status = 'RUNNING'",
    "UPDATE {job} SET name = 'Sync orders (hourly)' WHERE schedule IS NULL",
    "UPDATE {job} SET org_id = NULL WHERE status = 'ERROR'",
    "UPDATE {pipeline} SET created_at = created_at - INTERVAL '4000' DAY WHERE draft",
]
SQLITE_BREAK = [
    "UPDATE {job_run} SET finished_at = NULL, status = 'RUNNING' WHERE status = 'FINISHED' "
    "AND run_count = 1",
    "UPDATE {job_run} SET duration_seconds = 5 WHERE status = 'RUNNING'",
    "UPDATE {job} SET name = 'Sync orders (hourly)' WHERE schedule IS NULL",
    "UPDATE {job} SET org_id = NULL WHERE status = 'ERROR'",
    "UPDATE {pipeline} SET created_at = '2000-01-01 00:00:00' WHERE draft",
]


def test_plain_filters_are_taken_apart_and_others_run_alone() -> None:
    found = simple('SELECT j.id, j.name FROM "job" j JOIN "org" o ON o.id = j.org_id WHERE x < y')
    assert found is not None
    assert found.columns == ("j.id", "j.name")
    assert found.source == '"job" j JOIN "org" o ON o.id = j.org_id'
    assert found.condition == "x < y"
    for alone in [
        "SELECT email FROM t GROUP BY email HAVING COUNT(*) > 1",
        "SELECT COUNT(*) FROM t WHERE x",
        "SELECT * FROM t WHERE x",
        "SELECT id FROM t WHERE x IN (SELECT id FROM u)",
        "SELECT id FROM (SELECT id FROM t) s WHERE x",
        "SELECT id FROM t",
        "SELECT id FROM t WHERE x -- a comment",
        "SELECT DISTINCT id FROM t WHERE x",
        "SELECT 'a,b' FROM t WHERE x",
    ]:
        assert simple(alone) is None, alone


def test_checks_over_the_same_rows_are_one_statement_in_the_first_ones_place() -> None:
    sqls: list[str | None] = [
        "SELECT id FROM t WHERE a",
        "SELECT x FROM u GROUP BY x HAVING COUNT(*) > 1",
        None,
        "SELECT id, b FROM t WHERE b > 1",
        "SELECT id FROM u WHERE c",
    ]
    made = units(sqls)
    assert [unit.members for unit in made] == [(0, 3), (1,), (4,)]
    assert made[0].widths == (1, 2)
    assert made[0].sql == (
        "SELECT CASE WHEN (a) THEN 1 ELSE 0 END, CASE WHEN (b > 1) THEN 1 ELSE 0 END, "
        "id, id, b FROM t WHERE (a) OR (b > 1)"
    )
    assert made[2].sql == sqls[4]


def _alone(plan: Any, url: str) -> dict[str, int]:
    """Each check's rows, its own SQL run alone (not by the code under test)."""
    engine = create_engine(url)
    counts = {}
    try:
        with engine.connect() as conn:
            dialect = DIALECTS[
                {"postgresql": "PostgreSQL", "sqlite": "SQLite"}[engine.dialect.name]
            ]
            quote = conn.dialect.identifier_preparer.quote_identifier
            alone, _ = statements(plan, dialect, quote)  # (views in their place)
            for check, sql in zip(plan.scenario.checks.values(), alone):
                assert sql is not None
                if conn.dialect.paramstyle in ("format", "pyformat"):
                    sql = sql.replace("%", "%%")  # a LIKE's % is not a placeholder
                counts[check.name] = len(conn.exec_driver_sql(sql).fetchall())
    finally:
        engine.dispose()
    return counts


def _broken(plan: Any, url: str, statements: list[str]) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            quote = conn.dialect.identifier_preparer.quote_identifier
            for statement in statements:
                for table in plan.tables:
                    statement = statement.replace(f"{{{table}}}", quote(table))
                conn.execute(text(statement))
    finally:
        engine.dispose()


def _same_as_alone(plan: Any, url: str) -> None:
    results = run_checks(plan, url)
    assert [result.name for result in results] == list(plan.scenario.checks)
    alone = _alone(plan, url)
    assert {result.name: result.violations for result in results} == alone
    names = list(plan.scenario.checks)
    _, made = statements(plan, "sqlite", str)
    grouped = {names[m] for unit in made if len(unit.members) > 1 for m in unit.members}
    failing = {name for name, count in alone.items() if count}
    assert len(failing & grouped) >= 4, failing  # groups with some members failing
    assert grouped - failing, grouped  # and others passing
    for result in results:
        assert len(result.examples) == min(result.violations or 0, 5)


def test_grouped_checks_find_what_each_finds_alone_on_sqlite(tmp_path: Path) -> None:
    plan = prepare(SCENARIOS / "prod_like.yaml", seed=3, scale=0.05)
    url = f"sqlite:///{tmp_path / 'checks.db'}"
    populate(plan, to=url)
    _broken(plan, url, SQLITE_BREAK)
    _same_as_alone(plan, url)


@pytest.mark.postgres
def test_grouped_checks_find_what_each_finds_alone_on_postgresql(postgres_db: str) -> None:
    plan = prepare(SCENARIOS / "prod_like.yaml", seed=3, scale=0.05)
    populate(plan, to=postgres_db, reset=True)
    _broken(plan, postgres_db, BREAK)
    _same_as_alone(plan, postgres_db)


@pytest.mark.postgres
def test_the_checks_session_settings_last_for_every_check(postgres_db: str, tmp_path: Path) -> None:
    """Each lane's settings hold for its last check too (a rollback must not undo them)."""
    path = tmp_path / "settings.yaml"
    settings = "current_setting('jit') <> 'off' OR current_setting('cursor_tuple_fraction') <> '1'"
    path.write_text(
        f"include: [{SCENARIOS / 'prod_like.yaml'}]\n"
        "checks:\n"
        + "".join(
            f'  zz_settings_{n}: {{sql: {{postgresql: "SELECT 1 WHERE {settings}"}}}}\n'
            for n in range(4)
        )
    )
    plan = prepare(path, seed=5, scale=0.05)
    populate(plan, to=postgres_db, reset=True)
    results = {result.name: result for result in run_checks(plan, postgres_db)}
    assert [results[f"zz_settings_{n}"].violations for n in range(4)] == [0, 0, 0, 0]
