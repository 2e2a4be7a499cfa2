"""Column fields: the value of a template's field for any set of rows, at once.

A *column* is a field whose value for row ``i`` is a pure function of (run
seed, entity, field, ``i``) and of other columns (of the row, or of the rows
its references point to): keys, references, weighted and plain choices,
integers, decimals, timestamps, codes, and what is derived from those.
:class:`Columns` computes any column of one entity for an array of rows;
numpy draws each from :mod:`datagen.counters`, so no row depends on the rows
drawn before it. Other rows are reached through a :class:`datagen.lineage.Lineage`:
a child's ``created_at`` after its org's is computed from the org's
``created_at`` at the org rows the child points to, without the org rows
being built or held.

Values are numpy arrays: times as ``int64`` microseconds since the epoch
(:data:`NULL_TIME` for none), everything else as ``object`` arrays of the
Python values the documents hold.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import singledispatch
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np

from datagen.codes import field_seed
from datagen.counters import below, code, hashes, integers, permuted, uniforms
from datagen.errors import SchemaError
from datagen.schema import walk_specs
from datagen.specs import (
    POSITION_KEYS,
    SHARE_KEY,
    Cases,
    Choice,
    Code,
    Condition,
    Decimal,
    Derive,
    Integer,
    Key,
    Nullable,
    Ref,
    Sequence_,
    Serial,
    Spec,
    Timestamp,
    Unique,
    UniqueChoice,
    UniquePool,
    Uuid,
    Weighted,
    unique_text,
)

if TYPE_CHECKING:
    from datagen.lineage import Lineage

NULL_TIME = np.iinfo(np.int64).min
"""A time column's value for "no time" (None in the documents)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = 1_000_000


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
        lineage: Lineage,
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

    def __init__(self, columns: Columns, rows: np.ndarray):
        self.columns = columns
        self.rows = np.asarray(rows, dtype=np.int64)
        self.size = len(self.rows)
        self._memo: dict[str, np.ndarray] = {}
        self._python: dict[str, list[Any]] = {}
        self._busy: list[str] = []

    @property
    def lineage(self) -> Lineage:
        return self.columns.lineage

    def value(self, path: str) -> np.ndarray:
        """Field ``path`` of this batch's rows (a column, or a constant)."""
        found = self._memo.get(path)
        if found is not None:
            return found
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
        if rest and head in self.columns.references:
            return self.lineage.field_of(self.columns.entity, head, rest, self.rows)
        return self.value(path)

    def python(self, path: str) -> list[Any]:
        """``read(path)`` as the documents' Python values (converted once)."""
        found = self._python.get(path)
        if found is None:
            found = self._python[path] = python_values(self.read(path), self)
        return found

    def subset(self, mask: np.ndarray) -> Batch:
        """The batch of the rows where ``mask`` holds (sharing nothing with this one)."""
        return Batch(self.columns, self.rows[mask])

    def seed(self, path: str, *salt: object) -> int:
        return self.columns.seed(path, *salt)

    def uniforms(self, path: str, *salt: object) -> np.ndarray:
        return uniforms(self.seed(path, *salt), self.rows)


# Evaluating specs -------------------------------------------------------------------------


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


@evaluate.register
def _key(spec: Key, batch: Batch, path: str) -> np.ndarray:
    from datagen.columns import keys_of

    return objects(keys_of(batch.columns.run_seed, batch.columns.entity, batch.rows.tolist()))


@evaluate.register
def _ref(spec: Ref, batch: Batch, path: str) -> np.ndarray:
    field = path.split("/", 1)[0]  # the reference field, whatever wraps the spec
    return objects(batch.lineage.keys_of(batch.columns.entity, field, batch.rows))


@evaluate.register
def _integer(spec: Integer, batch: Batch, path: str) -> np.ndarray:
    if spec.high < spec.low:
        raise SchemaError(f"an integer range needs low <= high, not ({spec.low}, {spec.high})")
    return objects(integers(batch.seed(path), batch.rows, spec.low, spec.high))


@evaluate.register
def _weighted(spec: Weighted, batch: Batch, path: str) -> np.ndarray:
    values = list(spec.choices)
    cumulative = np.cumsum([float(w) for w in spec.choices.values()])
    drawn = batch.uniforms(path) * cumulative[-1]
    picked = np.minimum(np.searchsorted(cumulative, drawn, side="right"), len(values) - 1)
    return _picked(values, picked)


@evaluate.register
def _choice(spec: Choice, batch: Batch, path: str) -> np.ndarray:
    values = list(spec.values)
    if not values:
        raise SchemaError("choice() needs at least one value")
    return _picked(values, below(batch.seed(path), batch.rows, len(values)))


def _picked(values: list[Any], indices: np.ndarray) -> np.ndarray:
    table = np.empty(len(values), dtype=object)
    for n, value in enumerate(values):  # one by one: numpy would unpack equal-length lists
        table[n] = value
    picked: np.ndarray = table[indices]
    if any(isinstance(v, (dict, list)) for v in values):
        from copy import deepcopy

        picked = objects([deepcopy(v) for v in picked])
    return picked


