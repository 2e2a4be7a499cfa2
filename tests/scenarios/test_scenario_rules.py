"""Production-like means consistent: time along references, states that agree, checks.

The shipped scenarios are populated into real databases and asked, with SQL,
whether every child row was created after every row it refers to;
``prod_like``'s own ``checks:`` must all pass on PostgreSQL and MariaDB, and
each must fail when the rule that keeps it is taken out of the scenario.
"""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import pytest

from datagen.documents import get_provider
from datagen.scenarios.checks import ChecksFailed
from datagen.scenarios.populate import populate, prepare

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def created_along_references(database: Path, scenario: Path, scale: float) -> dict[str, int]:
    """For every reference of the scenario, how many rows were created before their parent."""
    plan = prepare(scenario, scale=scale)
    found: dict[str, int] = {}
    with sqlite3.connect(database) as conn:
        for entity in plan.entities.values():
            mine = get_provider(entity.provider).created_field()
            for field, target in entity.references_to().items():
                parent = plan.entities[target]
                theirs = get_provider(parent.provider).created_field()
                if mine is None or theirs is None:
                    continue
                (count,) = conn.execute(
                    f'SELECT COUNT(*) FROM "{entity.provider}" c '
                    f'JOIN "{parent.provider}" p ON p.id = c."{field}" '
                    f'WHERE c."{mine}" < p."{theirs}"'
                ).fetchone()
                (joined,) = conn.execute(
                    f'SELECT COUNT(*) FROM "{entity.provider}" c '
                    f'JOIN "{parent.provider}" p ON p.id = c."{field}"'
                ).fetchone()
                assert joined > 0, f"{entity.name}.{field}: no row to compare"
                found[f"{entity.name}.{field}"] = count
    return found


@pytest.mark.parametrize(
    "name, scale",
    [
        ("prod_like.yaml", 0.5),
        ("resource_1k_shared_compute.yaml", 0.5),
        ("resource_10k_shared_compute.yaml", 0.05),
        ("dev/dev.yaml", 1),
    ],
)
def test_every_row_is_created_after_the_rows_it_refers_to(
    name: str, scale: float, tmp_path: Path
) -> None:
    database = tmp_path / "population.db"
    populate(SCENARIOS / name, to=f"sqlite:///{database}", scale=scale, workers=2)
    before = created_along_references(database, SCENARIOS / name, scale)
    assert before and set(before.values()) == {0}, before


@pytest.mark.parametrize("scale", [1, 5])
def test_prod_like_checks_pass_on_postgresql(scale: float, postgres_db: str) -> None:
    result = populate(SCENARIOS / "prod_like.yaml", to=postgres_db, scale=scale, reset=True)
    assert len(result.checks) == 32
    assert all(check.violations == 0 for check in result.checks), [
        check.line() for check in result.checks if not check.ok
    ]


@pytest.mark.parametrize("scale", [1, 5])
def test_prod_like_checks_pass_on_mariadb(scale: float, mariadb_db: str) -> None:
    result = populate(SCENARIOS / "prod_like.yaml", to=mariadb_db, scale=scale, reset=True)
    assert len(result.checks) == 32
    assert all(check.violations == 0 for check in result.checks), [
        check.line() for check in result.checks if not check.ok
    ]


BROKEN = {
    # A running run under any job, and a job's runs in any order.
    "runs": (
        """
        fields:
          job_run:
            status: {weighted: {FINISHED: 0.7, RUNNING: 0.3}}
        """,
        {"running_runs_of_active_jobs", "active_job_has_one_running_run"},
    ),
    # Active jobs without a run.
    "minimum": (
        """
        entities:
          job_run:
            per: job
            distribution: {type: poisson, lam: 1.2, max: 20}
        """,
        {"active_job_has_one_running_run"},
    ),
    "suspended": (
        """
        fields:
          job:
            status: {weighted: {ACTIVE: 0.5, INACTIVE: 0.5}}
        """,
        {"suspended_orgs_run_no_job"},
    ),
    "seats": ("fields: {org: {seats: 1}}", {"users_within_seats"}),
    "scheduler": (
        "fields: {job_run: {triggered_by: SCHEDULER}}",
        {"scheduler_runs_of_scheduled_jobs"},
    ),
    "last_run": (
        "fields: {job: {last_run_at: {after: created_at}}}",
        {"last_run_at_is_latest_start"},
    ),
    "in_order": ("fields: {job_run: {started_at: {in_order: false}}}", {"runs_start_in_order"}),
    "mail": (
        "fields: {user: {email: {mimesis: person.email, unique: true}}}",
        {"most_users_mail_at_their_org"},
    ),
    "time": ("fields: {user: {created_at: {value: 2015-01-01T00:00:00Z}}}", {"user_after_org"}),
}


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_a_check_fails_when_its_rule_is_removed(rule: str, tmp_path: Path) -> None:
    text, failing = BROKEN[rule]
    path = tmp_path / "broken.yaml"
    path.write_text(
        f"include: [{SCENARIOS / 'prod_like.yaml'}]\n" + textwrap.dedent(text).strip() + "\n"
    )
    result = populate(path, to=f"sqlite:///{tmp_path / 'b.db'}", scale=0.3)
    broken = {check.name for check in result.checks if check.violations}
    assert failing <= broken, [check.line() for check in result.checks]
    with pytest.raises(ChecksFailed, match="checks found rows breaking them"):
        from datagen.scenarios.checks import raise_for

        raise_for(result.checks, target="b.db")


def test_a_failed_check_exits_1_naming_it_with_examples(run, tmp_path: Path) -> None:
    path = tmp_path / "seats.yaml"
    path.write_text(f"include: [{SCENARIOS / 'prod_like.yaml'}]\nfields: {{org: {{seats: 1}}}}\n")
    result = run("populate", path, "--to", f"sqlite:///{tmp_path / 's.db'}", "--scale", "0.2")
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert lines[-2].startswith("Error: 1 of 32 checks found rows breaking them in sqlite:///")
    assert lines[-2].endswith(" (the rows are written):")
    assert lines[-1].startswith("  users_within_seats: ") and " rows break it, e.g. " in lines[-1]
    assert "Traceback" not in result.output


@pytest.mark.postgres
def test_checks_on_two_connections_keep_their_order_and_the_first_error(
    postgres_db: str, tmp_path: Path
) -> None:
    """The checks run on two connections: results in the scenario's order, and of two
    checks that cannot run, the first in that order is the one named."""
    from datagen.errors import InputError
    from datagen.scenarios.checks import CONNECTIONS, run_checks

    assert CONNECTIONS > 1
    plan = prepare(SCENARIOS / "prod_like.yaml", seed=5, scale=0.05)
    populate(plan, to=postgres_db, reset=True)
    names = [result.name for result in run_checks(plan, postgres_db)]
    assert names == list(plan.scenario.checks) and len(names) == 32

    path = tmp_path / "bad.yaml"
    path.write_text(
        f"include: [{SCENARIOS / 'prod_like.yaml'}]\n"
        "checks:\n"
        "  zz_first_bad: SELECT no_such_column FROM {org}\n"
        "  zz_second_bad: SELECT other_missing FROM {user}\n"
    )
    bad = prepare(path, seed=5, scale=0.05)
    assert list(bad.scenario.checks)[-2:] == ["zz_first_bad", "zz_second_bad"]
    with pytest.raises(InputError, match="check 'zz_first_bad' failed on PostgreSQL"):
        run_checks(bad, postgres_db)
