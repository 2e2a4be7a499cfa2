"""Checks that read a scenario's ``views:`` catch what they caught as standalone SQL.

``prod_like``'s four checks over jobs and their runs read two views (one
pass over ``job_run`` for each pair). The population is written to real
databases, broken on purpose (runs out of order, a run RUNNING that is not
its job's latest, active jobs with no or two running runs, ``last_run_at``
wrong, run numbers repeated or missing), and each check must find the very
rows the check's former SQL (below, each a query of its own) finds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from datagen.errors import InputError
from datagen.scenarios.checks import DIALECTS, run_checks, statements
from datagen.scenarios.populate import populate, prepare

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
EARLY = "'2000-01-01 00:00:00'"  # before every row of the population

FORMER = {  # each check's SQL before it read a view: the reference
    "active_job_has_one_running_run": """
        SELECT j.id FROM {job} j
        LEFT JOIN (SELECT job_id, COUNT(*) AS n FROM {job_run} WHERE status = 'RUNNING'
                   GROUP BY job_id) r ON r.job_id = j.id
        WHERE j.status = 'ACTIVE' AND COALESCE(r.n, 0) <> 1""",
    "running_run_is_the_latest": """
        SELECT r.id FROM {job_run} r
        JOIN (SELECT job_id, MAX(started_at) AS latest FROM {job_run} GROUP BY job_id) m
          ON m.job_id = r.job_id
        WHERE r.status = 'RUNNING' AND r.started_at < m.latest""",
    "runs_start_in_order": """
        SELECT r.id FROM {job_run} r
        JOIN {job_run} s ON s.job_id = r.job_id AND s.run_count > r.run_count
        WHERE s.started_at < r.started_at""",
    "last_run_at_is_latest_start": """
        SELECT j.id FROM {job} j
        LEFT JOIN (SELECT job_id, MAX(started_at) AS latest FROM {job_run} GROUP BY job_id) m
          ON m.job_id = j.id
        WHERE (j.last_run_at IS NULL) <> (m.latest IS NULL) OR j.last_run_at <> m.latest""",
}

BREAK = [  # (statement, the checks it breaks): each on a few rows only
    # A job's second run starts before its first.
    (
        f"UPDATE {{job_run}} SET started_at = {EARLY} WHERE run_count = 2 AND status <> 'RUNNING'",
        {"runs_start_in_order", "last_run_at_is_latest_start"},
    ),
    # A running run that is no longer its job's latest (nor in order).
    (
        f"UPDATE {{job_run}} SET started_at = {EARLY} WHERE status = 'RUNNING' AND run_count = 3",
        {"running_run_is_the_latest", "runs_start_in_order", "last_run_at_is_latest_start"},
    ),
    # Active jobs with two running runs, and others with none.
    (
        "UPDATE {job_run} SET status = 'RUNNING' WHERE status = 'FINISHED' AND run_count = 4",
        {"active_job_has_one_running_run", "running_run_is_the_latest"},
    ),
    (
        "UPDATE {job_run} SET status = 'STOPPED' WHERE status = 'RUNNING' AND run_count = 2",
        {"active_job_has_one_running_run"},
    ),
    # A job without its last run time, another with one it has no run for.
    ("UPDATE {job} SET last_run_at = NULL WHERE status = 'ERROR'", set()),
    # Run numbers repeated and missing: the former SQL's comparisons decide.
    ("UPDATE {job_run} SET run_count = 5 WHERE run_count = 6", set()),
    ("UPDATE {job_run} SET run_count = NULL WHERE run_count = 7", set()),
]


def _found(url: str, plan: Any) -> tuple[dict[str, set[Any]], dict[str, set[Any]]]:
    """Each check's rows (first column) by its SQL now and by its former SQL."""
    engine = create_engine(url)
    now, former = {}, {}
    try:
        with engine.connect() as conn:
            dialect = DIALECTS[{"postgresql": "PostgreSQL", "mysql": "MySQL", "sqlite": "SQLite"}[
                engine.dialect.name
            ]]  # fmt: skip
            quote = conn.dialect.identifier_preparer.quote_identifier
            percent = conn.dialect.paramstyle in ("format", "pyformat")
            alone, _ = statements(plan, dialect, quote)
            names = list(plan.scenario.checks)
            for name, sql in FORMER.items():
                sql = _tables(sql, plan, quote)
                mine = alone[names.index(name)]
                assert mine is not None and "{" not in mine, mine
                mine = mine.replace("%", "%%") if percent else mine
                now[name] = {row[0] for row in conn.exec_driver_sql(mine)}
                former[name] = {row[0] for row in conn.exec_driver_sql(sql)}
    finally:
        engine.dispose()
    return now, former


