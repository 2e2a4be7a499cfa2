"""Templates compiled a shard at a time: the simple fields drawn as numpy columns.

``populate`` builds rows a shard (1,000 rows) at a time. Drawing a weighted
status, an integer or a timestamp one row at a time costs a Python call
each; numpy draws the whole column in about the time of one such call.
:class:`ColumnCompiler` compiles a template into ``build_rows(start, stop,
rng)``: first one list per *column* field (``_.key``, ``_.integer``,
``_.weighted``, ``_.choice``, ``_.decimal``, ``_.timestamp``, and
``_.nullable`` of one of these), drawn from the numpy Generator ``rng``,
then one dict display per row that takes those values and calls what
stays per row (Mimesis fields, ``_.call``, ``_.list_of``, ``_.uuid``, …)
as :class:`datagen.schema.Compiler` does, and the provider's ``finalize``.

The rows are a pure function of the template, ``rng``'s seed and the
runtime's seed, and the columns are always drawn for a whole shard, so any
prefix of a shard is the same whoever builds it. They are *not* the values
``build(index)`` gives for the same seed (that one draws everything from the
runtime's stream): scenarios and documents are separate outputs.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime, timedelta, timezone
from functools import singledispatch
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from datagen.errors import SchemaError
from datagen.schema import (
    Choice,
    Compiler,
    Decimal,
    Integer,
    Key,
    Nullable,
    Spec,
    Timestamp,
    Weighted,
)
from datagen.seeding import SHARD_SIZE
from datagen.types import Document

RowsFactory = Callable[[int, int, np.random.Generator], list[Document]]
"""``build_rows(start, stop, rng)``: the documents at indices ``[start, stop)``."""

_WIDEST = 2**62  # numpy draws integers of a range this wide or less; wider ones go per row


class ColumnCompiler(Compiler):
    """Turns a template into one ``build_rows(start, stop, rng)`` function.

    Columns are drawn for :data:`datagen.seeding.SHARD_SIZE` rows whatever
    ``stop`` is (or for ``stop - start`` if more), so that rows ``[start,
    stop)`` are a prefix of rows ``[start, start + SHARD_SIZE)``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.columns: list[str] = []  # an expression making each column's list
        self._per_row = 0  # > 0 inside a spec drawn per row (its parts too)

    def expr(self, value: Any) -> str:
        if not isinstance(value, Spec) or self._per_row:
            return super().expr(value)
        column = column_of(value, self)
        if column is not None:
            self.columns.append(column)
            return f"v{len(self.columns) - 1}"
        self._per_row += 1
        try:
            return value.emit(self)
        finally:
            self._per_row -= 1

    def compile_rows(
        self,
        template: Mapping[str, Any],
        finalize: Callable[[Document, Any], None] | None = None,
    ) -> RowsFactory:
        """``build_rows`` of ``template``; ``finalize(row, rnd)`` runs as each row is built."""
        body = self.expr(dict(template))
        if finalize is not None:  # row by row, so that its draws interleave as in build(i)
            body = f"{self.bind(_finalized)}({body}, {self.bind(finalize)}, {self.bind(self.rnd)})"
        names = [f"v{k}" for k in range(len(self.columns))]
        lines = [f"    c{k} = {column}\n" for k, column in enumerate(self.columns)]
        source = (
            "def build_rows(start, stop, rng):\n"
            f"    size = max(stop - start, {SHARD_SIZE})\n"
            + "".join(lines)
            + f"    return [{body} for (i, {''.join(n + ', ' for n in names)}) in zip("
            + ", ".join(["range(start, stop)", *(f"c{k}" for k in range(len(names)))])
            + ")]\n"
        )
        scope = dict(self.namespace)
        exec(compile(source, f"<columns {self.provider}>", "exec"), scope)
        return scope["build_rows"]  # type: ignore[no-any-return]


@singledispatch
def column_of(spec: Spec, c: ColumnCompiler) -> str | None:
    """An expression making ``spec``'s values for ``size`` rows, or None: drawn per row."""
    return None


@column_of.register
def _key(spec: Key, c: ColumnCompiler) -> str:
    seed, namespace = c.runtime.run_seed, c.key_namespace
    return f"{c.bind(keys_of)}({seed}, {namespace!r}, range(start, stop))"


@column_of.register
def _integer(spec: Integer, c: ColumnCompiler) -> str | None:
    if spec.high < spec.low:
        raise SchemaError(f"an integer range needs low <= high, not ({spec.low}, {spec.high})")
    if not isinstance(spec.low, int) or not isinstance(spec.high, int):
        return None  # drawn per row, as Compiler draws it
    if spec.high - spec.low > _WIDEST or spec.low < -(2**63) or spec.high >= 2**63:
        return None  # beyond numpy's int64
    return f"{c.bind(integers)}(rng, {spec.low}, {spec.high}, size)"


@column_of.register
def _weighted(spec: Weighted, c: ColumnCompiler) -> str:
    values = list(spec.choices)
    cumulative = np.cumsum([float(w) for w in spec.choices.values()])
    return _picked(c, values, f"{c.bind(weighted)}(rng, {c.bind(cumulative)}, size)")


