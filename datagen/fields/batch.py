"""The column fields of an entity (:class:`Columns`) and of a set of its rows (:class:`Batch`).

How each spec's column is computed is registered on :func:`evaluate` by
:mod:`datagen.fields.draws`, and which specs are columns on :func:`is_column` by
:mod:`datagen.fields.kinds` (both loaded with the package).
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatch
from typing import Any, Callable, Mapping, Protocol

import numpy as np

from datagen.codes import field_seed
from datagen.counters import code, uniforms
from datagen.errors import SchemaError
from datagen.fields.times import datetimes, to_micros
from datagen.pools import UniquePool
from datagen.schema import walk_specs
from datagen.specs import Ref, Spec, UniqueChoice


class Population(Protocol):
    """What columns ask of the rows' population (a :class:`datagen.lineage.Lineage`)."""

    run_seed: int
    reference_date: datetime

    def target(self, entity: str, field: str) -> str | None: ...
    def keys_of(self, entity: str, field: str, rows: np.ndarray) -> list[str | None]: ...
    def field_of(self, entity: str, field: str, path: str, rows: np.ndarray) -> np.ndarray: ...
    def created_field(self, entity: str) -> str | None: ...
    def position_is(self, entity: str, key: str, rows: np.ndarray) -> np.ndarray: ...


class Columns:
    """The column fields of one entity's template, for any rows.

    ``template`` is the provider's template (with a scenario's overrides in
    it); ``entity`` names the rows (keys and seeds derive from it) and
    ``table`` the table they go to (codes are distinct across a table, so an
    entity's rows start at ``code_offset`` in it).
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        entity: str,
        provider: str,
        lineage: Population,
        table: str | None = None,
        code_offset: int = 0,
        pools: Callable[[UniqueChoice], list[str]] | None = None,
    ):
        self.entity = entity
        self.provider = provider
        self.lineage = lineage
        self.table = table or provider
        self.code_offset = code_offset
        self.template = template
        self.leaves: dict[str, Any] = dict(walk_specs(template))
        self.references = {
            name: spec.provider
            for name, value in template.items()
            if isinstance(spec := unwrapped(value), Ref)
        }
        self._pools = pools
        self._pool_cache: dict[int, UniquePool] = {}

    @property
    def run_seed(self) -> int:
        return self.lineage.run_seed

    def seed(self, path: str, *salt: object) -> int:
        return field_seed(self.run_seed, self.entity, path, *salt)

    def pool(self, spec: UniqueChoice) -> UniquePool:
        if id(spec) not in self._pool_cache:
            values = spec.values
            if callable(values):
                if self._pools is None:
                    raise SchemaError("unique_choice() of a function needs the run's locale")
                found = self._pools(spec)
            else:
                found = list(values)
            self._pool_cache[id(spec)] = UniquePool(found)
        return self._pool_cache[id(spec)]

    def has_column(self, path: str) -> bool:
        """Whether ``path`` is a column (or a constant) of this entity's rows."""
        if path in self.leaves:
            value = self.leaves[path]
            return not isinstance(value, Spec) or is_column(value, self)
        return False

    def values(self, path: str, rows: np.ndarray) -> np.ndarray:
        """Field ``path`` of ``rows`` (an int array of row indices)."""
        return Batch(self, rows).value(path)


def unwrapped(value: Any) -> Any:
    """``value`` without the wrappers that only change some rows' values (records')."""
    while isinstance(value, Spec) and value.transparent:
        value = value.item  # type: ignore[attr-defined]
    return value


