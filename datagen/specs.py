"""The specs of the schema language: what ``_`` (the :class:`FieldFactory`) makes.

A provider's ``create_schema(_)`` returns a template: a dict whose values are
constants, nested dicts and lists, or specs. Each spec knows how to emit a
Python expression for the row-at-a-time :class:`datagen.schema.Compiler`
(journeys' documents); the shard-at-a-time engine (:mod:`datagen.columns`)
draws the specs that are *columns* (see :func:`is_column`) for whole shards,
addressed by row (:mod:`datagen.counters`), and emits the others as here.

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
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from mimesis.random import Random

from datagen.errors import SchemaError

if TYPE_CHECKING:
    from datagen.schema import Compiler

Condition = tuple[tuple[str, Any], ...]
"""``((path, wanted), …)``: every path's value must match (see :func:`matches`)."""

POSITION_KEYS = ("last", "first")  # a row's place among its parent's children (scenarios)
SHARE_KEY = "share"  # a random share of the rows: {share: 0.85}


class Spec:
    """A value generator inside a template."""

    kind = "value"
    transparent = False  # a wrapper that, drawn row by row, is just its ``item``

    def emit(self, c: Compiler) -> str:
        """A Python expression producing the value; ``i`` is the global index."""
        raise NotImplementedError

    def describe(self) -> str:
        return self.kind


@dataclass(frozen=True)
class MimesisField(Spec):
    path: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    key: Callable[..., Any] | None = None

    def emit(self, c: Compiler) -> str:
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

    def emit(self, c: Compiler) -> str:
        return f"{c.bind(c.key_function(c.key_namespace))}(i)"


@dataclass(frozen=True)
class Ref(Spec):
    """The key of a random entity of another provider (``org_id`` → ``org``)."""

    provider: str
    kind = "ref"

    def emit(self, c: Compiler) -> str:
        count = c.ref_counts.get(self.provider, c.quantity)
        keyf = c.bind(c.key_function(self.provider))
        return f"{keyf}({c.draw_below(max(count, 1))})"

    def describe(self) -> str:
        return f"ref:{self.provider}"


@dataclass(frozen=True)
class Weighted(Spec):
    choices: Mapping[Any, float]
    kind = "weighted"

    def emit(self, c: Compiler) -> str:
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

    def emit(self, c: Compiler) -> str:
        values = list(self.values)
        if not values:
            raise SchemaError("choice() needs at least one value")
        return c.fresh_copy(values, f"{c.bind(values)}[{c.draw_below(len(values))}]")


@dataclass(frozen=True)
class Integer(Spec):
    low: int
    high: int
    kind = "integer"

    def emit(self, c: Compiler) -> str:
        return c.draw_between(self.low, self.high)


@dataclass(frozen=True)
class Decimal(Spec):
    low: float
    high: float
    precision: int = 2
    kind = "decimal"

    def emit(self, c: Compiler) -> str:
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

    def emit(self, c: Compiler) -> str:
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

    def emit(self, c: Compiler) -> str:
        bits = c.rnd.getrandbits

        def new_uuid() -> str:
            return str(uuid.UUID(int=bits(128), version=4))

        return f"{c.bind(new_uuid)}()"


@dataclass(frozen=True)
class Sequence_(Spec):
    start: int = 1
    kind = "sequence"

    def emit(self, c: Compiler) -> str:
        return f"(i + {int(self.start)})"


@dataclass(frozen=True)
class ListOf(Spec):
    item: Any
    low: int = 0
    high: int = 3
    kind = "list"

    def emit(self, c: Compiler) -> str:
        var = c.fresh("_n")
        count = c.draw_between(self.low, self.high)
        return f"[{c.expr(self.item)} for {var} in range({count})]"


@dataclass(frozen=True)
class Nullable(Spec):
    item: Any
    probability: float = 0.1
    kind = "nullable"

    def emit(self, c: Compiler) -> str:
        coin = c.bind(c.rnd.random)
        return f"(None if {coin}() < {self.probability!r} else {c.expr(self.item)})"

    def describe(self) -> str:
        inner = self.item.describe() if isinstance(self.item, Spec) else "value"
        return f"nullable:{inner}"


@dataclass(frozen=True)
class Call(Spec):
    function: Callable[[Random], Any]
    kind = "call"

    def emit(self, c: Compiler) -> str:
        return f"{c.bind(self.function)}({c.bind(c.rnd)})"


