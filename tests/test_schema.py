"""The schema language: compilation, helpers and their edge cases."""

from __future__ import annotations

import collections
import hashlib
import itertools
import uuid
from datetime import timedelta
from random import Random

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datagen.documents import get_provider
from datagen.draws import between, pick, some
from datagen.errors import SchemaError
from datagen.schema import Compiler, FieldFactory, Runtime
from datagen.seeding import REFERENCE_DATE, SHARD_SIZE, entity_key

_ = FieldFactory()


def build(template, *, seed=1, quantity=10):
    runtime = Runtime(locale="en", run_seed=seed)
    factory = Compiler(runtime, provider="t", quantity=quantity).compile(template)
    runtime.reseed(seed)
    return factory


def test_timestamps_are_strictly_before_the_reference_date_even_at_zero_days():
    make = build({"at": _.timestamp(days=(0, 0))})
    assert all(make(i)["at"] < REFERENCE_DATE for i in range(20))


def test_mutable_choices_are_copied_per_document():
    make = build({"a": _.choice([{"x": []}]), "b": _.weighted({("t",): 1})})
    first, second = make(0), make(1)
    first["a"]["x"].append(1)
    assert second["a"] == {"x": []}


def test_nested_templates_and_lists_are_fresh_objects():
    make = build({"auth": {"logins": []}, "tags": ["a"]})
    first, second = make(0), make(1)
    first["auth"]["logins"].append("x")
    first["tags"].append("b")
    assert second == {"auth": {"logins": []}, "tags": ["a"]}


@pytest.mark.parametrize("choices", [{}, {"a": 0}, {"a": -1, "b": 2}])
def test_weighted_rejects_impossible_weights(choices):
    with pytest.raises(SchemaError):
        _.weighted(choices)


def test_unknown_mimesis_field_names_the_provider_and_field():
    with pytest.raises(SchemaError, match=r"provider 't': unknown Mimesis field 'person.nope'"):
        build({"x": _("person.nope")})


def test_key_function_may_take_the_random_instance():
    make = build(
        {"n": _("numeric.integer_number", start=1, end=9, key=lambda v, r: (v, r.random()))}
    )
    value, fraction = make(0)["n"]
    assert 1 <= value <= 9 and 0 <= fraction < 1


def test_sequence_and_key_follow_the_global_index():
    make = build({"id": _.key(), "n": _.sequence(start=100)})
    assert make(5)["n"] == 105
    assert make(5)["id"] == make(5)["id"] != make(6)["id"]


def test_generate_matches_the_cli_output_at_the_same_index(run, tmp_path):
    quantity = SHARD_SIZE + 10
    result = run(
        "document",
        "-p",
        "user",
        "-q",
        quantity,
        "--seed",
        "4",
        "--format",
        "jsonl",
        "--to",
        tmp_path,
        "--quiet",
    )
    assert result.exit_code == 0
    lines = (tmp_path / "user" / "user.jsonl").read_bytes().splitlines()
    for index in (0, 7, SHARD_SIZE + 3):
        document = get_provider("user").generate(seed=4, index=index, quantity=quantity)
        assert orjson.dumps(document) == lines[index]


@given(
    seed=st.integers(0, 2**63),
    provider=st.sampled_from(["org", "job_run"]),
    index=st.integers(0, 10**12),
)
def test_entity_key_is_the_uuid4_of_its_digest(seed: int, provider: str, index: int) -> None:
    digest = hashlib.blake2b(f"{seed}\x1f{provider}\x1f{index}".encode(), digest_size=16).digest()
    assert entity_key(seed, provider, index) == str(uuid.UUID(bytes=digest, version=4))


@given(
    weights=st.lists(st.floats(0.01, 100), min_size=1, max_size=6),
    seed=st.integers(0, 2**32),
)
def test_weighted_draws_what_random_choices_draws(weights: list[float], seed: int) -> None:
    values = [f"v{n}" for n in range(len(weights))]
    runtime = Runtime(locale="en", run_seed=0)
    build = Compiler(runtime, provider="t", quantity=50).compile(
        {"pick": _.weighted(dict(zip(values, weights)))}
    )
    runtime.reseed(seed)
    reference = Random()
    reference.setstate(runtime.rnd.getstate())  # the state the build starts from
    drawn = [build(i)["pick"] for i in range(50)]
    cumulative = list(itertools.accumulate(weights))
    assert drawn == [reference.choices(values, cum_weights=cumulative)[0] for _ in range(50)]


@given(seed=st.integers(0, 2**32))
def test_timestamps_are_the_reference_date_minus_the_drawn_seconds(seed: int) -> None:
    runtime = Runtime(locale="en", run_seed=0)
    build = Compiler(runtime, provider="t", quantity=20).compile({"at": _.timestamp(days=(1, 2))})
    runtime.reseed(seed)
    reference = Random()
    reference.setstate(runtime.rnd.getstate())
    drawn = [build(i)["at"] for i in range(20)]
    # one random() per timestamp, in [86400, 172800] seconds before the reference date
    seconds = [86400 + int(reference.random() * 86401) for _ in range(20)]
    assert drawn == [REFERENCE_DATE - timedelta(seconds=s) for s in seconds]
    assert all(at.tzinfo is REFERENCE_DATE.tzinfo for at in drawn)


def test_integers_and_choices_reach_both_ends_evenly():
    make = build({"n": _.integer(1, 3), "c": _.choice("xyz")}, quantity=3000)
    drawn = [make(i) for i in range(3000)]
    for field, values in (("n", (1, 2, 3)), ("c", ("x", "y", "z"))):
        counts = collections.Counter(document[field] for document in drawn)
        assert set(counts) == set(values)
        # chi-square, 2 degrees of freedom: p = 0.001 at 13.8
        assert sum((count - 1000) ** 2 / 1000 for count in counts.values()) < 13.8


def test_empty_choices_and_reversed_ranges_are_schema_errors():
    with pytest.raises(SchemaError, match="choice"):
        build({"c": _.choice([])})
    with pytest.raises(SchemaError, match=r"low <= high, not \(5, 1\)"):
        build({"n": _.integer(5, 1)})


@given(seed=st.integers(0, 2**32), low=st.integers(0, 3), extra=st.integers(0, 4))
def test_some_draws_distinct_items_within_the_bounds(seed: int, low: int, extra: int) -> None:
    random = Random(seed)
    values = ["a", "b", "c", "d", "e"]
    for _n in range(20):
        drawn = some(random, values, low, low + extra)
        assert low <= len(drawn) <= min(low + extra, len(values))
        assert len(set(drawn)) == len(drawn) and set(drawn) <= set(values)
        assert low <= between(random, low, low + extra) <= low + extra
        assert pick(random, values) in values


def test_some_is_uniform_over_items():
    random = Random(3)
    counts = collections.Counter(item for _n in range(4000) for item in some(random, "abcd", 2, 2))
    # each of 4 items in 2 of 4 places: 2,000 times; chi-square, 3 degrees of freedom, p = 0.001
    assert sum((count - 2000) ** 2 / 2000 for count in counts.values()) < 16.3
