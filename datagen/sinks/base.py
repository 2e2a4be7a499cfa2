"""The sink interfaces and the ``--to`` URL parser."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from types import TracebackType
from typing import Sequence
from urllib.parse import urlsplit

from datagen.errors import InputError
from datagen.types import Document

DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")


@dataclass(frozen=True)
class Column:
    """A table column: top-level scalars are typed, nested values are JSON."""

    name: str
    type: str  # one of: text, integer, float, boolean, timestamp, date, json
    nullable: bool = True


@dataclass(frozen=True)
class TableSpec:
    """The table of one document type."""

    name: str
    key: str
    columns: tuple[Column, ...]
    foreign_keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # col -> (table, col)


@dataclass
class Summary:
    """What a sink wrote: rows (or blobs) per table (or container)."""

    target: str
    written: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int) -> None:
        self.written[kind] = self.written.get(kind, 0) + count


class RecordSink(ABC):
    """A database: open, write batches of records of one kind, close.

    Writes are idempotent: an upsert on the table's key, so a write repeated
    after an interruption leaves the same rows.
    """

    def __init__(self, url: str):
        self.url = url
        self.summary = Summary(target=redact(url))

    def open(self, tables: Sequence[TableSpec], *, reset: bool = False) -> None:
        """Connect; create missing tables (``reset``: drop and recreate them)."""

    @abstractmethod
    def write(self, table: TableSpec, records: Sequence[Document]) -> int:
        """Upsert ``records`` into ``table``; returns how many were written."""

    def close(self) -> Summary:
        return self.summary

    def __enter__(self) -> "RecordSink":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def is_database_url(url: str) -> bool:
    scheme = urlsplit(url).scheme.split("+")[0]
    return scheme in DATABASE_SCHEMES


def is_file_target_url(url: str) -> bool:
    """A blob container or a zip file (targets that receive a run's files)."""
    return url.startswith(("azure://", "http://", "https://")) or url.endswith(".zip")


def redact(url: str) -> str:
    """``url`` without its password or query secrets (for messages and logs)."""
    parts = urlsplit(url)
    if not parts.scheme or "://" not in url:
        return url
    netloc = parts.netloc
    if parts.password is not None:
        user = parts.username or ""
        host = netloc.rsplit("@", 1)[1]
        netloc = f"{user}:***@{host}"
    query = "?***" if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}"


def require_scheme(url: str, known: Sequence[str]) -> str:
    scheme = urlsplit(url).scheme
    if scheme.split("+")[0] not in known:
        raise InputError(
            f"unsupported target {redact(url)!r}",
            hint="use a folder, NAME.zip, sqlite:///FILE.db, postgresql://…, "
            "mysql+pymysql://… or azure://CONTAINER/PREFIX",
        )
    return scheme
