"""The shipped probes run on every database, at small scales, and their invariants hold."""

from __future__ import annotations

import re

import pytest

from datagen.probes import run_probe
from datagen.probes.loader import load_probe
from datagen.probes.model import Sql
from tests.probes.probe_files import ROOT

PROBES = ROOT / "probes"


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shipped.db'}"
    return request.getfixturevalue(f"{request.param}_db")


@pytest.mark.parametrize("name", ["resource_claims", "prod_like"])
def test_a_shipped_probe_runs_and_holds(url, name):
    probe = load_probe(PROBES / f"{name}.yaml")
    for item in probe.items():  # a few runs each: this checks the SQL, not the speed
        object.__setattr__(item, "repeat", 20)
    result = run_probe(probe, to=url, scales=(0.02,), clients=2, workers=1)
    assert result.failures() == [] and not result.interrupted
    [scale] = result.scales
    assert scale.complete and scale.total_rows > 0
    for query in scale.queries:
        assert query.executions == 20, query.name
        assert query.explained.plan is not None and query.explained.plan.accesses, query.name
    for transaction in scale.transactions:
        assert transaction.committed == 20
    assert all(invariant.violations == 0 for invariant in scale.invariants)


MARIADB_ONLY = re.compile(r"\b(CREATE|DROP)\s+INDEX\s+IF\s+(NOT\s+)?EXISTS\b", re.IGNORECASE)
"""Syntax MariaDB takes and MySQL 8 refuses."""


def mysql_texts(probe):
    """The SQL each statement runs on MySQL (``mysql:``, else ``default:``)."""
    statements = [*probe.setup, *(q.sql for q in probe.queries.values())]
    statements += [s.sql for t in probe.transactions.values() for s in t.steps]
    statements += [i.sql for i in probe.invariants.values()]
    return [(sql, sql.for_dialect("mysql")) for sql in statements]


@pytest.mark.parametrize("name", ["resource_claims", "prod_like"])
def test_what_a_shipped_probe_runs_on_mysql_is_not_mariadbs_syntax(name):
    """Was: their `mysql:` setup said CREATE INDEX IF NOT EXISTS, which only MariaDB takes."""
    probe = load_probe(PROBES / f"{name}.yaml")
    for sql, text in mysql_texts(probe):
        assert not (text and MARIADB_ONLY.search(text)), f"{sql.where}: {text}"


@pytest.mark.parametrize("name", ["resource_claims", "prod_like"])
def test_the_mysql_indexes_of_a_shipped_probe_are_taken_by_mariadb_too(mariadb_db, name):
    """MariaDB runs its own `mariadb:` statements; the plain `mysql:` indexes work there too."""
    probe = load_probe(PROBES / f"{name}.yaml")
    setup = []
    for sql in probe.setup:
        text = sql.for_dialect("mysql")
        plain = text is not None and text.upper().startswith("CREATE INDEX ")
        setup.append(Sql({"default": text}, sql.where) if plain else sql)
    assert sum(s.texts.get("default", "").startswith("CREATE INDEX ") for s in setup) >= 3
    probe.setup = setup
    for item in probe.items():
        object.__setattr__(item, "repeat", 5)
    result = run_probe(probe, to=mariadb_db, scales=(0.02,), workers=1)
    assert result.failures() == [] and result.scales[0].complete
