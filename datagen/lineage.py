"""Where a row's references point, and what the rows they point to hold.

Cross-row fields (a user's ``created_at`` after its org's, its e-mail at its
org's domain) ask a :class:`Lineage` two things: which rows of the target a
reference field of some rows points to, and a column of those target rows.
The answers are computed, never looked up: every row's columns are a pure
function of (seed, entity, index) (:mod:`datagen.fields`), so the population
is never held in memory.

:class:`DocumentsLineage` serves the ``document`` command: a reference picks
a row uniformly among the target's count (``--refs org=1000``), from the
row's own index. Scenarios have their own (:mod:`datagen.scenarios.rows`),
where parents own their children and references may keep to a parent.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, Callable, Mapping, Protocol

import numpy as np
from mimesis import Generic
from mimesis.locales import Locale

from datagen.codes import field_seed
from datagen.counters import below
from datagen.errors import SchemaError
from datagen.fields import NULL_TIME, Batch, Columns, keys_of, python_values
from datagen.seeding import REFERENCE_DATE


class Lineage:
    """The population a set of entities' rows belong to (see the module's docstring)."""

    def __init__(self, *, run_seed: int, reference_date: datetime, locale: str = "en"):
        self.run_seed = run_seed
        self.reference_date = reference_date
        self.locale = locale
        self._columns: dict[str, Columns] = {}

    # What a lineage defines ------------------------------------------------------------

    def make_columns(self, entity: str) -> Columns:
        """The columns of ``entity`` (made once, then kept)."""
        raise NotImplementedError

    def target(self, entity: str, field: str) -> str | None:
        """The entity reference ``field`` of ``entity`` points to (None: outside)."""
        raise NotImplementedError

    def ref_rows(self, entity: str, field: str, rows: np.ndarray) -> np.ndarray:
        """The target row each of ``rows`` points to through ``field`` (-1: none)."""
        raise NotImplementedError

    def created_field(self, entity: str) -> str | None:
        """The field holding when a row of ``entity`` was created (``after: org_id``)."""
        raise NotImplementedError

    def position_is(self, entity: str, key: str, rows: np.ndarray) -> np.ndarray:
        """Whether each row is its parent's ``last`` (or ``first``) child."""
        raise SchemaError(
            f"{key!r} (a row's place among its parent's children) needs a scenario",
            where=f"entity {entity!r}",
        )

    # Built on those ------------------------------------------------------------------------

    def columns(self, entity: str) -> Columns:
        found = self._columns.get(entity)
        if found is None:
            found = self._columns[entity] = self.make_columns(entity)
        return found

    def keys_of(self, entity: str, field: str, rows: np.ndarray) -> list[str | None]:
        """The keys ``field`` holds for ``rows``: the target's keys (None where none)."""
        target = self.target(entity, field)
        if target is None:
            return [None] * len(rows)
        picks = self.ref_rows(entity, field, rows)
        unique, inverse = np.unique(picks, return_inverse=True)
        keys: list[str | None] = list(keys_of(self.run_seed, target, unique[unique >= 0].tolist()))
        if len(unique) and unique[0] < 0:
            keys.insert(0, None)
        return [keys[n] for n in inverse.tolist()]

    def field_of(self, entity: str, field: str, path: str, rows: np.ndarray) -> np.ndarray:
        """Column ``path`` of the rows that ``field`` of ``entity``'s ``rows`` points to."""
        target = self.target(entity, field)
        picks = self.ref_rows(entity, field, rows) if target is not None else None
        if target is None or picks is None:
            return _empty(len(rows), time=False)
        known = picks >= 0
        unique, inverse = np.unique(picks[known], return_inverse=True)
        columns = self.columns(target)
        if not columns.has_column(path) and path not in columns.leaves:
            raise SchemaError(
                f"{target!r} has no field {path!r}", where=f"entity {entity!r} field {field!r}"
            )
        found = columns.values(path, unique)
        result = _empty(len(rows), time=found.dtype == np.int64)
        result[known] = found[inverse]
        return result


def _empty(size: int, *, time: bool) -> np.ndarray:
    if time:
        return np.full(size, NULL_TIME, dtype=np.int64)
    array = np.empty(size, dtype=object)
    array[:] = None
    return array


class Provider(Protocol):
    """What a :class:`DocumentsLineage` asks of an entity's document provider."""

    def template(self) -> dict[str, Any]: ...

    def created_field(self) -> str | None: ...


class DocumentsLineage(Lineage):
    """The ``document`` command's population: each provider has ``counts`` rows.

    A reference picks uniformly among the target's rows: ``counts[target]``
    (``--refs``), else as many as the referring run has (its quantity),
    as the command has always done. ``providers(entity)`` is the entity's
    provider: the callers pass ``datagen.documents.get_provider`` (documents
    build rows in a lineage, so this module does not depend on them).
    """

    def __init__(
        self,
        *,
        run_seed: int,
        counts: Mapping[str, int],
        providers: Callable[[str], Provider],
        reference_date: datetime = REFERENCE_DATE,
        locale: str = "en",
    ):
        super().__init__(run_seed=run_seed, reference_date=reference_date, locale=locale)
        self.counts = dict(counts)
        self.providers = providers

    def make_columns(self, entity: str) -> Columns:
        provider = self.providers(entity)
        return Columns(
            provider.template(),
            entity=entity,
            provider=entity,
            lineage=self,
            pools=lambda spec: list(spec.values(generic(self.locale))),  # type: ignore[operator]
        )

    def target(self, entity: str, field: str) -> str | None:
        return self.columns(entity).references.get(field)

    def count(self, entity: str, via: str | None = None) -> int:
        """How many rows of ``entity`` a reference from ``via`` picks among."""
        if entity in self.counts:
            return max(self.counts[entity], 1)
        return max(self.counts.get(via or "", 1), 1)

    def ref_rows(self, entity: str, field: str, rows: np.ndarray) -> np.ndarray:
        target = self.target(entity, field)
        assert target is not None
        seed = field_seed(self.run_seed, entity, field)
        return below(seed, rows, self.count(target, via=entity))

    def created_field(self, entity: str) -> str | None:
        return self.providers(entity).created_field()


@lru_cache(maxsize=8)
def generic(locale: str) -> Generic:
    """Mimesis' data for ``locale`` (for pools such as a locale's company names)."""
    return Generic(Locale(locale), seed=0)


def values_at(lineage: Lineage, entity: str, path: str, rows: list[int]) -> list[Any]:
    """Field ``path`` of ``entity``'s ``rows`` as document values (for journeys, tests)."""
    columns = lineage.columns(entity)
    array = np.asarray(rows, dtype=np.int64)
    return python_values(columns.values(path, array), Batch(columns, array))