@column_of.register
def _choice(spec: Choice, c: ColumnCompiler) -> str:
    values = list(spec.values)
    if not values:
        raise SchemaError("choice() needs at least one value")
    return _picked(c, values, f"rng.integers(0, {len(values)}, size)")


@column_of.register
def _decimal(spec: Decimal, c: ColumnCompiler) -> str | None:
    if not isinstance(spec.precision, int):
        return None  # e.g. None: round() gives ints; drawn per row
    uniform = f"rng.uniform({float(spec.low)!r}, {float(spec.high)!r}, size)"
    return f"{c.bind(np.round)}({uniform}, {spec.precision}).tolist()"


@column_of.register
def _timestamp(spec: Timestamp, c: ColumnCompiler) -> str:
    low, high = sorted(spec.days)
    lo_s, hi_s = max(int(low * 86400), 1), max(int(high * 86400), 1)  # as Timestamp.emit
    seconds = f"{c.bind(integers)}(rng, {lo_s}, {hi_s}, size)"
    ref = c.reference_date
    if not isinstance(ref.tzinfo, timezone) or ref.microsecond:  # naive, or a zone with DST
        return f"{c.bind(before)}({c.bind(ref)}, {seconds})"
    return f"{c.bind(stamps)}({int(ref.timestamp())}, {c.bind(ref.tzinfo)}, {seconds})"


@column_of.register
def _nullable(spec: Nullable, c: ColumnCompiler) -> str | None:
    item = spec.item
    values = column_of(item, c) if isinstance(item, Spec) else None
    if values is None:
        return None
    return f"{c.bind(nulls)}(rng, {float(spec.probability)!r}, {values}, size)"


def _finalized(row: Document, finalize: Callable[[Document, Any], None], rnd: Any) -> Document:
    finalize(row, rnd)
    return row


def _picked(c: ColumnCompiler, values: list[Any], indices: str) -> str:
    """A column of ``values`` at ``indices`` (an int array), copied if mutable."""
    table = np.empty(len(values), dtype=object)
    for n, value in enumerate(values):  # one by one: numpy would unpack equal-length lists
        table[n] = value
    picked = f"{c.bind(table)}[{indices}].tolist()"
    if any(isinstance(v, (dict, list)) for v in values):
        return f"list(map({c.bind(copy.deepcopy)}, {picked}))"
    return picked


# What the compiled columns call ------------------------------------------------------------


def keys_of(seed: int, provider: str, indices: Iterable[int]) -> list[str]:
    """``[entity_key(seed, provider, i) for i in indices]``, formatted by numpy at once."""
    digest, prefix = hashlib.blake2b, f"{seed}\x1f{provider}\x1f"
    digests = b"".join([digest(f"{prefix}{i}".encode(), digest_size=16).digest() for i in indices])
    raw = np.frombuffer(digests, dtype=np.uint8).reshape(-1, 16)
    nibbles = np.empty((len(raw), 32), dtype=np.uint8)
    nibbles[:, 0::2] = raw >> 4
    nibbles[:, 1::2] = raw & 0x0F
    nibbles[:, 12] = 4  # the version, then the variant's two high bits 10 (RFC 4122)
    nibbles[:, 16] = (nibbles[:, 16] & 3) | 8
    lines = np.full((len(raw), 37), ord("-"), dtype=np.uint8)  # 36 characters and a newline
    lines[:, 36] = ord("\n")
    lines[:, _DIGITS] = _HEX[nibbles]
    return lines.tobytes().decode("ascii").split("\n")[:-1]


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DIGITS = np.array([n for n in range(36) if n not in (8, 13, 18, 23)])  # where the dashes aren't


def integers(rng: np.random.Generator, low: int, high: int, size: int) -> list[int]:
    """``size`` ints in ``[low, high]``, both included, uniformly."""
    drawn: list[int] = rng.integers(low, high, size, endpoint=True).tolist()
    return drawn


def weighted(rng: np.random.Generator, cumulative: np.ndarray, size: int) -> np.ndarray:
    """``size`` indices drawn with the weights whose running sums are ``cumulative``."""
    last = len(cumulative) - 1
    drawn = np.searchsorted(cumulative, rng.random(size) * cumulative[last], side="right")
    picked: np.ndarray = np.minimum(drawn, last)  # a draw of exactly the total: the last value
    return picked


def stamps(reference: int, zone: timezone, seconds: Sequence[int]) -> list[datetime]:
    """``reference - s`` (a POSIX time) as aware datetimes in ``zone``, for each ``s``."""
    at = datetime.fromtimestamp
    return [at(reference - s, zone) for s in seconds]


def before(reference: datetime, seconds: Sequence[int]) -> list[datetime]:
    """``reference - timedelta(seconds=s)`` for each ``s`` (naive or zoned references)."""
    return [reference - timedelta(seconds=s) for s in seconds]


def nulls(rng: np.random.Generator, probability: float, values: list[Any], size: int) -> list[Any]:
    """``values`` with each replaced by None with ``probability``."""
    empty = (rng.random(size) < probability).tolist()
    return [None if e else v for e, v in zip(empty, values)]


__all__ = ["ColumnCompiler", "RowsFactory", "keys_of"]
