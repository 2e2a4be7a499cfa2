"""A planned entity: everything needed to build any of its rows (see :mod:`.planning`).

Kept apart from the planning itself so that the modules the planning uses
(lineage, records, overrides, rows) can name these types without importing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from datagen.scenarios.children import Children
from datagen.scenarios.distributions import Distribution
from datagen.scenarios.model import FieldDef, Where


@dataclass(frozen=True)
class RefPlan:
    """A reference field of an entity: the entity it picks from, maybe within a parent."""

    field: str
    target: str
    same: str | None = None
    distinct: bool = False  # children of one parent pick different rows


@dataclass
class EntityPlan:
    """Everything needed to build any row of one entity."""

    name: str
    provider: str
    where: Where
    generated: int = 0
    parent: str | None = None
    parent_field: str | None = None
    distribution: Distribution | None = None
    children: Children | None = None  # children of each parent row (built ``per`` a parent)
    refs: list[RefPlan] = field(default_factory=list)
    nulls: list[str] = field(default_factory=list)  # references outside the scenario
    overrides: dict[str, FieldDef] = field(default_factory=dict)  # path -> override
    lookups: dict[str, str] = field(default_factory=dict)  # field -> key (resolved lookups)
    records: list[dict[str, Any]] = field(default_factory=list)  # resolved record values
    record_parents: dict[int, int] = field(default_factory=dict)  # record -> parent row
    record_refs: dict[str, dict[int, int]] = field(default_factory=dict)  # field -> record -> row
    template: dict[str, Any] = field(default_factory=dict)  # with overrides and records
    unique: tuple[str, ...] = ()  # the fields its rows keep distinct

    @property
    def total(self) -> int:
        return len(self.records) + self.generated

    @property
    def counts(self) -> np.ndarray | None:
        """The children of each parent row (drawn again: for reports and tests)."""
        return None if self.children is None else self.children.counts()

    def references_to(self) -> dict[str, str]:
        """Reference field -> the entity it holds a key of."""
        found = {ref.field: ref.target for ref in self.refs}
        if self.parent_field and self.parent:
            found[self.parent_field] = self.parent
        return found


def table_offset(entities: dict[str, EntityPlan], entity: str) -> int:
    """Where ``entity``'s rows start among the rows of its table (codes are per table)."""
    provider = entities[entity].provider
    offset = 0
    for name, other in entities.items():
        if name == entity:
            return offset
        if other.provider == provider:
            offset += other.total
    return offset
