"""References with ``distinct: true``: the children of one parent pick different rows."""

from __future__ import annotations

import textwrap
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from datagen.errors import InputError
from datagen.scenarios.populate import generate_rows, prepare

SCENARIO = """
name: distinct
seed: 4
records:
  capability:
    - {code: a}
    - {code: b}
    - {code: c}
    - {code: d}
entities:
  resource_provider: {count: 3000}
  provider_capability:
    per: resource_provider
    distribution: {type: uniform, low: 1, high: 6}
    references:
      capability_id: {entity: capability, distinct: true}
"""


def rows_of(path: Path, entity: str, workers: int = 1) -> list[dict]:
    return [
        row
        for name, rows in generate_rows(prepare(path), workers=workers)
        if name == entity
        for row in rows
    ]


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "distinct.yaml"
    path.write_text(textwrap.dedent(SCENARIO))
    return path


def test_siblings_pick_different_rows_while_there_are_enough(scenario: Path) -> None:
    rows = rows_of(scenario, "provider_capability")
    picked: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        picked[row["provider_id"]].append(row["capability_id"])
    assert len(picked) == 3000
    for capabilities in picked.values():
        # up to 6 children, 4 capabilities: the first four differ, then they come round again
        assert len(set(capabilities)) == min(len(capabilities), 4)
        assert capabilities[4:] == capabilities[: max(len(capabilities) - 4, 0)]
    # and not always the same few: every pair of capabilities is some host's first two
    pairs = Counter(tuple(sorted(c[:2])) for c in picked.values() if len(c) >= 2)
    assert len(pairs) == 6 and min(pairs.values()) > 200
    assert rows == rows_of(scenario, "provider_capability", workers=2)


MANY = """
name: many
seed: 5
entities:
  capability: {count: 100}
  resource_provider: {count: 40}
  provider_capability:
    per: resource_provider
    distribution: {type: uniform, low: 90, high: 110}
    references:
      capability_id: {entity: capability, distinct: true}
"""


def test_more_rows_than_a_shuffle_are_picked_in_an_order_of_their_own(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(textwrap.dedent(MANY))
    picked: dict[str, list[str]] = defaultdict(list)
    for row in rows_of(path, "provider_capability"):
        picked[row["provider_id"]].append(row["capability_id"])
    firsts = set()
    for capabilities in picked.values():
        assert len(set(capabilities[:100])) == min(len(capabilities), 100)
        assert capabilities[100:] == capabilities[: max(len(capabilities) - 100, 0)]
        firsts.add(tuple(capabilities[:3]))
    assert len(firsts) == len(picked) == 40  # each host its own order


MIXED = """
name: mixed
seed: 4
records:
  capability: [{code: a}, {code: b}, {code: c}, {code: d}]
  resource_provider: [{name: h1}]
  provider_capability:
    - {provider_id: {name: h1}}
    - {provider_id: {name: h1}}
entities:
  resource_provider: {count: 3}
  provider_capability:
    per: resource_provider
    distribution: {type: fixed, value: 2}
    references:
      capability_id: {entity: capability, distinct: true}
"""


def test_records_count_among_their_parents_children(tmp_path: Path) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(textwrap.dedent(MIXED))
    picked: dict[str, list[str]] = defaultdict(list)
    for row in rows_of(path, "provider_capability"):
        picked[row["provider_id"]].append(row["capability_id"])
    assert sorted(len(c) for c in picked.values()) == [2, 2, 2, 4]  # h1: 2 records + 2
    assert all(len(set(c)) == len(c) for c in picked.values())


def test_distinct_needs_a_parent(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent("""
            entities:
              org: {count: 3}
              user:
                count: 5
                references:
                  org_id: {entity: org, distinct: true}
            """))
    with pytest.raises(
        InputError, match=r"bad.yaml:7: .*'distinct' needs 'user' to be built 'per'"
    ):
        prepare(path)
