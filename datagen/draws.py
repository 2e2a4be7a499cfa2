"""Cheap random draws for providers' own functions (``_.call(fn)``, ``finalize``).

``random.choice``, ``randint`` and ``sample`` draw through Python-level
rejection sampling; these take one ``random()`` per draw, a third of the
cost, with a bias (under ``n / 2**53``) no test data set can show. Templates
get the same draws from :class:`datagen.schema.Compiler`.
"""

from __future__ import annotations

from random import Random
from typing import Sequence, TypeVar

T = TypeVar("T")


def pick(random: Random, values: Sequence[T]) -> T:
    """One of ``values`` (not empty), uniformly."""
    return values[int(random.random() * len(values))]


def between(random: Random, low: int, high: int) -> int:
    """An int in ``[low, high]``, both included."""
    return low + int(random.random() * (high - low + 1))


def some(random: Random, values: Sequence[T], low: int, high: int) -> list[T]:
    """Between ``low`` and ``high`` distinct items of ``values``, in a random order."""
    draw = random.random
    count = min(low + int(draw() * (high - low + 1)), len(values))
    pool = list(values)
    size = len(pool)
    for i in range(count):  # a partial Fisher-Yates shuffle
        j = i + int(draw() * (size - i))
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:count]