# Unique values -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Code(Spec):
    """The row's code: a short base-36 text distinct for every row of its table."""

    kind = "code"

    def emit(self, c: Compiler) -> str:
        return f"{c.bind(c.code_of)}(i)"


@dataclass(frozen=True)
class Unique(Spec):
    """``item``'s value made distinct by the row's code (``maria.lopez.4f2@acme.io``)."""

    item: Any
    kind = "unique"

    def emit(self, c: Compiler) -> str:
        return f"{c.bind(unique_text)}({c.expr(self.item)}, {c.bind(c.code_of)}(i))"

    def describe(self) -> str:
        inner = self.item.describe() if isinstance(self.item, Spec) else "value"
        return f"unique:{inner}"


@dataclass(frozen=True)
class UniqueChoice(Spec):
    """One of ``values`` per row, each once, then each again with a suffix ("Acme Labs")."""

    values: Sequence[str] | Callable[[Any], Sequence[str]]
    kind = "unique_choice"

    def emit(self, c: Compiler) -> str:
        pool = UniquePool(c.pool_values(self))
        return f"{c.bind(pool.value)}({c.bind(c.permuted_of(c.current_path, len(pool.values)))}(i))"


@dataclass(frozen=True)
class Serial(Spec):
    """The row's index in a seeded order of ``range(size)``: distinct for distinct rows."""

    size: int
    kind = "serial"

    def emit(self, c: Compiler) -> str:
        return f"{c.bind(c.permuted_of(c.current_path, self.size))}(i)"


# Derived and conditional values --------------------------------------------------------------


@dataclass(frozen=True)
class Derive(Spec):
    """``function(*values)`` of other fields (paths) or specs, computed after them."""

    function: Callable[..., Any]
    args: tuple[Any, ...]
    kind = "derive"

    def emit(self, c: Compiler) -> str:
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

    def emit(self, c: Compiler) -> str:
        expr = c.expr(self.default)
        for condition, spec in reversed(self.cases):
            expr = f"({c.expr(spec)} if {c.condition(condition)} else {expr})"
        return expr

    def describe(self) -> str:
        return "cases"


def condition_of(mapping: Mapping[str, Any]) -> Condition:
    """A condition from ``{"status": "ACTIVE", "org_id.status": ["A", "B"], "share": 0.8}``."""
    if not mapping:
        raise SchemaError("a case needs at least one condition")
    for key, wanted in mapping.items():
        if key == SHARE_KEY and not (isinstance(wanted, (int, float)) and 0 <= wanted <= 1):
            raise SchemaError(f"'share' takes a number from 0 to 1, not {wanted!r}")
        if key in POSITION_KEYS and not isinstance(wanted, bool):
            raise SchemaError(f"{key!r} takes true or false, not {wanted!r}")
    return tuple((str(k), tuple(v) if isinstance(v, list) else v) for k, v in mapping.items())


def matches(value: Any, wanted: Any) -> bool:
    """``value`` is ``wanted`` (of the same type: ``1`` is not ``True``), or one of a tuple."""
    options = wanted if isinstance(wanted, tuple) else (wanted,)
    return any(type(value) is type(w) and value == w for w in options)


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


DECORATIONS = (
    "Holdings",
    "Group",
    "Labs",
    "Systems",
    "Partners",
    "Global",
    "Digital",
    "Analytics",
    "Solutions",
    "Ventures",
    "Works",
    "Collective",
)
"""What a pool's values are followed by once each was used (``Acme Labs``, ``Acme Labs 2``)."""