class Batch:
    """The columns of one set of rows of one entity: each computed once."""

    def __init__(
        self, columns: Columns, rows: np.ndarray, origin: tuple[Batch, np.ndarray] | None = None
    ):
        self.columns = columns
        self.rows = np.asarray(rows, dtype=np.int64)
        self.size = len(self.rows)
        self._memo: dict[str, np.ndarray] = {}
        self._python: dict[str, list[Any]] = {}
        self._busy: list[str] = []
        self._reads: dict[str, np.ndarray] = {}  # other rows' fields (``org_id.domain``)
        self._origin = origin  # (batch, mask): a subset's rows are batch's rows[mask]

    @property
    def lineage(self) -> Population:
        return self.columns.lineage

    def value(self, path: str) -> np.ndarray:
        """Field ``path`` of this batch's rows (a column, or a constant)."""
        found = self._memo.get(path)
        if found is not None:
            return found
        if self._origin is not None:  # computed for the whole batch already: its rows' values
            batch, mask = self._origin
            whole = batch._memo.get(path)
            if whole is not None:
                mine: np.ndarray = whole[mask]
                self._memo[path] = mine
                return mine
        columns = self.columns
        if path not in columns.leaves:
            raise SchemaError(
                f"{columns.provider!r} has no field {path!r}", where=f"entity {columns.entity!r}"
            )
        if path in self._busy:
            chain = " -> ".join([*self._busy[self._busy.index(path) :], path])
            raise SchemaError(f"fields depend on each other in a cycle: {chain}")
        self._busy.append(path)
        try:
            spec = columns.leaves[path]
            result = evaluate(spec, self, path) if isinstance(spec, Spec) else constant(spec, self)
        finally:
            self._busy.pop()
        self._memo[path] = result
        return result

    def read(self, path: str) -> np.ndarray:
        """``path`` of these rows, or of the rows their reference points to (``org_id.domain``)."""
        head, _, rest = path.partition(".")
        if not rest or head not in self.columns.references:
            return self.value(path)
        found = self._reads.get(path)
        if found is None:
            if self._origin is not None:  # read once for the whole batch, shared by its subsets
                batch, mask = self._origin
                found = batch.read(path)[mask]
            else:
                found = self.lineage.field_of(self.columns.entity, head, rest, self.rows)
            self._reads[path] = found
        return found

    def python(self, path: str) -> list[Any]:
        """``read(path)`` as the documents' Python values (converted once)."""
        found = self._python.get(path)
        if found is None:
            found = self._python[path] = python_values(self.read(path), self)
        return found

    def subset(self, mask: np.ndarray) -> Batch:
        """The batch of the rows where ``mask`` holds.

        A value is a pure function of its row, so the subset takes the fields
        this batch has computed, and other rows' fields it reads are read once
        for this batch's rows (the branches of a ``cases`` read them once, not
        once each).
        """
        return Batch(self.columns, self.rows[mask], origin=(self, mask))

    def seed(self, path: str, *salt: object) -> int:
        return self.columns.seed(path, *salt)

    def uniforms(self, path: str, *salt: object) -> np.ndarray:
        return uniforms(self.seed(path, *salt), self.rows)


@singledispatch
def evaluate(spec: Spec, batch: Batch, path: str) -> np.ndarray:
    """The values of column ``spec`` (at ``path``) for ``batch``'s rows."""
    raise SchemaError(
        f"{path!r} ({spec.describe()}) is drawn row by row, not from the row's index: "
        "another field or table can't read it",
        where=f"entity {batch.columns.entity!r}",
        hint="derive it from helper fields (_.choice, _.unique_choice, _.derive …)",
    )


@singledispatch
def is_column(spec: Spec, columns: Columns) -> bool:
    """Whether ``spec`` is drawn from the row's index (a column) in ``columns``' template."""
    return False


def objects(values: list[Any]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def constant(value: Any, batch: Batch) -> np.ndarray:
    if isinstance(value, datetime):
        return np.full(batch.size, to_micros(value), dtype=np.int64)
    array = np.empty(batch.size, dtype=object)
    for n in range(batch.size):
        array[n] = value
    return array


def item_values(item: Any, batch: Batch, path: str) -> np.ndarray:
    """The values of a spec's inner spec (or constant), seeded apart from the spec's own."""
    if isinstance(item, Spec):
        return evaluate(item, batch, f"{path}/item")
    return constant(item, batch)


def row_codes(batch: Batch) -> list[str]:
    """The codes of ``batch``'s rows: distinct across the whole table."""
    columns = batch.columns
    seed = field_seed(columns.run_seed, columns.table, "", "code")
    return code(seed, batch.rows + columns.code_offset)


def python_values(values: np.ndarray, batch: Batch) -> list[Any]:
    """A column as the Python values of the documents."""
    if values.dtype == np.int64:
        return datetimes(values, batch.lineage.reference_date.tzinfo)
    converted: list[Any] = values.tolist()
    return converted
