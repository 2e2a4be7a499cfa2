"""The counts a database sink reports are the database's, never the rows it sent.

Two checks, each cheap where the data is big:

- **Per batch**: the statements that write a batch match on the primary key
  only (an insert, or an update joined on the key), so the database's own
  count of the rows each inserted and updated accounts for every key:
  inserted + updated must equal the batch's distinct keys, or the batch is
  rolled back and the run fails, naming the table and both numbers. It is
  free (the drivers return these counts) and it holds for a table that was
  already there, whatever else it holds.
- **Per run**, for each table the run created (or reset): one ``COUNT(*)``
  at the end. Only this run wrote there, so the table must hold exactly the
  rows the run inserted; fewer fails the run, naming both numbers. (More is
  another writer's, at the same time: not this run's to report.)

``Ledger`` keeps the database's counts per table; it also says what is
committed when a batch fails on a database where each batch is committed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from datagen.errors import SinkError

DISTINCT_AGAIN = "make the values distinct, or drop that constraint, and run it again"
DISTINCT = (
    "make the values distinct, or drop that constraint, then run the same command again to "
    "finish: the rows already in are upserted, not doubled; or add --reset to start from "
    "empty tables"
)


@dataclass
class Ledger:
    """What a sink's writes did, per table, as the database counted it."""

    created: set[str] = field(default_factory=set)  # tables made (or reset) when opened
    batches: Counter[str] = field(default_factory=Counter)
    new: Counter[str] = field(default_factory=Counter)  # rows inserted
    updated: Counter[str] = field(default_factory=Counter)  # rows that were there, updated

    def forget(self, table: str) -> None:
        """``table`` was (re)created empty: what was written there before is gone."""
        for counts in (self.batches, self.new, self.updated):
            counts.pop(table, None)

    def record(self, table: str, new: int, updated: int) -> None:
        self.batches[table] += 1
        self.new[table] += new
        self.updated[table] += updated

    def rows(self, table: str) -> int:
        return self.new[table] + self.updated[table]


def committed(ledger: Ledger) -> str:
    """What is committed when a batch fails, on a database that commits each batch.

    ``committed before this batch: org 1,000 rows (1 batch), user 50,000 rows
    (1 batch); this batch was rolled back``.
    """
    parts = [
        f"{table} {ledger.rows(table):,} rows ({count:,} batch{'es' if count > 1 else ''})"
        for table, count in ledger.batches.items()
        if count
    ]
    if not parts:
        return "nothing is committed (this batch was rolled back)"
    return f"committed before this batch: {', '.join(parts)}; this batch was rolled back"


class Miscount(SinkError):
    """The database wrote fewer (or more) rows than a batch had keys."""


def check_batch(table: str, sent: int, new: int, updated: int) -> None:
    """Miscount unless the database wrote a row for every distinct key of the batch."""
    if new + updated != sent:
        raise Miscount(
            f"the database wrote {new + updated:,} rows ({new:,} new, {updated:,} updated) "
            f"for a batch of {sent:,} distinct keys (a trigger or rule may skip rows)"
        )


def read_back(ledger: Ledger, count: Callable[[str], int], where: str) -> dict[str, int]:
    """The rows of each table this run created, counted in the database (one COUNT each).

    Raises SinkError naming the table and both numbers if one holds fewer
    rows than the run inserted into it.
    """
    found: dict[str, int] = {}
    for table in ledger.created:
        if not ledger.batches[table]:
            continue
        rows = count(table)
        if rows < ledger.new[table]:
            raise SinkError(
                f"table {table!r} at {where} holds {rows:,} rows, but this run inserted "
                f"{ledger.new[table]:,} and the database counted each",
                hint="another client deleted rows while it ran; run it again with --reset",
            )
        found[table] = min(rows, ledger.rows(table))
    return found
