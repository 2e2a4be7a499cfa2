"""Journey providers: one user's timed sequence of documents.

A journey is a list of steps. Each step is a document plus timing: a delay
drawn in ``[lo, hi]`` seconds from the journey's seeded random state, counted
from the previous step or from an earlier step given by index. Its absolute
offset from the journey's start is the anchor's offset plus the delay.
"""

from __future__ import annotations

import uuid
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
        return f"{self.index:0{width}d}-{self.document_type}.json"


class JourneyContext:
    """Per-process generation state shared by the journeys of one run."""

    def __init__(self, runtime: Runtime, *, journey: str):
        self.runtime = runtime
        self.journey = journey
        self._factories: dict[str, DocumentFactory] = {}
        self._lineage: DocumentsLineage | None = None

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
        self.user_id = str(uuid.UUID(int=self.random.getrandbits(128), version=4))
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
        instance = get_provider(provider if isinstance(provider, str) else provider.name)
        build = self.context.factory(instance)
        document = build(self.index * DOCUMENTS_PER_JOURNEY + self._documents)
        self._documents += 1
        unknown = set(overrides) - set(document)
        if unknown:
            raise SchemaError(
                f"{instance.name} has no field {', '.join(sorted(unknown))}",
                where=f"journey {self.name!r}",
            )
        document.update(overrides)
        return document

    def document_field(self, provider: str, index: int, path: str) -> Any:
        """Field ``path`` of document ``index`` of ``document -p PROVIDER`` with this run's
        seed, computed without generating it (a column field: see datagen.fields)."""
        from datagen.lineage import values_at

        return values_at(self.context.lineage, provider, path, [index])[0]

    def weighted(self, choices: Mapping[Any, float]) -> Any:
        """One of ``choices`` drawn by weight from the journey's random state."""
        return self.random.choices(list(choices), weights=list(choices.values()))[0]

    def time_of(self, step: Step) -> datetime:
        """The wall-clock time of ``step`` in the journey's own timeline."""
        return self.start + timedelta(seconds=step.offset)

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
        where = f"journey {self.name!r} step {index}"
        low, high = _delay_bounds(delay, where)
        anchor: int | None = index - 1 if index else None
        if delay_from_step_index is not None:
            if not 0 <= delay_from_step_index < index:
                raise SchemaError(
                    f"delay_from_step_index {delay_from_step_index} is not an earlier step",
                    where=where,
                    hint=(
                        f"use an index from 0 to {index - 1}"
                        if index
                        else "the first step " "has no earlier step"
                    ),
                )
            anchor = delay_from_step_index
        if isinstance(low, int) and isinstance(high, int):
            drawn: float = self.random.randint(low, high)
        else:
            drawn = round(self.random.uniform(low, high), 3)
        base = self.steps[anchor].offset if anchor is not None else 0
        name = provider if isinstance(provider, str) else provider.name
        step = Step(index, name, document, drawn, anchor, round(base + drawn, 3))
        self.steps.append(step)
        return step


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


def get_journey(name: str) -> type[JourneyProvider]:
    return registry.get(name)
