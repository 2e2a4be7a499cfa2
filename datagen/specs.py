"""The specs of the schema language: what ``_`` (:mod:`datagen.field_factory`) makes.

A provider's ``create_schema(_)`` returns a template: a dict whose values are
constants, nested dicts and lists, or specs. Each spec knows how to emit a
Python expression for the row-at-a-time :class:`datagen.schema.Compiler`
(journeys' documents), through what an :class:`Emitter` offers; the
shard-at-a-time engine (:mod:`datagen.columns`) draws the specs that are
*columns* (see :func:`datagen.fields.is_column`) for whole shards, addressed by
row (:mod:`datagen.counters`), and emits the others as here.

Cross-row specs name other fields by *path*: ``"created_at"`` (a field of the
same row, dotted for nested ones) or ``"org_id.created_at"`` (a field of the
row that the reference ``org_id`` points to).
"""

from __future__ import annotations

import inspect
import uuid
from bisect import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Protocol, Sequence

from mimesis.random import Random

from datagen.conditions import (  # noqa: F401  (schema and scenarios import them from here)
    POSITION_KEYS,
    SHARE_KEY,
    Condition,
    condition_of,
    matches,
)
from datagen.errors import SchemaError
from datagen.pools import DECORATIONS  # noqa: F401  (providers import it from here)
from datagen.pools import UniquePool


class Emitter(Protocol):
    """What a spec's :meth:`Spec.emit` uses of the compiler (:class:`datagen.schema.Compiler`)."""

    rnd: Random
    reference_date: datetime
    quantity: int
    ref_counts: dict[str, int]
    key_namespace: str
    current_path: str

    def bind(self, value: Any) -> str: ...
    def expr(self, value: Any, path: str | None = None) -> str: ...
    def fresh(self, prefix: str) -> str: ...
    def fresh_copy(self, values: list[Any], expr: str) -> str: ...
    def draw_below(self, count: int) -> str: ...
    def draw_between(self, low: int, high: int) -> str: ...
    def mimesis_method(self, path: str) -> Callable[..., Any]: ...
    def key_function(self, provider: str) -> Callable[[int], str]: ...
    def code_of(self, index: int) -> str: ...
    def permuted_of(self, path: str, size: int) -> Callable[[int], int]: ...
    def pool_values(self, spec: UniqueChoice) -> list[str]: ...
    def row_value(self, path: str) -> str | None: ...
    def condition(self, condition: Condition) -> str: ...


class Spec:
    """A value generator inside a template."""

    kind = "value"
    transparent = False  # a wrapper that, drawn row by row, is just its ``item``

    def emit(self, c: Emitter) -> str:
        """A Python expression producing the value; ``i`` is the global index."""
        raise NotImplementedError

    def describe(self) -> str:
        return self.kind


@dataclass(frozen=True)
class MimesisField(Spec):
    path: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    key: Callable[..., Any] | None = None

    def emit(self, c: Emitter) -> str:
        method = c.bind(c.mimesis_method(self.path))
        args = ", ".join(f"{k}={c.bind(v)}" for k, v in self.kwargs.items())
        expr = f"{method}({args})"
        if self.key is None:
            return expr
        takes_random = len(inspect.signature(self.key).parameters) >= 2
        extra = f", {c.bind(c.rnd)}" if takes_random else ""
        return f"{c.bind(self.key)}({expr}{extra})"

    def describe(self) -> str:
        return self.path


@dataclass(frozen=True)
class Key(Spec):
    kind = "key"

    def emit(self, c: Emitter) -> str:
        return f"{c.bind(c.key_function(c.key_namespace))}(i)"


@dataclass(frozen=True)
class Ref(Spec):
    """The key of a random entity of another provider (``org_id`` → ``org``)."""

    provider: str
    kind = "ref"

    def emit(self, c: Emitter) -> str:
        count = c.ref_counts.get(self.provider, c.quantity)
        keyf = c.bind(c.key_function(self.provider))
        return f"{keyf}({c.draw_below(max(count, 1))})"

    def describe(self) -> str:
        return f"ref:{self.provider}"


