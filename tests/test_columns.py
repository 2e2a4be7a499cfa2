"""Templates compiled a shard at a time (datagen.columns): what populate's rows are made of."""

from __future__ import annotations

import collections
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datagen.columns import RowsFactory, keys_of
from datagen.documents import get_provider, registry
from datagen.errors import SchemaError
from datagen.fields import Columns
from datagen.lineage import DocumentsLineage
from datagen.schema import FieldFactory, Runtime
from datagen.seeding import REFERENCE_DATE, SHARD_SIZE, entity_key
from datagen.types import Document

_ = FieldFactory()


class TemplateLineage(DocumentsLineage):
    """The documents' lineage, where entity ``t`` has the template given."""

    def __init__(self, template: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(counts={"t": SHARD_SIZE}, providers=get_provider, **kwargs)
        self.template = template

    def make_columns(self, entity: str) -> Columns:
        if entity != "t":
            return super().make_columns(entity)
        return Columns(self.template, entity="t", provider="t", lineage=self)


def compiled(
    template: dict[str, Any], *, reference: datetime = REFERENCE_DATE, seed: int = 1
) -> RowsFactory:
    """``build_rows`` of ``template`` as entity ``t`` (its shard's random state set)."""
    from datagen.columns import ColumnCompiler

    runtime = Runtime(locale="en", run_seed=seed, reference_date=reference)
    lineage = TemplateLineage(template, run_seed=seed, reference_date=reference)
    compiler = ColumnCompiler(runtime, provider="t", quantity=1, columns=lineage.columns("t"))
    build = compiler.compile_rows(template)
    runtime.reseed(5)
    return build


def shard(template: dict[str, Any], *, seed: int = 3, stop: int = SHARD_SIZE) -> list[Document]:
    return compiled(template, seed=seed)(0, stop)


@given(
    seed=st.integers(0, 2**63),
    provider=st.sampled_from(["org", "job_run", "a b"]),
    indices=st.lists(st.integers(0, 10**12), max_size=50),
)
def test_keys_of_are_the_entity_keys(seed: int, provider: str, indices: list[int]) -> None:
    assert keys_of(seed, provider, indices) == [entity_key(seed, provider, i) for i in indices]


def test_a_shorter_stop_gives_a_prefix_of_the_shard() -> None:
    template = {
        "id": _.key(),
        "n": _.integer(0, 10**6),
        "name": _("person.full_name"),
        "tags": _.list_of(_.choice("abc"), 0, 3),
    }
    whole = shard(template)
    assert shard(template, stop=7) == whole[:7]
    assert shard(template) == whole  # the same seeds, the same rows
    assert shard(template, seed=4) != whole
    columns = [{k: row[k] for k in ("id", "n")} for row in whole[5:9]]
    assert [{k: row[k] for k in ("id", "n")} for row in compiled(template, seed=3)(5, 9)] == columns
    assert [row["id"] for row in whole] == [entity_key(3, "t", i) for i in range(SHARD_SIZE)]


def test_weighted_integers_and_choices_follow_their_parameters() -> None:
    rows = shard(
        {
            "w": _.weighted({"a": 0.7, "b": 0.2, "c": 0.1, "never": 0}),
            "n": _.integer(1, 3),
            "c": _.choice("xyz"),
        }
    )
    cases = [
        ("w", {"a": 700, "b": 200, "c": 100}),
        ("n", {1: 1000 / 3, 2: 1000 / 3, 3: 1000 / 3}),
        ("c", {"x": 1000 / 3, "y": 1000 / 3, "z": 1000 / 3}),
    ]
    for field, expected in cases:
        counts = collections.Counter(row[field] for row in rows)
        assert set(counts) == set(expected)
        # chi-square, 2 degrees of freedom: p = 0.001 at 13.8
        assert sum((counts[v] - e) ** 2 / e for v, e in expected.items()) < 13.8


def test_timestamps_decimals_and_nulls_stay_in_their_ranges() -> None:
    rows = shard(
        {
            "at": _.timestamp(days=(1, 2)),
            "d": _.decimal(0.5, 1.5, 1),
            "maybe": _.nullable(_.integer(5, 6), 0.25),
        }
    )
    for row in rows:
        assert REFERENCE_DATE - timedelta(days=2) <= row["at"] <= REFERENCE_DATE - timedelta(days=1)
        assert row["at"].tzinfo is REFERENCE_DATE.tzinfo
        assert type(row["d"]) is float and 0.5 <= row["d"] <= 1.5 and round(row["d"], 1) == row["d"]
        assert row["maybe"] in (None, 5, 6)
    assert {type(row["maybe"]) for row in rows} == {type(None), int}
    nulls = sum(row["maybe"] is None for row in rows)
    assert abs(nulls - 250) < 4 * (1000 * 0.25 * 0.75) ** 0.5  # four standard deviations
    assert len({row["at"] for row in rows}) > 900  # seconds, not a handful of values


@pytest.mark.parametrize(
    "reference",
    [
        datetime(2025, 1, 1, 12, 0, 0, 500),
        datetime(2025, 3, 31, 2, 30, tzinfo=ZoneInfo("Europe/Paris")),
    ],
    ids=["naive", "daylight-saving zone"],
)
def test_timestamps_of_other_references_are_the_reference_minus_seconds(
    reference: datetime,
) -> None:
    rows = compiled({"at": _.timestamp(days=(0, 2))}, reference=reference)(0, 50)
    for row in rows:
        assert row["at"].tzinfo is reference.tzinfo
        utc = timezone.utc
        seconds = (reference.astimezone(utc) - row["at"].astimezone(utc)).total_seconds()
        assert seconds == int(seconds) and 1 <= seconds <= 2 * 86400


def test_finalized_rows_are_a_prefix_of_the_shard_too() -> None:
    provider = get_provider("starfleet_account")  # its finalize makes the birth date a date

    def rows(stop: int) -> list[Document]:
        runtime = Runtime(locale="en", run_seed=7)
        build = provider.rows_factory(
            runtime, DocumentsLineage(run_seed=7, counts={}, providers=get_provider)
        )
        runtime.reseed(3)
        return build(0, stop)

    assert rows(7) == rows(SHARD_SIZE)[:7]
    assert all(isinstance(row["stardate_of_birth"], str) for row in rows(20))


def test_integer_and_decimal_oddities_are_drawn_per_row() -> None:
    oddities = {"d": _.decimal(0, 10, None), "n": _.integer(0.5, 3)}  # type: ignore[arg-type]
    rows = shard(oddities, stop=200)
    assert all(type(row["d"]) is int and 0 <= row["d"] <= 10 for row in rows)
    assert all(0.5 <= row["n"] <= 3.5 for row in rows)


def test_mutable_values_are_fresh_per_row_and_nested_draws_are_per_item() -> None:
    rows = shard(
        {
            "a": _.choice([{"x": []}]),
            "b": _.weighted({("t",): 1}),
            "items": _.list_of(_.integer(0, 10**9), 5, 5),
            "auth": {"logins": [], "n": _.integer(0, 9)},
        },
        stop=2,
    )
    rows[0]["a"]["x"].append(1)
    rows[0]["auth"]["logins"].append("x")
    assert rows[1]["a"] == {"x": []} and rows[1]["auth"]["logins"] == []
    assert rows[0]["b"] == ("t",)
    assert len(set(rows[0]["items"])) == 5  # drawn per item, not one column value repeated
    assert 0 <= rows[0]["auth"]["n"] <= 9


def test_empty_choices_and_reversed_ranges_are_schema_errors() -> None:
    with pytest.raises(SchemaError, match="choice"):
        compiled({"c": _.choice([])})
    with pytest.raises(SchemaError, match=r"low <= high, not \(5, 1\)"):
        compiled({"n": _.integer(5, 1)})


def test_integers_beyond_64_bits_are_drawn_from_the_whole_hash() -> None:
    rows = shard({"n": _.integer(0, 2**70), "m": _.integer(2**63, 2**63 + 1)}, stop=50)
    assert all(0 <= row["n"] <= 2**70 for row in rows)
    assert max(row["n"] for row in rows) > 2**64
    assert {row["m"] for row in rows} == {2**63, 2**63 + 1}


def test_choices_of_lists_and_tuples_are_whole_values() -> None:
    rows = shard({"pair": _.choice([[1, 2], [3, 4]]), "t": _.choice([(1, 2), (3, 4)])})
    assert {tuple(row["pair"]) for row in rows} == {(1, 2), (3, 4)}
    assert {row["t"] for row in rows} == {(1, 2), (3, 4)}


def test_more_rows_than_a_shard_are_all_built() -> None:
    rows = compiled({"n": _.integer(0, 9)})(0, SHARD_SIZE + 5)
    assert len(rows) == SHARD_SIZE + 5


@pytest.mark.parametrize("name", sorted(registry.names()))
def test_every_provider_builds_rows_shaped_like_its_documents(name: str) -> None:
    provider = get_provider(name)
    runtime = Runtime(locale="en", run_seed=7)
    build = provider.rows_factory(
        runtime, DocumentsLineage(run_seed=7, counts={name: 100}, providers=get_provider)
    )
    runtime.reseed(11)
    rows = build(0, 20)
    document = provider.generate(seed=7, index=0)

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: shape(item) for key, item in value.items()}
        return "null-or-value"

    assert len(rows) == 20
    assert all(shape(row) == shape(document) for row in rows)
    assert rows[0][provider.key] == entity_key(7, name, 0)
    assert all(row[provider.key] != other[provider.key] for row, other in zip(rows, rows[1:]))
