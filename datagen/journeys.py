"""Journey providers: one user's timed sequence of documents.

A journey is a list of steps. Each step is a document plus timing: a delay
drawn in ``[lo, hi]`` seconds from the journey's seeded random state, counted
from the previous step or from an earlier step given by index. Its absolute
offset from the journey's start is the anchor's offset plus the delay.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from mimesis.random import Random

from datagen.documents import DocumentProvider, get_provider
from datagen.errors import SchemaError
from datagen.registry import Registry
from datagen.schema import Compiler, Runtime
from datagen.types import Document, DocumentFactory

if TYPE_CHECKING:
    from datagen.lineage import DocumentsLineage

registry: Registry[JourneyProvider] = Registry("journey provider", "journey_providers")

DOCUMENTS_PER_JOURNEY = 10_000
"""Index block of each journey's documents (keys derive from the index)."""

FIELD_BLOCK = 64
"""``document_field`` computes a field for this many neighbouring rows at once, and keeps
them: a column's value for a row depends on that row alone (see :mod:`datagen.fields`),
and 64 rows cost about three times one."""

FIELD_CACHE_LIMIT = 1 << 16
"""Values ``document_field`` keeps per run and process before it starts again."""


@dataclass(frozen=True)
class Step:
    """One step of a journey: a document and when it happens."""

    index: int
    document_type: str
    document: Document
    delay: float
    anchor: int | None
    offset: float

    def file_name(self, width: int) -> str:
        return f"{str(self.index).zfill(width)}-{self.document_type}.json"


class JourneyContext:
    """Per-process generation state shared by the journeys of one run."""

    def __init__(self, runtime: Runtime, *, journey: str):
        self.runtime = runtime
        self.journey = journey
        self._factories: dict[str, DocumentFactory] = {}
        self._builders: dict[str, tuple[str, DocumentFactory]] = {}
        self._lineage: DocumentsLineage | None = None
        self._fields: dict[tuple[str, str, int], Any] = {}

    @property
    def lineage(self) -> DocumentsLineage:
        """The documents ``document -p PROVIDER`` makes with the run's seed (computed)."""
        from datagen.lineage import DocumentsLineage  # numpy: imported when a journey asks

        if self._lineage is None:
            runtime = self.runtime
            self._lineage = DocumentsLineage(
                run_seed=runtime.run_seed,
                counts={},
                providers=get_provider,
                reference_date=runtime.reference_date,
                locale=runtime.locale,
            )
        return self._lineage

    def factory(self, provider: DocumentProvider) -> DocumentFactory:
        if provider.name not in self._factories:
            compiler = Compiler(
                self.runtime,
                provider=provider.name,
                quantity=DOCUMENTS_PER_JOURNEY,
                key_namespace=f"{self.journey}/{provider.name}",
            )
            self._factories[provider.name] = provider.factory_from(compiler)
        return self._factories[provider.name]

    def builder(self, provider: type[DocumentProvider] | str) -> tuple[str, DocumentFactory]:
        """``(name, factory)`` of a provider given by class or name (looked up once)."""
        name = provider if isinstance(provider, str) else provider.name
        found = self._builders.get(name)
        if found is None:
            instance = get_provider(name)
            found = self._builders[name] = (instance.name, self.factory(instance))
        return found

    def field_value(self, provider: str, index: int, path: str) -> Any:
        """Field ``path`` of document ``index`` of ``document -p PROVIDER`` (see
        :meth:`JourneyProvider.document_field`), computed for its block of rows once."""
        fields = self._fields
        key = (provider, path, index)
        if key not in fields:
            from datagen.lineage import values_at  # numpy: imported when a journey asks

            start = max(index - index % FIELD_BLOCK, 0)
            rows = list(range(start, start + FIELD_BLOCK)) if index >= 0 else [index]
            values = values_at(self.lineage, provider, path, rows)
            if len(fields) + len(rows) > FIELD_CACHE_LIMIT:
                fields.clear()
            for row, value in zip(rows, values):
                fields[provider, path, row] = value
        value = fields[key]
        return copy.deepcopy(value) if isinstance(value, (list, dict)) else value


