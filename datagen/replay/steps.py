"""What a replayed step is, and what every target does with one.

A :class:`ReplayStep` is read from a journey zip (:mod:`datagen.replay.source`)
and written by a :class:`StepTarget` (:mod:`datagen.replay.targets` opens the
one a URL names: a folder, a database, :mod:`~datagen.replay.blobs`,
:mod:`~datagen.replay.http`). A write that fails raises :class:`WriteFailed`,
which says whether trying again may help.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Collection, Sequence

from datagen.errors import DataGenError
from datagen.sinks.urls import redact

TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class ReplayStep:
    """One step to perform: a document of a type, at an offset from its journey's start."""

    journey: str  # the journey's id: its zip's name without ``.zip``
    index: int
    offset: float  # seconds from the journey's start
    document_type: str
    file: str
    data: bytes = field(repr=False)  # the document as stored (JSON)
    user_id: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.journey, self.index)


class WriteFailed(DataGenError):
    """A write did not happen; ``transient`` if trying again may succeed."""

    def __init__(self, message: str, *, transient: bool, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.transient = transient


class StepTarget(ABC):
    """The interface every replay target implements."""

    max_workers: int | None = None  # a bound on concurrent writers, if the target has one
    max_batch: int | None = 1  # steps per write: one request each, unless it has a bulk path

    def __init__(self, url: str) -> None:
        self.url = url
        self.label = redact(url)

    def open(self, document_types: Collection[str]) -> None:
        """Check the target and prepare it for these document types."""

    @abstractmethod
    def write(self, steps: Sequence[ReplayStep]) -> None:
        """Perform ``steps`` (all of one document type), or raise WriteFailed."""

    def close(self) -> None:
        """Release connections (idempotent)."""
