"""How each kind of spec is computed as a column: the :func:`evaluate` of every spec.

Each column is drawn for all the batch's rows at once from counters keyed by
(seed, entity, field, row) (:mod:`datagen.counters`), so no row depends on the
rows drawn before it.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import numpy as np

from datagen.codes import field_seed
from datagen.counters import below, hashes, integers, permuted
from datagen.errors import SchemaError
from datagen.fields.batch import Batch, evaluate, item_values, objects, python_values, row_codes
from datagen.fields.keys import keys_of, uuids_of
from datagen.fields.times import MICROS, NULL_TIME, to_micros, to_times
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
    Timestamp,
    Unique,
    UniqueChoice,
    Uuid,
    Weighted,
    unique_text,
)


@evaluate.register
def _key(spec: Key, batch: Batch, path: str) -> np.ndarray:
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
        most[known] = np.minimum(most[known], np.maximum((reference - anchor[known]) // MICROS, 0))
    least = np.minimum(lo_s, most)
    seconds = least + (batch.uniforms(path) * (most - least + 1)).astype(np.int64)
    result: np.ndarray = reference - seconds * MICROS
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


@evaluate.register
def _code(spec: Code, batch: Batch, path: str) -> np.ndarray:
    return objects(row_codes(batch))


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
    return objects(list(map(spec.function, *lists)) if lists else [])


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