class JourneyProvider:
    """Base class of journey providers: subclass it in ``journey_providers/``.

    Set ``name`` and implement ``create_journey()``, which calls
    ``self.document(...)`` to make documents and ``self.add_step(...)`` to
    add them with their delays. ``self.user_id`` and ``self.random`` are the
    journey's own (seeded); ``self.start`` is its start time.
    """

    name: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            registry.register(cls.name, cls)

    def __init__(self, context: JourneyContext, *, index: int, start: datetime):
        self.context = context
        self.index = index
        self.random: Random = context.runtime.rnd
        self.user_id = uuid4_text(self.random.getrandbits(128))
        self.start = start
        self.steps: list[Step] = []
        self._documents = 0

    def create_journey(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define create_journey")

    @classmethod
    def description(cls) -> str:
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    # Building blocks for create_journey ----------------------------------

    def document(self, provider: type[DocumentProvider] | str, **overrides: Any) -> Document:
        """A new document of ``provider`` with top-level ``overrides`` applied."""
        name, build = self.context.builder(provider)
        document = build(self.index * DOCUMENTS_PER_JOURNEY + self._documents)
        self._documents += 1
        for field in overrides:
            if field not in document:
                unknown = sorted(set(overrides) - set(document))
                raise SchemaError(
                    f"{name} has no field {', '.join(unknown)}", where=f"journey {self.name!r}"
                )
        document.update(overrides)
        return document

    def document_field(self, provider: str, index: int, path: str) -> Any:
        """Field ``path`` of document ``index`` of ``document -p PROVIDER`` with this run's
        seed, computed without generating it (a column field: see datagen.fields)."""
        return self.context.field_value(provider, index, path)

    def weighted(self, choices: Mapping[Any, float]) -> Any:
        """One of ``choices`` drawn by weight from the journey's random state."""
        return self.random.choices(list(choices), weights=list(choices.values()))[0]

    def time_of(self, step: Step) -> datetime:
        """The wall-clock time of ``step`` in the journey's own timeline."""
        return self.start + timedelta(0, step.offset)  # (days, seconds): no keyword parsing

    def add_step(
        self,
        provider: type[DocumentProvider] | str,
        document: Document,
        delay: tuple[float, float] | list[float] | float = 0,
        delay_from_step_index: int | None = None,
    ) -> Step:
        """Append ``document`` as the next step, ``delay`` seconds after its anchor.

        The anchor is the previous step, or step ``delay_from_step_index``.
        """
        index = len(self.steps)
        if type(delay) is tuple and len(delay) == 2 and _whole_bounds(*delay):
            low, high = delay  # the common case, checked at a third of the cost
        else:
            low, high = _delay_bounds(delay, f"journey {self.name!r} step {index}")
        anchor: int | None = index - 1 if index else None
        if delay_from_step_index is not None:
            if not 0 <= delay_from_step_index < index:
                raise SchemaError(
                    f"delay_from_step_index {delay_from_step_index} is not an earlier step",
                    where=f"journey {self.name!r} step {index}",
                    hint=(
                        f"use an index from 0 to {index - 1}"
                        if index
                        else "the first step " "has no earlier step"
                    ),
                )
            anchor = delay_from_step_index
        if isinstance(low, int) and isinstance(high, int):
            drawn: float = self.random.randrange(low, high + 1)  # randint's own definition
        else:
            drawn = round(self.random.uniform(low, high), 3)
        base = self.steps[anchor].offset if anchor is not None else 0
        name = provider if isinstance(provider, str) else provider.name
        step = Step(index, name, document, drawn, anchor, round(base + drawn, 3))
        self.steps.append(step)
        return step


def _whole_bounds(low: Any, high: Any) -> bool:
    """Whether ``(low, high)`` are whole seconds ``0 <= low <= high`` (plain ints)."""
    return type(low) is int and type(high) is int and 0 <= low <= high


def _delay_bounds(delay: Any, where: str) -> tuple[float, float]:
    if isinstance(delay, (int, float)) and not isinstance(delay, bool):
        low = high = delay
    elif isinstance(delay, (tuple, list)) and len(delay) == 2:
        low, high = delay
    else:
        raise SchemaError(f"delay {delay!r} should be [low, high] seconds", where=where)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
        raise SchemaError(f"delay {delay!r} should be numbers of seconds", where=where)
    if low < 0 or high < 0:
        raise SchemaError(f"delay {delay!r} is negative", where=where)
    if low > high:
        raise SchemaError(f"delay {delay!r} has low > high", where=where)
    return low, high


_UUID4_CLEAR = ~(0xC000 << 48 | 0xF000 << 64)
_UUID4_SET = 0x8000 << 48 | 4 << 76


def uuid4_text(bits: int) -> str:
    """``str(uuid.UUID(int=bits, version=4))`` at a quarter of the cost."""
    h = "%032x" % (bits & _UUID4_CLEAR | _UUID4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def get_journey(name: str) -> type[JourneyProvider]:
    return registry.get(name)
