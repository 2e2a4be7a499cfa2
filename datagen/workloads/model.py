"""A workload after loading: tables, key pools, writers and their actions.

Every part remembers where it was written (``Where``: file, line, dotted
key), so that a problem found later (a key pool too small for a run, a
table missing from the database) names the line to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

from datagen.scenarios.distributions import Distribution
from datagen.scenarios.model import Where
from datagen.tablespec import Column

MERGE_RULES = ("replace", "max", "min", "sum", "keep")
DIALECTS = ("postgresql", "mysql", "sqlite")


@dataclass(frozen=True)
class BySql:
    """One SQL statement, the same everywhere or one per dialect (None: skipped there)."""

    statements: Mapping[str, str]  # dialect (or "default") -> SQL
    where: Where

    def for_dialect(self, dialect: str) -> str | None:
        return self.statements.get(dialect, self.statements.get("default"))


@dataclass(frozen=True)
class TableDef:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    where: Where
    provider: str | None = None

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class ViewDef:
    name: str
    sql: BySql  # the SELECT
    materialized: bool
    where: Where


@dataclass(frozen=True)
class KeyPool:
    """``count`` keys ``template.format(n=1..count)``, or the simulated day (``day``)."""

    name: str
    where: Where
    template: str = ""
    count: int = 1
    day: date | None = None

    def key(self, index: int) -> str:
        """The key of 0-based ``index``."""
        return self.template.format(n=index + 1)


@dataclass(frozen=True)
class Generator:
    """How one value of a write is drawn: ``kind`` is a key of the YAML mapping."""

    kind: str  # key | integer | decimal | choice | weighted | mimesis | value | template | number
    argument: Any
    where: Where
    args: Mapping[str, Any] = field(default_factory=dict)  # mimesis keyword arguments


@dataclass(frozen=True)
class Merge:
    """How a column of an upserted row merges a new write: ``rule`` of value ``source``."""

    column: str
    rule: str  # one of MERGE_RULES
    source: str  # the write's value the rule takes (the column itself by default)


@dataclass(frozen=True)
class Upsert:
    """An upsert on ``key``: missing rows are inserted, present ones merged by ``merge``."""

    table: str
    key: tuple[str, ...]
    merge: tuple[Merge, ...]
    where: Where


@dataclass(frozen=True)
class Batch:
    every: float | None  # schedule seconds between runs; None: 1 h / runs_per_hour
    rows: Distribution
    spread: float
    per_row: bool  # transaction: row (else one transaction per run)
    where: Where
    offset: float = 0.0  # schedule seconds before the first run


@dataclass(frozen=True)
class Stream:
    rate: float  # transactions per schedule second
    poisson: bool
    rows: int
    where: Where


@dataclass(frozen=True)
class WriterDef:
    """One writer: when it writes (batch or stream), what (values), and how (action)."""

    name: str
    service: str | None
    where: Where
    schedule: Batch | Stream
    action: str  # upsert | insert | sql
    table: str | None  # the table written by upsert/insert (and an sql: effect's)
    values: Mapping[str, Generator]  # column (or sql parameter) -> generator, in order
    upsert: Upsert | None = None  # the merge of an upsert, or an sql: writer's declared effect
    sql: tuple[BySql, ...] = ()
    after: tuple[BySql, ...] = ()
    refresh: tuple[str, ...] = ()  # views refreshed after each run (materialized ones)
    connections: int = 1
    affinity: bool = True  # a key always goes to the same connection

    @property
    def pooled(self) -> tuple[str, ...]:
        """The values drawn from key pools (distinct together within a batch run)."""
        return tuple(name for name, g in self.values.items() if g.kind == "key")


@dataclass
class Workload:
    name: str
    path: str
    seed: int | None = None
    runs_per_hour: float = 1.0
    duration: float = 3600.0
    services: tuple[str, ...] = ()
    tables: dict[str, TableDef] = field(default_factory=dict)
    views: dict[str, ViewDef] = field(default_factory=dict)
    setup: tuple[BySql, ...] = ()
    keys: dict[str, KeyPool] = field(default_factory=dict)
    writers: dict[str, WriterDef] = field(default_factory=dict)
