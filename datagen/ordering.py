"""The one topological sort: each item after the items it depends on, depth first.

Entities (:mod:`datagen.scenarios.planning`), the tables a publish creates and
fills (:mod:`datagen.publish`) and the tables a database sink creates
(:mod:`datagen.sinks.dialects`) are all ordered here. Depth first, in post-order,
from the items in the order given: an order already "parents first" is kept as
it is, and the scenario planner's order (which decides the order of the shards,
so the output's bytes) is the one it always had. ``graphlib`` orders by rounds of
ready items instead, which would reorder a scenario's entities.
"""

from __future__ import annotations

from typing import Callable, Hashable, Iterable, NoReturn, TypeVar

T = TypeVar("T", bound=Hashable)


def depth_first(
    items: Iterable[T],
    parents: Callable[[T], Iterable[T]],
    *,
    cycle: Callable[[list[T]], NoReturn] | None = None,
) -> list[T]:
    """``items``, each after its ``parents`` (visited in the order ``parents`` gives).

    A cycle calls ``cycle`` with it (``[a, b, a]``), which raises; without
    ``cycle`` it is broken where an item is met again.
    """
    ordered: list[T] = []
    state: dict[T, int] = {}  # 1: being visited, 2: done

    def visit(item: T, chain: list[T]) -> None:
        seen = state.get(item)
        if seen == 2:
            return
        if seen == 1:
            if cycle is not None:
                cycle([*chain[chain.index(item) :], item])
            return
        state[item] = 1
        for parent in parents(item):
            visit(parent, [*chain, item])
        state[item] = 2
        ordered.append(item)

    for item in items:
        visit(item, [])
    return ordered