@dataclass(frozen=True)
class Weighted(Spec):
    choices: Mapping[Any, float]
    kind = "weighted"

    def emit(self, c: Emitter) -> str:
        values = list(self.choices)
        total = 0.0
        cumulative = []
        for weight in self.choices.values():
            total += weight
            cumulative.append(total)
        # What random.choices(values, cum_weights=cumulative)[0] does, without its
        # per-call set-up: the same draw, the same value.
        pick = (
            f"{c.bind(values)}[{c.bind(bisect)}({c.bind(cumulative)}, "
            f"{c.bind(c.rnd.random)}() * {c.bind(total + 0.0)}, 0, {len(values) - 1})]"
        )
        return c.fresh_copy(values, pick)

    def describe(self) -> str:
        return "weighted:" + "|".join(str(v) for v in self.choices)


@dataclass(frozen=True)
class Choice(Spec):
    values: Sequence[Any]
    kind = "choice"

    def emit(self, c: Emitter) -> str:
        values = list(self.values)
        if not values:
            raise SchemaError("choice() needs at least one value")
        return c.fresh_copy(values, f"{c.bind(values)}[{c.draw_below(len(values))}]")


@dataclass(frozen=True)
class Integer(Spec):
    low: int
    high: int
    kind = "integer"

    def emit(self, c: Emitter) -> str:
        return c.draw_between(self.low, self.high)


@dataclass(frozen=True)
class Decimal(Spec):
    low: float
    high: float
    precision: int = 2
    kind = "decimal"

    def emit(self, c: Emitter) -> str:
        uniform = c.bind(c.rnd.uniform)
        return f"round({uniform}({self.low!r}, {self.high!r}), {self.precision})"


@dataclass(frozen=True)
class Timestamp(Spec):
    """A UTC time between ``days[1]`` and ``days[0]`` days before the reference date.

    With ``after``, never before the latest of those fields' times (paths:
    ``"created_at"`` of the same row, ``"org_id"`` for the referenced row's
    creation time or ``"org_id.registered_at"`` for another of its fields):
    drawn between that time and ``days[0]`` days before the reference date.
    """

    days: tuple[float, float] = (0, 365)
    after: tuple[str, ...] = ()
    kind = "timestamp"

    @property
    def seconds(self) -> tuple[int, int]:
        """``(lo, hi)`` whole seconds before the reference date (at least one)."""
        low, high = sorted(self.days)
        return max(int(low * 86400), 1), max(int(high * 86400), 1)

    def emit(self, c: Emitter) -> str:
        lo_s, hi_s = self.seconds
        ref = c.reference_date
        seconds = c.draw_between(lo_s, hi_s)
        if not isinstance(ref.tzinfo, timezone) or ref.microsecond:  # naive, or a zone with DST
            drawn = f"({c.bind(ref)} - {c.bind(timedelta)}(seconds={seconds}))"
        else:  # ref - timedelta(seconds=...) exactly (a fixed offset), at half the cost.
            at = f"{c.bind(datetime.fromtimestamp)}"
            drawn = f"{at}({int(ref.timestamp())} - {seconds}, {c.bind(ref.tzinfo)})"
        found = [c.row_value(path) for path in self.after if "." not in path]
        anchors = [a for a in found if a is not None]  # references: not known row by row
        if not anchors:
            return drawn
        return f"{c.bind(after_anchor)}({drawn}, [{', '.join(anchors)}], {lo_s}, {c.bind(ref)})"

    def describe(self) -> str:
        return "timestamp" + (f" after {', '.join(self.after)}" if self.after else "")


@dataclass(frozen=True)
class Uuid(Spec):
    kind = "uuid"

    def emit(self, c: Emitter) -> str:
        bits = c.rnd.getrandbits

        def new_uuid() -> str:
            return str(uuid.UUID(int=bits(128), version=4))

        return f"{c.bind(new_uuid)}()"


@dataclass(frozen=True)
class Sequence_(Spec):
    start: int = 1
    kind = "sequence"

    def emit(self, c: Emitter) -> str:
        return f"(i + {int(self.start)})"


@dataclass(frozen=True)
class ListOf(Spec):
    item: Any
    low: int = 0
    high: int = 3
    kind = "list"

    def emit(self, c: Emitter) -> str:
        var = c.fresh("_n")
        count = c.draw_between(self.low, self.high)
        return f"[{c.expr(self.item)} for {var} in range({count})]"


