"""The target protocol and the table model (``--to`` strings: :mod:`datagen.sinks.urls`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Iterable, Iterator, Mapping, Self, Sequence

from datagen.formats import Chunk
from datagen.sinks.urls import redact
from datagen.types import Document


@dataclass(frozen=True)
class Column:
    """A table column: top-level scalars are typed, nested values are JSON."""

    name: str
    type: str  # one of: text, integer, float, boolean, timestamp, date, json
    nullable: bool = True
    addable: bool = False  # may be added to an existing table that lacks it (nullable)


class References(Mapping[str, tuple[str, str]]):
    """A table's foreign keys, ``column -> (table, column)``: read-only and hashable.

    Iterates in the order given; equal to any mapping with the same items.
    """

    __slots__ = ("_items",)

    def __init__(
        self,
        items: Mapping[str, tuple[str, str]] | Iterable[tuple[str, tuple[str, str]]] = (),
    ) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items = {column: (str(table), str(key)) for column, (table, key) in pairs}

    def __getitem__(self, column: str) -> tuple[str, str]:
        return self._items[column]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"References({self._items!r})"


@dataclass(frozen=True)
class TableSpec:
    """The table of one document type (hashable: usable as a key or in a set).

    ``foreign_keys`` may be given as any mapping (or pairs); it is kept as
    read-only ``References``. ``unique`` names the columns whose values are
    distinct across the table (each on its own, besides the key): declared to
    the database as UNIQUE constraints when the table is created.
    """

    name: str
    key: str
    columns: tuple[Column, ...]
    foreign_keys: Mapping[str, tuple[str, str]] = field(default_factory=References)
    unique: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.columns, tuple):
            object.__setattr__(self, "columns", tuple(self.columns))
        if not isinstance(self.foreign_keys, References):
            object.__setattr__(self, "foreign_keys", References(self.foreign_keys))
        if not isinstance(self.unique, tuple):
            object.__setattr__(self, "unique", tuple(self.unique))


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
