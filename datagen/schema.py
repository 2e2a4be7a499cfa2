"""The schema language of document providers, and its compiler.

A provider's ``create_schema(_)`` returns a template: a dict whose values are
constants, nested dicts and lists, or *specs* made by the field factory ``_``:

- ``_("person.email", domains=["example.com"])``: any Mimesis provider method,
  with its arguments, and an optional ``key=`` function as in Mimesis'
  ``Field`` (``key(result)`` or ``key(result, random)``);
- helpers for what Mimesis leaves to the caller: ``_.key()`` (the entity's
  own UUID, derived from seed and index), ``_.ref("org")`` (the key of an
  entity of another provider), ``_.weighted({...})``, ``_.choice([...])``,
  ``_.integer(lo, hi)``, ``_.decimal(lo, hi)``, ``_.timestamp(days=(lo, hi))``
  (strictly before the fixed reference date, never ``now()``), ``_.uuid()``,
  ``_.sequence()``, ``_.list_of(item, lo, hi)``, ``_.nullable(item, p)``,
  ``_.call(fn)`` (``fn(random)``). Choices are plain values (a spec inside a
  choice list is not evaluated); dict and list choices are copied per document.

The template is compiled once per process into one Python function whose body
is a dict display calling the bound Mimesis methods directly, so generating a
document costs what calling those methods in a loop costs.
"""

from __future__ import annotations

import copy
import inspect
import uuid
from bisect import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Sequence

from mimesis import Generic
from mimesis.locales import Locale
from mimesis.random import Random

from datagen.errors import SchemaError
from datagen.seeding import REFERENCE_DATE, derive_seed, entity_key
from datagen.types import DocumentFactory


class Spec:
    """A value generator inside a template."""

    kind = "value"

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
    """A UTC time between ``days[1]`` and ``days[0]`` days before the reference date."""

    days: tuple[float, float] = (0, 365)
    kind = "timestamp"

    def emit(self, c: Compiler) -> str:
        low, high = sorted(self.days)
        ref = c.reference_date
        # At least one second before the reference date: strictly "before".
        lo_s, hi_s = max(int(low * 86400), 1), max(int(high * 86400), 1)
        seconds = c.draw_between(lo_s, hi_s)
        if not isinstance(ref.tzinfo, timezone) or ref.microsecond:  # naive, or a zone with DST
            return f"({c.bind(ref)} - {c.bind(timedelta)}(seconds={seconds}))"
        # ref - timedelta(seconds=...) exactly (a fixed offset), at half the cost.
        at = f"{c.bind(datetime.fromtimestamp)}"
        return f"{at}({int(ref.timestamp())} - {seconds}, {c.bind(ref.tzinfo)})"


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

    def timestamp(self, days: tuple[float, float] = (0, 365)) -> Spec:
        return Timestamp(days)

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


class Runtime:
    """The seeded random state of one process for one run of one provider.

    ``reseed(shard_seed)`` resets every Mimesis provider in use and the
    helpers' random generator, each from its own derived seed, so that two
    Mimesis providers never replay the same random stream.
    """

    def __init__(self, *, locale: str, run_seed: int, reference_date: datetime = REFERENCE_DATE):
        self.generic = Generic(Locale(locale), seed=0)
        # Create every Mimesis provider now (Generic makes them lazily), so that
        # reseed() reaches them all, whenever a template is compiled.
        self.providers = [getattr(self.generic, name) for name in self.generic.__dir__()]
        self.rnd = Random(0)
        self.run_seed = run_seed
        self.reference_date = reference_date

    def reseed(self, seed: int) -> None:
        self.rnd.seed(derive_seed(seed, "helpers"))
        for provider in self.providers:
            if hasattr(provider, "reseed"):
                provider.reseed(derive_seed(seed, type(provider).__name__))


class Compiler:
    """Turns a template into one ``build(i) -> dict`` function."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        provider: str,
        quantity: int,
        ref_counts: Mapping[str, int] | None = None,
        key_namespace: str | None = None,
    ):
        self.runtime = runtime
        self.key_namespace = key_namespace or provider
        self.rnd = runtime.rnd
        self.reference_date = runtime.reference_date
        self.provider = provider
        self.quantity = quantity
        self.ref_counts = dict(ref_counts or {})
        self.namespace: dict[str, Any] = {}
        self._ids: dict[int, str] = {}
        self._counter = 0
        self._key_functions: dict[str, Callable[[int], str]] = {}

    def fresh_copy(self, values: list[Any], expr: str) -> str:
        """``expr`` picking from ``values``, copied if a value is mutable."""
        if any(isinstance(v, (dict, list)) for v in values):
            return f"{self.bind(copy.deepcopy)}({expr})"
        return expr

    def draw_below(self, count: int) -> str:
        """An expression drawing an int in ``[0, count)``, uniformly (``count`` ≥ 1).

        ``int(random() * count)``: a third of ``randrange``'s cost; its bias,
        under ``count / 2**53``, is far below anything a test data set shows.
        """
        if count > 2**40:
            return f"{self.bind(self.rnd.randrange)}({count})"
        return f"int({self.bind(self.rnd.random)}() * {count})"

    def draw_between(self, low: int, high: int) -> str:
        """An expression drawing an int in ``[low, high]``, both included."""
        if high < low:
            raise SchemaError(f"an integer range needs low <= high, not ({low}, {high})")
        draw = self.draw_below(high - low + 1)
        return draw if low == 0 else f"({low} + {draw})"

    def fresh(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def bind(self, value: Any) -> str:
        """A name in the generated function's namespace bound to ``value``."""
        if value is None or type(value) in (bool, int, str):
            return repr(value)
        ident = id(value)
        if ident not in self._ids:
            name = self.fresh("_v")
            self.namespace[name] = value
            self._ids[ident] = name
        return self._ids[ident]

    def mimesis_method(self, path: str) -> Callable[..., Any]:
        provider_name, _, method_name = path.partition(".")
        try:
            method = getattr(getattr(self.runtime.generic, provider_name), method_name)
        except AttributeError:
            method = None
        if not method_name or not callable(method):
            raise SchemaError(
                f"unknown Mimesis field {path!r}",
                where=f"provider {self.provider!r}",
                hint="use 'provider.method', e.g. 'person.email'",
            )
        return method  # type: ignore[no-any-return]

    def key_function(self, provider: str) -> Callable[[int], str]:
        if provider not in self._key_functions:
            seed = self.runtime.run_seed

            def key_of(index: int) -> str:
                return entity_key(seed, provider, index)

            self._key_functions[provider] = key_of
        return self._key_functions[provider]

    def expr(self, value: Any) -> str:
        if isinstance(value, Spec):
            return value.emit(self)
        if isinstance(value, dict):
            items = ", ".join(f"{k!r}: {self.expr(v)}" for k, v in value.items())
            return "{" + items + "}"
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(self.expr(v) for v in value) + "]"
        if isinstance(value, (str, int, float, bool, type(None))):
            return repr(value)
        return self.bind(value)

    def compile(self, template: Mapping[str, Any]) -> DocumentFactory:
        source = f"def build(i):\n    return {self.expr(dict(template))}\n"
        scope = dict(self.namespace)
        exec(compile(source, f"<schema {self.provider}>", "exec"), scope)
        return scope["build"]  # type: ignore[no-any-return]


def walk_specs(template: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``(dotted path, value)`` for every leaf of a template, in order."""
    leaves: list[tuple[str, Any]] = []
    for name, value in template.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            leaves.extend(walk_specs(value, path + "."))
        else:
            leaves.append((path, value))
    return leaves
