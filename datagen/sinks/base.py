"""The target protocol (``--to`` strings: :mod:`datagen.sinks.urls`).

The table model (``Column``, ``References``, ``TableSpec``) is core
(:mod:`datagen.tablespec`); it is re-exported here for the sinks' callers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Iterable, Self, Sequence

from datagen.formats import Chunk
from datagen.tablespec import Column, References, TableSpec
from datagen.sinks.redaction import redact

__all__ = ["Column", "References", "Summary", "TableSpec", "Target", "RecordSink"]
from datagen.types import Document


@dataclass
class Summary:
    """What a sink wrote: rows (or blobs) per table (or container)."""

    target: str
    written: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int) -> None:
        self.written[kind] = self.written.get(kind, 0) + count


class Target:
    """The one protocol of every place output goes: databases, folders, zips, blobs.

    - ``prepare(tables, reset=…)``: create the tables (databases) or check the
      place (a container, a folder) before anything is written;
    - a batch: ``write(table, records)`` (rows of one table) or ``add(chunk)`` /
      ``add_file(path, name)`` (a file's bytes);
    - ``commit()``: make what was written durable (a transaction committed, the
      tables counted, streamed blobs committed, a zip renamed into place);
    - ``abort()``: stop, and undo what can be undone (a transaction rolled back,
      staged blocks left to expire, a temporary file removed);
    - ``close()``: release connections and files; returns the ``Summary``.

    Used as a context manager it aborts on an exception and always closes.
    ``close()`` without ``commit()`` keeps what each write already made durable
    (per-batch upserts, files written) and, for a transactional (``bulk``)
    database, rolls back.
    """

    summary: Summary
    # Rows already encoded as COPY text in the workers: copy(table, chunks), finish(table)
    # (the PostgreSQL bulk load, open_target(…, bulk=True)); other targets take write().
    takes_copy_text: ClassVar[bool] = False

    def prepare(self, tables: Sequence[TableSpec] = (), *, reset: bool = False) -> None:
        """Create missing tables (``reset``: drop and recreate them), or check the place."""

    def write(self, table: TableSpec, records: Iterable[Document]) -> int:
        """Write ``records`` (read once; may be a stream) into ``table``; returns how many."""
        raise TypeError(f"{type(self).__name__} takes files, not rows")

    def add(self, chunk: Chunk) -> None:
        """The next bytes of the file ``chunk.path`` (chunks of one file come in order)."""
        raise TypeError(f"{type(self).__name__} takes rows, not files")

    def add_file(self, path: Path, name: str, *, block: int = 8 << 20) -> None:
        """The file at ``path`` as ``name``, streamed ``block`` bytes at a time."""
        with open(path, "rb") as handle:
            first = handle.read(block)
            if len(first) < block:
                self.add(Chunk(name, first, whole=True))
                return
            self.add(Chunk(name, first))
            for data in iter(lambda: handle.read(block), b""):
                self.add(Chunk(name, data))

    def commit(self) -> None:
        """Make what was written durable."""

    def abort(self) -> None:
        """Stop without committing what is not durable yet."""

    def close(self) -> Summary:
        return self.summary

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is not None:
            self.abort()
        self.close()


class RecordSink(Target, ABC):
    """A database: prepare its tables, write batches of records of one kind, close.

    Writes are idempotent: an upsert on the table's key, so a write repeated
    after an interruption leaves the same rows.
    """

    def __init__(self, url: str):
        self.url = url
        self.summary = Summary(target=redact(url))

    def prepare(self, tables: Sequence[TableSpec] = (), *, reset: bool = False) -> None:
        self.open(tables, reset=reset)

    def open(self, tables: Sequence[TableSpec], *, reset: bool = False) -> None:
        """Connect; create missing tables (``reset``: drop and recreate them)."""

    @abstractmethod
    def write(self, table: TableSpec, records: Iterable[Document]) -> int:
        """Upsert ``records`` into ``table``; returns how many were written.

        ``records`` is read once and may be a stream (an iterator).
        """
