"""The values of a ``_.unique_choice`` pool: each once, then again, decorated.

A pool's values are used once each in a seeded order, then again as
``"Acme Holdings"``, then ``"Acme Group"``… (:data:`DECORATIONS`), then
``"Acme Holdings 2"``…:
a row's value is a function of its place in the order, so distinct rows get
distinct values without the run keeping a set of the values used.
"""

from __future__ import annotations

from typing import Any, Sequence

from datagen.errors import SchemaError

DECORATIONS = (
    "Holdings",
    "Group",
    "Labs",
    "Systems",
    "Partners",
    "Global",
    "Digital",
    "Analytics",
    "Solutions",
    "Ventures",
    "Works",
    "Collective",
)
"""What a pool's values are followed by once each was used (``Acme Labs``, ``Acme Labs 2``)."""


class UniquePool:
    """The values of a :class:`UniqueChoice`, and the value of each place in its order."""

    def __init__(self, values: Sequence[str]):
        seen: set[str] = set()
        kept = []
        for value in values:
            text = str(value).strip()
            last = text.rsplit(" ", 1)[-1]
            if not text or text in seen or last.isdigit() or last in DECORATIONS:
                continue  # a value that a decorated one could equal
            seen.add(text)
            kept.append(text)
        if not kept:
            raise SchemaError("unique_choice() needs at least one value")
        self.values = kept

    def values_at(self, places: Any) -> list[str]:
        """The values of an int array of places (the first round without a suffix)."""
        import numpy as np  # heavy at start-up: only shards drawn a column at a time need it

        rounds, index = divmod(places, len(self.values))
        table = getattr(self, "_table", None)
        if table is None:
            table = self._table = np.array(self.values, dtype=object)
        found = table[index]
        if rounds.any():  # the names of later rounds, with their suffix
            distinct, inverse = np.unique(rounds, return_inverse=True)
            suffixes = np.array([decoration(int(r)) for r in distinct.tolist()], dtype=object)
            found = found + suffixes[inverse]
        values: list[str] = found.tolist()
        return values

    def value(self, place: int) -> str:
        """Value ``place`` of the order: the pool's value, decorated from the second round."""
        rounds, index = divmod(int(place), len(self.values))
        return self.values[index] + decoration(rounds)


def decoration(rounds: int) -> str:
    """``""``, then `` Holdings``, `` Group``… then `` Holdings 2``…: distinct per round."""
    if rounds == 0:
        return ""
    word = DECORATIONS[(rounds - 1) % len(DECORATIONS)]
    number = (rounds - 1) // len(DECORATIONS)
    return f" {word}" + (f" {number + 1}" if number else "")
