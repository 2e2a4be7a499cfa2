"""Draws addressed by row: a value of row ``i`` computed from ``(seed, i)`` alone.

A shard's random stream gives row ``i`` a value that depends on every draw
before it; another table cannot ask "what is org 731's ``created_at``?"
without replaying org 731's shard. The draws here are *counter-based*: a
splitmix64 hash of (field seed, row index) gives a uniform in ``[0, 1)``, so
any row's value is computed directly, for any set of rows at once, in any
process. That is what lets a child's time follow its parent's, a job's state
follow its org's, and a user's e-mail use its org's domain, without holding
a parent row in memory.

:func:`code` and :func:`permuted` are bijections of the index: the values
they give distinct rows are distinct, which is how unique fields are made
unique across a whole run without a global set or a retry.
"""

from __future__ import annotations

import numpy as np

from datagen.codes import ALPHABET, BLOCKS, STARTS, affine, base36

_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_M64 = (1 << 64) - 1


def hashes(seed: int, rows: np.ndarray) -> np.ndarray:
    """A well-mixed uint64 of each row index for ``seed`` (splitmix64)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed & _M64) + (rows.astype(np.uint64) + np.uint64(1)) * np.uint64(_GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(_MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(_MIX2)
        mixed: np.ndarray = z ^ (z >> np.uint64(31))
    return mixed


def uniforms(seed: int, rows: np.ndarray) -> np.ndarray:
    """A float in ``[0, 1)`` for each row, a pure function of (seed, row)."""
    drawn: np.ndarray = (hashes(seed, rows) >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return drawn


def below(seed: int, rows: np.ndarray, count: np.ndarray | int) -> np.ndarray:
    """An int in ``[0, count)`` for each row (``count`` ≥ 1, scalar or per row)."""
    picked: np.ndarray = (uniforms(seed, rows) * count).astype(np.int64)
    return picked


def integers(seed: int, rows: np.ndarray, low: int, high: int) -> list[int]:
    """An int in ``[low, high]`` for each row, both included."""
    span = high - low + 1
    if span <= 2**52 and -(2**62) < low and high < 2**62:
        drawn: list[int] = (low + below(seed, rows, span)).tolist()
        return drawn
    # Beyond what a float draws evenly: 128 bits of two hashes, in Python ints.
    high_bits, low_bits = hashes(seed, rows).tolist(), hashes(seed ^ _GOLDEN, rows).tolist()
    return [low + ((h << 64) | k) % span for h, k in zip(high_bits, low_bits)]


# Bijections of the index ------------------------------------------------------------------

_ASCII = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
_STARTS = np.array(STARTS, dtype=np.int64)


def code(seed: int, rows: np.ndarray) -> list[str]:
    """A short base-36 code per row, distinct for distinct rows (``"4f2"``, ``"k3f9"``).

    Rows ``[0, 36**3)`` get three characters, the next ``36**4`` four, and so
    on; within a block the code is ``(a·x + b) mod 36**width`` of the row's
    place in it, a bijection. So a code never changes with the run's size.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if not len(rows):
        return []
    block = np.searchsorted(_STARTS, rows, side="right") - 1
    low, high = int(block.min()), int(block.max())
    if low == high:
        return _codes(seed, rows, low)
    result: list[str] = [""] * len(rows)
    for b in range(low, high + 1):
        these = np.nonzero(block == b)[0]
        for position, text in zip(these.tolist(), _codes(seed, rows[these], b)):
            result[position] = text
    return result


def _codes(seed: int, rows: np.ndarray, block: int) -> list[str]:
    """The codes of ``rows``, all in ``block``."""
    start, width = BLOCKS[block]
    modulus = 36**width
    a, shift = affine(seed, modulus)
    places = rows - start
    if width > 6:  # a·x would pass 2**63
        return [base36((a * int(x) + shift) % modulus, width) for x in places.tolist()]
    values = (a * places + shift) % modulus
    lines = np.full((len(values), width + 1), ord("\n"), dtype=np.uint8)
    for k in range(width):  # the last digit first
        values, digit = np.divmod(values, 36)
        lines[:, width - 1 - k] = _ASCII[digit]
    return lines.tobytes().decode("ascii").split("\n")[:-1]


def permuted(seed: int, rows: np.ndarray, size: int) -> np.ndarray:
    """Each row's place in a seeded order of ``range(size)``, round after round.

    Row ``i`` gets ``round · size + (a·(i mod size) + b) mod size`` with
    ``round = i // size``: distinct rows get distinct values, the first
    ``size`` rows a shuffle of ``range(size)``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    a, b = affine(seed, size)
    rounds, places = np.divmod(rows, size)
    if size < 3 * 10**9:
        result: np.ndarray = rounds * size + (a * places + b) % size
        return result
    return np.array(
        [r * size + (a * int(x) + b) % size for r, x in zip(rounds.tolist(), places.tolist())],
        dtype=np.int64,
    )
