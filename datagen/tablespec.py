"""The table model: a document type's table, its columns, keys and references.

Core: documents, scenarios and workloads describe their tables with it, and
every database target (:mod:`datagen.sinks`) creates and fills them from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping


@dataclass(frozen=True)
class Column:
    """A table column: top-level scalars are typed, nested values are JSON."""

    name: str
    type: str  # one of: text, integer, float, boolean, timestamp, date, json
    nullable: bool = True
    addable: bool = False  # may be added to an existing table that lacks it (nullable)


class References(Mapping[str, tuple[str, str]]):
    """A table's foreign keys, ``column -> (table, column)``: read-only and hashable.

    Iterates in the order given; equal to any mapping with the same items.
    """

    __slots__ = ("_items",)

    def __init__(
        self,
        items: Mapping[str, tuple[str, str]] | Iterable[tuple[str, tuple[str, str]]] = (),
    ) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items = {column: (str(table), str(key)) for column, (table, key) in pairs}

    def __getitem__(self, column: str) -> tuple[str, str]:
        return self._items[column]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"References({self._items!r})"


@dataclass(frozen=True)
class TableSpec:
    """The table of one document type (hashable: usable as a key or in a set).

    ``foreign_keys`` may be given as any mapping (or pairs); it is kept as
    read-only ``References``. ``unique`` names the columns whose values are
    distinct across the table (each on its own, besides the key): declared to
    the database as UNIQUE constraints when the table is created.
    """

    name: str
    key: str
    columns: tuple[Column, ...]
    foreign_keys: Mapping[str, tuple[str, str]] = field(default_factory=References)
    unique: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.columns, tuple):
            object.__setattr__(self, "columns", tuple(self.columns))
        if not isinstance(self.foreign_keys, References):
            object.__setattr__(self, "foreign_keys", References(self.foreign_keys))
        if not isinstance(self.unique, tuple):
            object.__setattr__(self, "unique", tuple(self.unique))