def _tables(sql: str, plan: Any, quote: Any) -> str:
    for table in plan.tables:
        sql = sql.replace(f"{{{table}}}", quote(table))
    return sql


def _break(url: str, plan: Any) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            quote = conn.dialect.identifier_preparer.quote_identifier
            conn.exec_driver_sql(  # a job with no run gets a last run time
                _tables(
                    f"UPDATE {{job}} SET last_run_at = {EARLY} WHERE id = (SELECT id FROM "
                    "(SELECT MIN(j.id) AS id FROM {job} j LEFT JOIN {job_run} r "
                    "ON r.job_id = j.id WHERE r.id IS NULL) AS lonely)",
                    plan,
                    quote,
                )
            )
            for statement, _ in BREAK:
                conn.exec_driver_sql(_tables(statement, plan, quote))
    finally:
        engine.dispose()


def _same_as_former(url: str) -> None:
    plan = prepare(SCENARIOS / "prod_like.yaml", seed=3, scale=0.1)
    populate(plan, to=url, reset=True)
    now, former = _found(url, plan)
    assert not any(now.values()) and not any(former.values())  # the population keeps them
    _break(url, plan)
    now, former = _found(url, plan)
    assert now == former
    broken = set().union(*(checks for _, checks in BREAK))
    assert all(now[name] for name in broken), {name: len(rows) for name, rows in now.items()}
    results = {result.name: result for result in run_checks(plan, url)}
    for name, rows in now.items():  # run as one statement, each counts its own rows
        assert results[name].violations == len(rows), results[name].line()
        assert {row[0] for row in results[name].examples} <= rows


def test_checks_over_views_find_what_their_former_sql_found_on_sqlite(tmp_path: Path) -> None:
    _same_as_former(f"sqlite:///{tmp_path / 'views.db'}")


@pytest.mark.postgres
def test_checks_over_views_find_what_their_former_sql_found_on_postgresql(
    postgres_db: str,
) -> None:
    _same_as_former(postgres_db)


@pytest.mark.mariadb
def test_checks_over_views_find_what_their_former_sql_found_on_mariadb(mariadb_db: str) -> None:
    _same_as_former(mariadb_db)


def test_the_checks_filtering_one_view_are_one_statement_computing_it() -> None:
    plan = prepare(SCENARIOS / "prod_like.yaml", seed=3, scale=0.05)
    names = list(plan.scenario.checks)
    alone, units = statements(plan, "postgresql", lambda name: f'"{name}"')
    together = {frozenset(names[m] for m in unit.members): unit.sql for unit in units}
    jobs = together[frozenset({"active_job_has_one_running_run", "last_run_at_is_latest_start"})]
    runs = together[frozenset({"running_run_is_the_latest", "runs_start_in_order"})]
    assert jobs.count('FROM "job_run"') == 1 and ') AS "jobs_and_runs" WHERE' in jobs
    assert runs.count('FROM "job_run"') == 1 and ') AS "runs_in_order" WHERE' in runs
    assert all(sql is not None and "{" not in sql for sql in alone)


@pytest.mark.parametrize(
    "views, check, message",
    [
        ("  job: SELECT id FROM {job}\n", "SELECT id FROM {job}", "has the name of a table"),
        ("  v: SELECT id FROM {job}\n", "SELECT id FROM {v} x WHERE id IS NULL", "not {v} x"),
        ("  v: SELECT id FROM {v2}\n", "SELECT id FROM {v}", "{v2} is not a table"),
        ("  v: SELECT id FROM {job}\n", "SELECT id FROM {w}", "{w} is not a table"),
    ],
)
def test_a_view_misnamed_is_an_error_naming_its_line(
    views: str, check: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "views.yaml"
    path.write_text(
        f"include: [{SCENARIOS / 'prod_like.yaml'}]\nviews:\n{views}checks:\n  zz: {check}\n"
    )
    with pytest.raises(InputError, match="views.yaml") as raised:
        prepare(path, seed=1, scale=0.05)
    assert message in str(raised.value)


def test_a_check_reading_a_view_without_sql_for_the_database_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "views.yaml"
    path.write_text(
        f"include: [{SCENARIOS / 'prod_like.yaml'}]\n"
        "views:\n  pg_only: {sql: {postgresql: 'SELECT id FROM {job}'}}\n"
        "checks:\n  zz: SELECT id FROM {pg_only} WHERE id IS NULL\n"
    )
    plan = prepare(path, seed=1, scale=0.05)
    result = populate(plan, to=f"sqlite:///{tmp_path / 'v.db'}")
    found = {check.name: check for check in result.checks}
    assert found["zz"].violations is None and found["runs_start_in_order"].violations == 0
