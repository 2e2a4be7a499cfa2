"""Bijections of a row's index, in plain Python: codes and seeded orders distinct per row.

:func:`code_one` gives row ``i`` a short base-36 text and :func:`permuted_one`
its place in a seeded order of ``range(size)``; distinct rows get distinct
values, so unique fields are unique across a whole run without a global set
or a retry. :mod:`datagen.counters` computes the same for arrays of rows
with numpy; documents made one at a time (journeys') use these.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache
from math import gcd

from datagen.seeding import derive_seed


def field_seed(run_seed: int, namespace: str, path: str, *salt: object) -> int:
    """The seed of one field of one entity (``salt`` tells a field's parts apart)."""
    return derive_seed(run_seed, namespace, "field", path, *salt)


ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_FIRST_WIDTH = 3


def _blocks() -> list[tuple[int, int]]:
    """(first index, width) of each block of codes: 36**3 of width 3, then 36**4 of width 4…"""
    blocks, start = [], 0
    for width in range(_FIRST_WIDTH, 14):
        blocks.append((start, width))
        start += 36**width
    return blocks


BLOCKS = _blocks()
STARTS = [start for start, _ in BLOCKS]


@lru_cache(maxsize=256)
def affine(seed: int, modulus: int) -> tuple[int, int]:
    """``(a, b)`` with ``a`` coprime with ``modulus``: ``x -> (a·x + b) mod modulus``."""
    a = derive_seed(seed, "a", modulus) % modulus or 1
    while gcd(a, modulus) != 1:
        a = a % modulus + 1  # reaches 1 at the latest
    return a, derive_seed(seed, "b", modulus) % modulus


def code_one(seed: int, row: int) -> str:
    """``code(seed, [row])[0]``, without numpy (for documents built one at a time)."""
    block = bisect_right(STARTS, row) - 1
    start, width = BLOCKS[block]
    modulus = 36**width
    a, shift = affine(seed, modulus)
    return base36((a * (row - start) + shift) % modulus, width)


def base36(value: int, width: int) -> str:
    digits = []
    for _ in range(width):
        value, digit = divmod(value, 36)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def permuted_one(seed: int, row: int, size: int) -> int:
    """``permuted(seed, [row], size)[0]``, without numpy."""
    a, b = affine(seed, size)
    rounds, place = divmod(row, size)
    return rounds * size + (a * place + b) % size
