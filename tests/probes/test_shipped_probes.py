"""The shipped probes run on every database, at small scales, and their invariants hold."""

from __future__ import annotations

import pytest

from datagen.probes import run_probe
from datagen.probes.loader import load_probe
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
