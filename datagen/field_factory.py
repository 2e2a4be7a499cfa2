"""The field factory ``_`` that a provider's ``create_schema(_)`` makes its specs with."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from mimesis.random import Random

from datagen.errors import SchemaError
from datagen.specs import (
    Call,
    Cases,
    Choice,
    Code,
    Decimal,
    Derive,
    Integer,
    Key,
    ListOf,
    MimesisField,
    Nullable,
    Ref,
    Sequence_,
    Serial,
    Spec,
    Timestamp,
    Unique,
    UniqueChoice,
    Uuid,
    Weighted,
    condition_of,
)


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
