"""The multiplexer's fused parameters are the texts of the rows ``transactions`` yields."""

from __future__ import annotations

import pytest

from datagen.workloads import plan_load
from datagen.workloads.database import texts
from datagen.workloads.fused import fused
from datagen.workloads.schedule import transactions
from datagen.workloads.writer import Statements

SPEC = """
tables:
  t:
    columns: {day: date, site: text, big: text, n: integer, v: integer, a: float, w: text}
    key: [day, site, big]
keys:
  site: {template: "s_{n:03d}", count: 40}
  big: {template: "b{n}", count: 100000}
  day: {date: 2017-11-29}
writers:
  upsert:
    stream: {rate: 1/m, arrivals: poisson}
    upsert:
      table: t
      values: {n: {number: run}, v: {integer: [0, 5000000000000]}, a: {decimal: [0, 10]},
               w: {mimesis: person.email}}
      merge: {v: replace, n: {max: v}}
    connections: 4
    affinity: none
  insert:
    stream: {rate: 1/m, arrivals: constant}
    insert:
      table: t
      values: {day: {key: day}, site: {key: site}, big: {key: big}, n: {number: row},
               v: {choice: [1, 2]}}
    connections: 4
    affinity: none
"""


def sent(plan, statements):
    """(index, due, parameter texts) of each transaction, made from its row."""
    return [
        (t.index, t.due, tuple(texts(statements.values(t.rows[0])))) for t in transactions(plan)
    ]


@pytest.mark.parametrize("seed", [1, 7])
def test_fused_parameters_are_the_rows_texts(workload_file, seed) -> None:
    """Over three days (chunks crossing midnight), a pool too large to format at once,
    numbers, a value named twice, Mimesis and decimals; each process's share too."""
    plan = plan_load(workload_file(SPEC), seed=seed, duration=3 * 86400)
    for writer_plan in plan.plans:
        statements = Statements(writer_plan, "postgresql")
        expected = sent(writer_plan, statements)
        assert len(expected) > 4000
        source = fused(writer_plan, statements.names)
        assert source is not None
        assert [(t.index, t.due, tuple(t.params)) for t in source] == expected
        writer_plan.parts = 2
        shares = []
        for part in (0, 1):
            writer_plan.part = part
            share = fused(writer_plan, statements.names)
            assert share is not None
            shares.append([(t.index, t.due, tuple(t.params)) for t in share])
            assert shares[-1] == sent(writer_plan, statements)
        assert sorted(shares[0] + shares[1]) == expected


@pytest.mark.parametrize(
    "change",
    [
        ("affinity: none", "affinity: key"),  # routed on the row
        ("arrivals: poisson}", "arrivals: poisson, rows: 2}"),  # two rows
        ("n: {number: run}", "n: {number: run}, x: {template: '{run}'}"),  # formats the row
        ("stream: {rate: 1/m, arrivals: poisson}", "batch: {rows: 3, transaction: row}"),
    ],
)
def test_other_writers_make_rows(workload_file, change) -> None:
    spec = SPEC.replace(*change).replace("w: text}", "w: text, x: text}")
    plan = plan_load(workload_file(spec), seed=1, duration=600)
    statements = Statements(plan.plans[0], "postgresql")
    assert fused(plan.plans[0], statements.names) is None
