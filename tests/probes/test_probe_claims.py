"""Concurrent claims on PostgreSQL and MariaDB: the capacity invariant catches an unsafe claim.

Eight clients claim 1 CPU at a time from five hosts with room for 4 each,
all after the same host (the first with room). Without a lock the clients
that read the same remaining unit all take it, and the within_capacity
invariant sees hosts over their capacity (exit 1). With the inventory rows
locked (``FOR UPDATE``) and the room checked again after the lock, exactly
the 20 units are claimed, the rest of the claims end empty, and the
invariants hold.
"""

from __future__ import annotations

import json

import pytest

from datagen.probes import run_probe
from tests.probes.probe_files import DATA, claims_probe

CAPACITY = 5 * 4  # hosts x CPUs, allocation ratio 1


def dialect_of(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "mysql"


@pytest.fixture(params=["postgres", "mariadb"])
def server(request):
    return request.getfixturevalue(f"{request.param}_db")


def test_the_unsafe_claim_breaks_the_capacity_invariant(server, tmp_path, run):
    probe = claims_probe(tmp_path, safe=False, dialect=dialect_of(server))
    report = tmp_path / "report.json"
    result = run("probe", probe, "--to", server, "--clients", 8, "--workers", 1,
                 "--report", report)  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "invariant within_capacity at 1×" in result.output
    assert "VIOLATED by" in result.output
    data = json.loads(report.read_text())
    scale = data["scales"][0]
    claim = scale["transactions"][0]
    invariant = {i["name"]: i for i in scale["invariants"]}
    assert invariant["within_capacity"]["violations"] >= 1
    assert invariant["allocations_have_provider"]["violations"] == 0
    assert claim["committed"] > CAPACITY  # more units taken than there are
    assert data["ok"] is False


def test_the_safe_claim_takes_exactly_the_capacity(server, tmp_path):
    probe = claims_probe(tmp_path, safe=True, dialect=dialect_of(server))
    result = run_probe(probe, to=server, clients=8, retries=50, workers=1)
    scale = result.scales[0]
    claim = scale.transactions[0]
    assert result.failures() == []
    assert [i.violations for i in scale.invariants] == [0, 0]
    assert claim.committed == CAPACITY
    assert claim.attempted == 160
    assert claim.ended_empty == 160 - CAPACITY
    assert claim.conflicts >= 1  # clients that met the lock found the unit gone, and retried
    assert claim.retries == claim.conflicts
    assert claim.latency.count == CAPACITY
    plans = {step.name: step.explained.plan for step in claim.steps}
    assert "inventory" in {a.table for a in plans["lock"].accesses}


def test_serializable_claims_are_retried_on_serialization_failures(postgres_db, tmp_path):
    """The unsafe claim (no lock, no check after it) under SERIALIZABLE: PostgreSQL aborts
    the claims that race for the same unit with a serialization failure (SQLSTATE 40001),
    the only conflict this claim can meet; each is retried and the capacity holds."""
    probe = claims_probe(tmp_path, safe=False, dialect="postgresql")
    text = probe.read_text().replace("isolation: read_committed", "isolation: serializable")
    probe.write_text(text)
    result = run_probe(probe, to=postgres_db, clients=8, retries=100, workers=1)
    scale = result.scales[0]
    claim = scale.transactions[0]
    assert result.failures() == []
    assert [i.violations for i in scale.invariants] == [0, 0]  # read committed: violated
    assert claim.committed == CAPACITY and claim.attempted == 160
    assert claim.conflicts >= 1 and claim.retries == claim.conflicts  # each one retried


BAD_SQL = [
    ("queries:\n  q:\n    sql: SELEC 1\n", 3, "query 'q': {db} refused it: "),
    (
        "queries:\n  q:\n    sql: SELECT nope FROM resource_provider\n",
        3,  # refused when its plan is asked (was named "'q'", not "query 'q'")
        "query 'q': {db} refused it: ",
    ),
    (
        "transactions:\n  t:\n    steps:\n      - SELECT id FROM no_such_table\n",
        3,
        "transaction 't', step step1: {db} refused it: ",
    ),
]


@pytest.mark.parametrize("body, line, message", BAD_SQL)
def test_sql_the_server_refuses_is_one_line_naming_its_place(
    server, tmp_path, run, body, line, message
):
    probe = tmp_path / "bad.yaml"
    probe.write_text(f"scenario: {DATA / 'tight.yaml'}\n{body}")
    result = run("probe", probe, "--to", server, "--workers", 1)
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]
    db = "PostgreSQL" if server.startswith("postgresql") else "MariaDB"
    assert last.startswith(f"Error: {probe}:{line}: {message.format(db=db)}"), last
    assert "Traceback" not in result.output