class UniquePool:
    """The values of a :class:`UniqueChoice`, and the value of each place in its order."""

    def __init__(self, values: Sequence[str]):
        seen: set[str] = set()
        kept = []
        for value in values:
            text = str(value).strip()
            last = text.rsplit(" ", 1)[-1]
            if not text or text in seen or last.isdigit() or last in DECORATIONS:
                continue  # a value that a decorated one could equal
            seen.add(text)
            kept.append(text)
        if not kept:
            raise SchemaError("unique_choice() needs at least one value")
        self.values = kept

    def values_at(self, places: Any) -> list[str]:
        """The values of an int array of places (the first round without a suffix)."""
        import numpy as np

        rounds, index = divmod(places, len(self.values))
        table = getattr(self, "_table", None)
        if table is None:
            table = self._table = np.array(self.values, dtype=object)
        found = table[index]
        if rounds.any():  # the names of later rounds, with their suffix
            distinct, inverse = np.unique(rounds, return_inverse=True)
            suffixes = np.array([decoration(int(r)) for r in distinct.tolist()], dtype=object)
            found = found + suffixes[inverse]
        values: list[str] = found.tolist()
        return values

    def value(self, place: int) -> str:
        """Value ``place`` of the order: the pool's value, decorated from the second round."""
        rounds, index = divmod(int(place), len(self.values))
        return self.values[index] + decoration(rounds)


def decoration(rounds: int) -> str:
    """``""``, then `` Holdings``, `` Group``… then `` Holdings 2``…: distinct per round."""
    if rounds == 0:
        return ""
    word = DECORATIONS[(rounds - 1) % len(DECORATIONS)]
    number = (rounds - 1) // len(DECORATIONS)
    return f" {word}" + (f" {number + 1}" if number else "")


class FieldFactory:
    """The ``_`` passed to ``create_schema``: Mimesis fields plus helpers."""

    def __call__(self, name: str, key: Callable[..., Any] | None = None, **kwargs: Any) -> Spec:
        return MimesisField(name, dict(kwargs), key)

    def key(self) -> Spec:
        return Key()

    def ref(self, provider: str) -> Spec:
        return Ref(provider)

    def weighted(self, choices: Mapping[Any, float]) -> Spec:
        if not choices or any(w < 0 for w in choices.values()) or not sum(choices.values()):
            raise SchemaError("weighted() needs at least one choice, weights >= 0, sum > 0")
        return Weighted(dict(choices))

    def choice(self, values: Sequence[Any]) -> Spec:
        return Choice(list(values))

    def integer(self, low: int, high: int) -> Spec:
        return Integer(low, high)

    def decimal(self, low: float, high: float, precision: int = 2) -> Spec:
        return Decimal(low, high, precision)

    def timestamp(
        self, days: tuple[float, float] = (0, 365), after: str | Sequence[str] = ()
    ) -> Spec:
        """A time ``days`` before the reference date; with ``after``, not before those fields'."""
        anchors = (after,) if isinstance(after, str) else tuple(after)
        return Timestamp(tuple(days), anchors)  # type: ignore[arg-type]

    def uuid(self) -> Spec:
        return Uuid()

    def sequence(self, start: int = 1) -> Spec:
        return Sequence_(start)

    def list_of(self, item: Any, low: int = 0, high: int = 3) -> Spec:
        return ListOf(item, low, high)

    def nullable(self, item: Any, probability: float = 0.1) -> Spec:
        return Nullable(item, probability)

    def call(self, function: Callable[[Random], Any]) -> Spec:
        return Call(function)

    def code(self) -> Spec:
        """The row's code: base-36, distinct for every row of the table (``"4f2"``)."""
        return Code()

    def unique(self, item: Any) -> Spec:
        """``item`` made distinct by the row's code, before an e-mail's ``@`` or after a dot."""
        return Unique(item)

    def unique_choice(self, values: Sequence[str] | Callable[[Any], Sequence[str]]) -> Spec:
        """Each of ``values`` once in a seeded order, then again as ``"… Holdings"``, ….

        ``values`` may be a function of the Mimesis ``Generic`` of the run's
        locale (e.g. the locale's company names).
        """
        return UniqueChoice(values if callable(values) else tuple(values))

    def serial(self, size: int) -> Spec:
        """The row's index in a seeded order of ``range(size)``, then of the next ``size``…"""
        if size < 1:
            raise SchemaError(f"serial() needs a size of at least 1, got {size}")
        return Serial(int(size))

    def derive(self, function: Callable[..., Any], *args: Any) -> Spec:
        """``function(*values)``: each arg a field path (``"full_name"``,
        ``"org_id.domain"``) or a spec, computed before it."""
        return Derive(function, tuple(args))

    def cases(self, cases: Sequence[tuple[Mapping[str, Any], Any]], default: Any) -> Spec:
        """The spec of the first case whose condition holds (``{"status": "RUNNING"}``)."""
        return Cases(tuple((condition_of(when), spec) for when, spec in cases), default)
