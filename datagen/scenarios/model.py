"""A scenario after loading: entities, references, field overrides and records.

Every part remembers where it was written (file and line), so that errors
found later (an unknown provider, a lookup that matches nothing) can name it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from datagen.errors import InputError
from datagen.scenarios.distributions import Distribution
from datagen.seeding import REFERENCE_DATE


@dataclass(frozen=True)
class Where:
    """A place in a scenario file: ``file:line`` and the dotted key."""

    file: str
    line: int
    key: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    def error(self, message: str, *, hint: str | None = None) -> InputError:
        """An InputError reading ``file:line: key: message``."""
        text = f"{self.key}: {message}" if self.key else message
        return InputError(text, where=str(self), hint=hint)


@dataclass(frozen=True)
class RefDef:
    """Where a reference field picks its key: an entity, maybe of the same parent."""

    field: str
    entity: str
    same: str | None
    where: Where
    distinct: bool = False  # children of one parent pick different rows


@dataclass(frozen=True)
class EntityDef:
    """How many rows of one entity to build, and from which provider."""

    name: str
    provider: str
    where: Where
    count: int | None = None
    per: str | None = None
    via: str | None = None
    distribution: Distribution | None = None
    references: dict[str, RefDef] = field(default_factory=dict)
    scale: float = 1.0  # the product of the scales of the files it was written in
    minimum: MinimumDef | None = None  # children a parent has at least, where it qualifies


@dataclass(frozen=True)
class MinimumDef:
    """``minimum: {count: 1, if: {status: ACTIVE}}``: at least ``count`` children per parent
    whose fields match ``condition`` (every parent without ``if``)."""

    count: int
    condition: dict[str, Any]
    where: Where


@dataclass(frozen=True)
class FieldDef:
    """An override of one (possibly dotted) field of an entity's rows."""

    entity: str
    path: str
    kind: str  # one of datagen.scenarios.overrides.KINDS
    argument: Any
    where: Where
    options: dict[str, Any] = field(default_factory=dict)  # args, days, else, unique


@dataclass(frozen=True)
class RecordDef:
    """One explicit record: its given fields, with the line of each."""

    entity: str
    values: dict[str, Any]
    where: Where
    lines: dict[str, int] = field(default_factory=dict)

    def label(self) -> str:
        """``user record #1 (username=alice)``, for messages."""
        shown = [f"{k}={v!r}" for k, v in self.values.items() if not isinstance(v, (dict, list))]
        number = self.where.key.rsplit("[", 1)[-1].rstrip("]")
        detail = f" ({', '.join(shown[:2])})" if shown else ""
        return f"{self.entity} record #{int(number) + 1}{detail}"

    def at(self, key: str) -> Where:
        return Where(
            self.where.file, self.lines.get(key, self.where.line), f"{self.where.key}.{key}"
        )


@dataclass(frozen=True)
class CheckDef:
    """SQL that must return no rows: for every database, or per dialect."""

    name: str
    sql: str | dict[str, str]  # dialect (postgresql, mysql, sqlite) -> SQL
    where: Where
    description: str = ""


@dataclass
class Scenario:
    """A loaded scenario: the merge of a file and everything it includes."""

    name: str
    path: str
    files: list[str] = field(default_factory=list)
    seed: int | None = None
    reference_date: datetime = REFERENCE_DATE
    entities: dict[str, EntityDef] = field(default_factory=dict)
    fields: dict[str, dict[str, FieldDef]] = field(default_factory=dict)
    records: dict[str, list[RecordDef]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # entities by first mention, file order
    checks: dict[str, CheckDef] = field(default_factory=dict)  # name -> check, in file order
    views: dict[str, CheckDef] = field(default_factory=dict)  # name -> SQL checks read as {name}

    def mention(self, entity: str) -> None:
        if entity not in self.order:
            self.order.append(entity)