@evaluate.register
def _decimal(spec: Decimal, batch: Batch, path: str) -> np.ndarray:
    drawn = spec.low + batch.uniforms(path) * (spec.high - spec.low)
    return objects(np.round(drawn, spec.precision).tolist())


@evaluate.register
def _timestamp(spec: Timestamp, batch: Batch, path: str) -> np.ndarray:
    """Whole seconds ``k`` in ``[lo, hi]`` before the reference date, uniformly.

    With anchors, ``k`` is at most the whole seconds from the latest anchor to
    the reference date (at the anchor's second when that is below ``lo``).
    """
    lo_s, hi_s = spec.seconds
    reference = to_micros(batch.lineage.reference_date)
    most = np.full(batch.size, hi_s, dtype=np.int64)
    for anchor_path in spec.after:
        anchor = anchor_times(batch, anchor_path)
        known = anchor != NULL_TIME
        most[known] = np.minimum(most[known], np.maximum((reference - anchor[known]) // _US, 0))
    least = np.minimum(lo_s, most)
    seconds = least + (batch.uniforms(path) * (most - least + 1)).astype(np.int64)
    result: np.ndarray = reference - seconds * _US
    return result


def anchor_times(batch: Batch, path: str) -> np.ndarray:
    """The times ``path`` names for ``batch``'s rows: a field, or a referenced row's creation."""
    head, _, rest = path.partition(".")
    if head in batch.columns.references and not rest:
        target = batch.lineage.target(batch.columns.entity, head)
        if target is None:  # a reference to rows outside: no time to follow
            return np.full(batch.size, NULL_TIME, dtype=np.int64)
        created = batch.lineage.created_field(target)
        if created is None:
            raise SchemaError(
                f"'after: {path}' names {target!r}, which has no creation time",
                where=f"entity {batch.columns.entity!r}",
                hint=f"name its field: {head}.<field>, or set 'created' on the provider",
            )
        path = f"{head}.{created}"
    return to_times(batch.read(path))


@evaluate.register
def _uuid(spec: Uuid, batch: Batch, path: str) -> np.ndarray:
    from datagen.columns import uuids_of

    high, low = hashes(batch.seed(path, 0), batch.rows), hashes(batch.seed(path, 1), batch.rows)
    return objects(uuids_of(high, low))


@evaluate.register
def _sequence(spec: Sequence_, batch: Batch, path: str) -> np.ndarray:
    return objects((batch.rows + int(spec.start)).tolist())


@evaluate.register
def _nullable(spec: Nullable, batch: Batch, path: str) -> np.ndarray:
    empty = batch.uniforms(path, "null") < spec.probability
    values = item_values(spec.item, batch, path)
    if values.dtype == np.int64:
        result = values.copy()
        result[empty] = NULL_TIME
        return result
    result = values.copy()
    result[empty] = None
    return result


def item_values(item: Any, batch: Batch, path: str) -> np.ndarray:
    """The values of a spec's inner spec (or constant), seeded apart from the spec's own."""
    if isinstance(item, Spec):
        return evaluate(item, batch, f"{path}/item")
    return constant(item, batch)


@evaluate.register
def _code(spec: Code, batch: Batch, path: str) -> np.ndarray:
    return objects(row_codes(batch))


def row_codes(batch: Batch) -> list[str]:
    """The codes of ``batch``'s rows: distinct across the whole table."""
    columns = batch.columns
    seed = field_seed(columns.run_seed, columns.table, "", "code")
    return code(seed, batch.rows + columns.code_offset)


@evaluate.register
def _unique(spec: Unique, batch: Batch, path: str) -> np.ndarray:
    values = item_values(spec.item, batch, path)
    return objects([unique_text(v, c) for v, c in zip(values.tolist(), row_codes(batch))])


@evaluate.register
def _unique_choice(spec: UniqueChoice, batch: Batch, path: str) -> np.ndarray:
    pool = batch.columns.pool(spec)
    columns = batch.columns
    seed = field_seed(columns.run_seed, columns.table, path, "serial")
    places = permuted(seed, batch.rows + columns.code_offset, len(pool.values))
    return objects(pool.values_at(places))


@evaluate.register
def _serial(spec: Serial, batch: Batch, path: str) -> np.ndarray:
    columns = batch.columns
    seed = field_seed(columns.run_seed, columns.table, path, "serial")
    return objects(permuted(seed, batch.rows + columns.code_offset, spec.size).tolist())


@evaluate.register
def _derive(spec: Derive, batch: Batch, path: str) -> np.ndarray:
    lists = [
        (
            batch.python(arg)
            if isinstance(arg, str)
            else python_values(item_values(arg, batch, f"{path}/{n}"), batch)
        )
        for n, arg in enumerate(spec.args)
    ]
    return objects([spec.function(*values) for values in zip(*lists)] if lists else [])


@evaluate.register
def _cases(spec: Cases, batch: Batch, path: str) -> np.ndarray:
    chosen = np.full(batch.size, len(spec.cases), dtype=np.int64)
    for number, (condition, _) in reversed(list(enumerate(spec.cases))):
        chosen[holds(condition, batch, f"{path}/case{number}")] = number
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    for number, branch in enumerate([*(s for _, s in spec.cases), spec.default]):
        mask = chosen == number
        if mask.any():
            parts.append((mask, item_values(branch, batch.subset(mask), f"{path}/{number}")))
    times = any(values.dtype == np.int64 for _, values in parts)
    result = (
        np.full(batch.size, NULL_TIME, dtype=np.int64) if times else objects([None] * batch.size)
    )
    for mask, values in parts:
        result[mask] = to_times(values) if times else values
    return result


def holds(condition: Condition, batch: Batch, salt: str) -> np.ndarray:
    """Where every part of ``condition`` holds for ``batch``'s rows."""
    mask = np.ones(batch.size, dtype=bool)
    for key, wanted in condition:
        if key == SHARE_KEY:
            mask &= batch.uniforms(salt, "share") < float(wanted)
        elif key in POSITION_KEYS:
            mask &= batch.lineage.position_is(batch.columns.entity, key, batch.rows) == wanted
        else:
            mask &= matching(batch, key, wanted)
    return mask


def matching(batch: Batch, path: str, wanted: Any) -> np.ndarray:
    """Where field ``path`` of the batch's rows is ``wanted`` (or one of a tuple)."""
    options = wanted if isinstance(wanted, tuple) else (wanted,)
    values = batch.read(path)
    if values.dtype == np.int64:  # a time: only "none" can be asked
        return np.isin(values, [NULL_TIME]) if None in options else np.zeros(batch.size, bool)
    if all(isinstance(w, str) or w is None for w in options):  # compared in numpy's loop
        found = np.zeros(batch.size, dtype=bool)
        for option in options:
            if option is None:
                found |= np.array([v is None for v in values.tolist()], dtype=bool)
            else:
                found |= np.asarray(values == option, dtype=bool)
        return found
    keys = {(type(w), w) for w in options}  # 1 is not True
    listed = batch.python(path)
    return np.fromiter(((type(v), v) in keys for v in listed), dtype=bool, count=len(listed))


@is_column.register(Key)
@is_column.register(Ref)
@is_column.register(Weighted)
@is_column.register(Choice)
@is_column.register(Timestamp)
@is_column.register(Uuid)
@is_column.register(Sequence_)
@is_column.register(Code)
@is_column.register(UniqueChoice)
@is_column.register(Serial)
@is_column.register(Cases)
def _always(spec: Spec, columns: Columns) -> bool:
    return True


@is_column.register
def _integer_column(spec: Integer, columns: Columns) -> bool:
    return isinstance(spec.low, int) and isinstance(spec.high, int)


@is_column.register
def _decimal_column(spec: Decimal, columns: Columns) -> bool:
    return isinstance(spec.precision, int)


@is_column.register(Nullable)
@is_column.register(Unique)
def _inner_column(spec: Nullable | Unique, columns: Columns) -> bool:
    return not isinstance(spec.item, Spec) or is_column(spec.item, columns)


@is_column.register
def _derive_column(spec: Derive, columns: Columns) -> bool:
    for arg in spec.args:
        if isinstance(arg, str):
            if arg.split(".", 1)[0] not in columns.references and not columns.has_column(arg):
                return False
        elif isinstance(arg, Spec) and not is_column(arg, columns):
            return False
    return True


# Times ---------------------------------------------------------------------------------------


def to_micros(value: datetime | date) -> int:
    """Microseconds since the epoch (a naive time is UTC; a date is its midnight, UTC)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - _EPOCH
    return (delta.days * 86400 + delta.seconds) * _US + delta.microseconds


def to_times(values: np.ndarray) -> np.ndarray:
    """``values`` as a time column (datetimes, dates or None in an object array, or times)."""
    if values.dtype == np.int64:
        return values
    result = np.full(len(values), NULL_TIME, dtype=np.int64)
    for n, value in enumerate(values.tolist()):
        if isinstance(value, (datetime, date)):
            result[n] = to_micros(value)
    return result


def datetimes(values: np.ndarray, zone: Any) -> list[datetime | None]:
    """A time column as the datetimes of the documents (in ``zone``; None where none)."""
    result: list[datetime | None] = []
    fixed = zone if isinstance(zone, timezone) else None
    at = datetime.fromtimestamp
    for micros in values.tolist():
        if micros == NULL_TIME:
            result.append(None)
            continue
        seconds, rest = divmod(micros, _US)
        if fixed is not None and not rest:
            result.append(at(seconds, fixed))
            continue
        moment = _EPOCH + timedelta(microseconds=micros)
        result.append(moment.astimezone(zone) if zone is not None else moment.replace(tzinfo=None))
    return result


def python_values(values: np.ndarray, batch: Batch) -> list[Any]:
    """A column as the Python values of the documents."""
    if values.dtype == np.int64:
        return datetimes(values, batch.lineage.reference_date.tzinfo)
    converted: list[Any] = values.tolist()
    return converted
