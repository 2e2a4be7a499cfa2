"""Draws addressed by row (datagen.counters): what cross-row and unique fields rest on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datagen.codes import code_one, permuted_one
from datagen.counters import code, integers, permuted, uniforms


def test_uniforms_are_a_function_of_seed_and_row_only() -> None:
    rows = np.arange(10_000)
    drawn = uniforms(7, rows)
    assert np.array_equal(drawn[1234:1240], uniforms(7, rows[1234:1240]))  # any subset
    assert np.array_equal(drawn[::-1], uniforms(7, rows[::-1]))  # any order
    assert not np.array_equal(drawn, uniforms(8, rows))
    assert 0 <= drawn.min() and drawn.max() < 1
    counts, _ = np.histogram(drawn, bins=10, range=(0, 1))
    # chi-square, 9 degrees of freedom: p = 0.001 at 27.9
    assert sum((c - 1000) ** 2 / 1000 for c in counts) < 27.9


def test_integers_reach_both_ends_and_wide_ranges() -> None:
    rows = np.arange(3000)
    assert set(integers(1, rows, 1, 3)) == {1, 2, 3}
    wide = integers(1, rows[:200], 0, 2**70)
    assert all(0 <= n <= 2**70 for n in wide) and max(wide) > 2**64


def test_codes_are_distinct_for_two_million_rows() -> None:
    codes = code(5, np.arange(2_000_000))
    assert len(set(codes)) == 2_000_000
    assert {len(c) for c in codes[: 36**3]} == {3}  # the first 46,656 rows: three characters
    assert {len(c) for c in codes[36**3 : 36**3 + 36**4]} == {4}
    assert all(c.isalnum() and c == c.lower() for c in codes[:1000])


@given(seed=st.integers(0, 2**64 - 1), rows=st.lists(st.integers(0, 10**15), max_size=40))
def test_a_code_is_the_same_alone_or_in_a_batch(seed: int, rows: list[int]) -> None:
    assert code(seed, np.array(rows, dtype=np.int64)) == [code_one(seed, r) for r in rows]


@pytest.mark.parametrize("size", [1, 7, 36, 1000, 16_777_216])
def test_permuted_is_a_bijection_round_after_round(size: int) -> None:
    rows = np.arange(min(size * 3, 30_000))
    places = permuted(11, rows, size)
    assert len(set(places.tolist())) == len(rows)
    first = places[: min(size, len(rows))]
    assert first.min() >= 0 and first.max() < size
    assert [permuted_one(11, int(r), size) for r in rows[:50]] == places[:50].tolist()
