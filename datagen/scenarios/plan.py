"""A planned scenario: its entities in order, their tables, the seed (see :mod:`.planning`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from datagen.scenarios.entity_plan import EntityPlan, table_offset
from datagen.scenarios.lineage import ScenarioLineage
from datagen.scenarios.model import Scenario
from datagen.tablespec import TableSpec


@dataclass
class Plan:
    """A scenario ready to build: entities in order, their tables, the seed."""

    scenario: Scenario
    seed: int
    scale: float
    entities: dict[str, EntityPlan]
    tables: dict[str, TableSpec] = field(default_factory=dict)  # provider -> table
    locale: str = "en"
    lineage: ScenarioLineage = field(init=False)
    record_cache: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # entity -> rows

    def __post_init__(self) -> None:
        self.lineage = ScenarioLineage(
            self.entities, seed=self.seed, reference_date=self.reference_date, locale=self.locale
        )

    @property
    def reference_date(self) -> datetime:
        return self.scenario.reference_date

    @property
    def rows(self) -> int:
        return sum(entity.total for entity in self.entities.values())

    def table_of(self, entity: str) -> TableSpec:
        return self.tables[self.entities[entity].provider]

    def table_offset(self, entity: str) -> int:
        """Where ``entity``'s rows start among the rows of its table (codes are per table)."""
        return table_offset(self.entities, entity)

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        totals: dict[str, int] = {}
        for entity in self.entities.values():
            totals[entity.provider] = totals.get(entity.provider, 0) + entity.total
        return totals