@dataclass(frozen=True)
class Nullable(Spec):
    item: Any
    probability: float = 0.1
    kind = "nullable"

    def emit(self, c: Emitter) -> str:
        coin = c.bind(c.rnd.random)
        return f"(None if {coin}() < {self.probability!r} else {c.expr(self.item)})"

    def describe(self) -> str:
        inner = self.item.describe() if isinstance(self.item, Spec) else "value"
        return f"nullable:{inner}"


@dataclass(frozen=True)
class Call(Spec):
    function: Callable[[Random], Any]
    kind = "call"

    def emit(self, c: Emitter) -> str:
        return f"{c.bind(self.function)}({c.bind(c.rnd)})"


# Unique values -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Code(Spec):
    """The row's code: a short base-36 text distinct for every row of its table."""

    kind = "code"

    def emit(self, c: Emitter) -> str:
        return f"{c.bind(c.code_of)}(i)"


@dataclass(frozen=True)
class Unique(Spec):
    """``item``'s value made distinct by the row's code (``maria.lopez.4f2@acme.io``)."""

    item: Any
    kind = "unique"

    def emit(self, c: Emitter) -> str:
        return f"{c.bind(unique_text)}({c.expr(self.item)}, {c.bind(c.code_of)}(i))"

    def describe(self) -> str:
        inner = self.item.describe() if isinstance(self.item, Spec) else "value"
        return f"unique:{inner}"


@dataclass(frozen=True)
class UniqueChoice(Spec):
    """One of ``values`` per row, each once, then each again with a suffix ("Acme Labs")."""

    values: Sequence[str] | Callable[[Any], Sequence[str]]
    kind = "unique_choice"

    def emit(self, c: Emitter) -> str:
        pool = UniquePool(c.pool_values(self))
        return f"{c.bind(pool.value)}({c.bind(c.permuted_of(c.current_path, len(pool.values)))}(i))"


@dataclass(frozen=True)
class Serial(Spec):
    """The row's index in a seeded order of ``range(size)``: distinct for distinct rows."""

    size: int
    kind = "serial"

    def emit(self, c: Emitter) -> str:
        return f"{c.bind(c.permuted_of(c.current_path, self.size))}(i)"


# Derived and conditional values --------------------------------------------------------------


@dataclass(frozen=True)
class Derive(Spec):
    """``function(*values)`` of other fields (paths) or specs, computed after them."""

    function: Callable[..., Any]
    args: tuple[Any, ...]
    kind = "derive"

    def emit(self, c: Emitter) -> str:
        values = ", ".join(
            c.expr(arg) if not isinstance(arg, str) else (c.row_value(arg) or "None")
            for arg in self.args
        )
        return f"{c.bind(self.function)}({values})"

    def describe(self) -> str:
        named = [a for a in self.args if isinstance(a, str)]
        return "derived" + (f" from {', '.join(named)}" if named else "")


@dataclass(frozen=True)
class Cases(Spec):
    """The spec of the first case whose condition holds, else ``default``."""

    cases: tuple[tuple[Condition, Any], ...]
    default: Any
    kind = "cases"

    def emit(self, c: Emitter) -> str:
        expr = c.expr(self.default)
        for condition, spec in reversed(self.cases):
            expr = f"({c.expr(spec)} if {c.condition(condition)} else {expr})"
        return expr

    def describe(self) -> str:
        return "cases"


def unique_text(value: Any, code: str) -> str:
    """``value`` made distinct by ``code``: before an e-mail's ``@``, else after a dot."""
    text = str(value)
    local, at, domain = text.partition("@")
    return f"{local}.{code}@{domain}" if at else f"{text}.{code}"


def after_anchor(drawn: datetime, anchors: list[Any], low_seconds: int, ref: datetime) -> datetime:
    """``drawn`` moved to a time between the latest anchor and ``low_seconds`` before ``ref``."""
    times = [a for a in anchors if isinstance(a, datetime)]
    if not times:
        return drawn
    latest = max(times)
    if drawn >= latest:
        return drawn
    upper = ref - timedelta(seconds=low_seconds)
    if upper <= latest:
        return latest
    span = (upper - latest).total_seconds()
    offset = (latest - drawn).total_seconds() % span  # a place in [latest, upper) from the draw
    return latest + timedelta(seconds=int(offset))
