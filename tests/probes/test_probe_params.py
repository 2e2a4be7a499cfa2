"""Parameters drawn from the population: rows that exist, the same for the same seed.

The resource deployment at --scale 0.05 (60 hosts) is populated into SQLite;
picks of keys are computed from the seed without a query and must all be
keys of the table; picks of other fields are read by key; the values of
execution i do not depend on the order executions are asked for (so not on
the clients), and change with the seed.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from datagen.errors import InputError
from datagen.probes.database import Database
from datagen.probes import params as params_module
from datagen.probes.loader import load_probe
from datagen.probes.params import BLOCK, bind
from datagen.probes.statements import parameters_of, prepare
from datagen.scenarios.populate import populate, prepare as plan_of
from tests.probes.probe_files import RESOURCE_1K, write_probe

PARAMS = """queries:
  q:
    sql: SELECT 1 WHERE :host = :host AND :code = :code AND :n = :n AND :id = :id AND :cap = :cap
    params:
      host: {pick: resource_provider.id}
      code: {pick: resource_type.code}
      cap: {pick: capability.code}
      n: {distribution: {type: poisson, lam: 3}}
      id: {uuid: true}
"""


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("params")
    url = f"sqlite:///{folder / 'res.db'}"
    plan = plan_of(RESOURCE_1K, seed=2, scale=0.05)
    populate(plan, to=url, reset=True, workers=1)
    return folder, url, plan


def values(populated, seed, order):
    folder, url, _ = populated
    probe = load_probe(write_probe(folder, PARAMS))
    plan = plan_of(RESOURCE_1K, seed=seed, scale=0.05)
    session = Database(url).session()
    try:
        params = bind(probe.queries["q"].params, plan=plan, probe="p", item="q", session=session)
        return {i: params.values(i) for i in order}
    finally:
        session.close()


def test_picks_are_rows_of_the_population(populated):
    _, url, _ = populated
    drawn = values(populated, 2, range(2 * BLOCK))
    session = Database(url).session()
    try:
        hosts = {row[0] for row in session.execute("SELECT id FROM resource_provider")}
        codes = {row[0] for row in session.execute("SELECT code FROM resource_type")}
        capabilities = {row[0] for row in session.execute("SELECT code FROM capability")}
    finally:
        session.close()
    assert len(hosts) == 60  # 3 racks (50 × 0.05, rounded) of 20 hosts
    assert {v["host"] for v in drawn.values()} == hosts  # 2,048 draws reach every host
    assert {v["code"] for v in drawn.values()} == codes
    assert {v["cap"] for v in drawn.values()} == capabilities
    assert len({v["id"] for v in drawn.values()}) == 2 * BLOCK  # a new UUID each time
    assert all(isinstance(v["n"], int) and v["n"] >= 0 for v in drawn.values())


def test_the_same_seed_gives_the_same_values_in_any_order(populated):
    forward = values(populated, 2, range(3 * BLOCK))
    backward = values(populated, 2, reversed(range(3 * BLOCK)))
    assert forward == backward


def test_keys_read_from_the_table_made_ahead_are_the_keys_computed_per_draw(populated, monkeypatch):
    """A pick of a key reads a table of the entity's keys made before the run (small
    entities) or computes each key drawn (large ones): the same values either way."""
    order = range(3 * BLOCK)
    from_table = values(populated, 2, order)
    monkeypatch.setattr(params_module, "KEY_TABLE", 0)  # every entity is "large"
    computed = values(populated, 2, order)
    assert from_table == computed
    assert len({v["host"] for v in computed.values()}) == 60


def test_another_seed_picks_other_rows(populated):
    # The same deployment under seed 9 has other keys: the database (seed 2) does not hold them.
    with pytest.raises(InputError) as error:
        values(populated, 9, range(10))
    assert "does not hold 'resource_1k_shared_compute' with seed 9" in str(error.value)
    first = values(populated, 2, range(BLOCK))
    assert [v["n"] for v in first.values()] != [0] * BLOCK


DRAWN = """queries:
  q:
    sql: SELECT 1 WHERE :email = :email AND :page = :page AND :n = :n AND :id = :id
    params:
      email: {mimesis: person.email, args: {domains: [example.org]}}
      page: {choice: [0, 25, 50]}
      n: {distribution: {type: uniform, low: 1, high: 1000}}
      id: {uuid: true}
"""


def drawn(folder, seed, order):
    """Values of parameters that need no database, under ``seed``."""
    probe = load_probe(write_probe(folder, DRAWN, name="drawn.yaml"))
    plan = plan_of(RESOURCE_1K, seed=seed, scale=0.05)
    params = bind(probe.queries["q"].params, plan=plan, probe="p", item="q", session=None)
    return [params.values(i) for i in order]


def test_mimesis_and_choice_parameters_are_drawn_by_seed(tmp_path):
    first = drawn(tmp_path, 2, range(2 * BLOCK))
    assert all(re.fullmatch(r"[^@\s]+@example\.org", v["email"]) for v in first)
    assert len({v["email"] for v in first}) > BLOCK  # a new e-mail nearly every time
    pages = Counter(v["page"] for v in first)
    assert set(pages) == {0, 25, 50} and min(pages.values()) > 500  # about 683 each
    assert drawn(tmp_path, 2, reversed(range(2 * BLOCK))) == first[::-1]  # any order


def test_values_change_with_the_seed(tmp_path):
    two, nine = drawn(tmp_path, 2, range(BLOCK)), drawn(tmp_path, 9, range(BLOCK))
    assert two == drawn(tmp_path, 2, range(BLOCK))
    for name in ("email", "page", "n", "id"):
        same = sum(a[name] == b[name] for a, b in zip(two, nine))
        assert same < BLOCK / 2, name  # choices of 3 agree a third of the time, the rest ~never


def test_named_parameters_are_found_outside_quotes_casts_and_comments():
    sql = (
        "SELECT ':no', \"a:b\", x::text, :one -- :never\n"
        "FROM t /* :nor */ WHERE a = :two AND b = :step.col AND c LIKE '50%' AND d = :one"
    )
    assert parameters_of(sql) == ["one", "two", "step.col", "one"]
    statement = prepare(sql, "%s")
    assert statement.names == ("one", "two", "step.col", "one")
    assert "LIKE '50%%'" in statement.text and ":two" not in statement.text
    assert prepare(sql, "?").text.count("?") == 4
    assert prepare("SELECT '100%'", "%s").text == "SELECT '100%'"  # no parameters: as it is
