"""A table's records as rows: encoded in column order, keyed, in key order."""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator

from datagen.errors import SinkError
from datagen.tablespec import TableSpec
from datagen.sinks.dialects import RowValues
from datagen.types import Document


@dataclass(frozen=True)
class RowPlan:
    """How one table's records are written: column order, row builder, statement."""

    spec: TableSpec
    names: tuple[str, ...]
    row: Callable[[Document], RowValues]  # the record's values in column order, encoded
    key: int  # index of the key in a row
    statement: str


def encoded_rows(plan: RowPlan, records: Iterable[Document], keys: set[Any]) -> Iterator[RowValues]:
    """The records' rows, encoded, as they are read; their keys are added to ``keys``."""
    build, key, add = plan.row, plan.key, keys.add
    for record in records:
        row = build(record)
        value = row[key]
        if value is None:
            raise SinkError(f"a {plan.spec.name!r} record has no key {plan.spec.key!r}")
        add(value)
        yield row


def last_of_each(rows: list[RowValues], key: int) -> list[RowValues]:
    """``rows`` with only the last row of each key, in the order of their first."""
    return list({row[key]: row for row in rows}.values())


def in_key_order(rows: list[RowValues], key: int) -> list[RowValues]:
    """``rows`` sorted by their key (in place), unless keys of different types can't be.

    B-tree inserts in key order fill one page after another instead of
    jumping around the index (a quarter less work for SQLite, more for
    InnoDB). The sort is stable: of rows sharing a key the last still wins.
    """
    try:
        rows.sort(key=itemgetter(key))
    except TypeError:  # e.g. integers and strings in one key column
        pass
    return rows
