"""File formats: turn a shard's documents into byte chunks of output files.

``json`` writes one file per document (the seed README's layout), ``jsonl``
one line per document in one file, ``csv`` one row per document with nested
objects flattened into dotted columns and lists kept as JSON.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Sequence

import orjson

from datagen.types import Document

FORMATS = ("json", "jsonl", "csv")


ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
"""The time stamp of every zip entry we write (zips are byte-identical whenever made)."""


@dataclass(frozen=True)
class Chunk:
    """Bytes for one output file; ``whole`` means the file is complete in it."""

    path: str
    data: bytes
    whole: bool = False


def dumps(value: Any) -> bytes:
    """Compact, deterministic JSON (datetimes as ISO 8601)."""
    return orjson.dumps(value)


def dumps_pretty(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def jsonl(documents: Sequence[Document]) -> bytes:
    """One line of compact JSON per document, each ending in a newline.

    Each line goes into one buffer as soon as it is encoded: keeping a shard's
    lines alive to join them costs ~3 µs a line in malloc and page faults
    (orjson's output starts at 1 KiB and is shrunk), ten times the encoding.
    """
    buffer = io.BytesIO()
    write, dump, newline = buffer.write, orjson.dumps, orjson.OPT_APPEND_NEWLINE
    for document in documents:
        write(dump(document, option=newline))
    return buffer.getvalue()


def csv_cell(value: Any) -> Any:
    """A CSV cell: nested values as JSON, booleans as JSON, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _getter(path: str) -> Callable[[Document], Any]:
    parts = path.split(".")

    def get(document: Document) -> Any:
        value: Any = document
        for part in parts:
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    return get


class Encoder:
    """Encodes documents of one provider in one format."""

    def __init__(self, *, name: str, fmt: str, quantity: int, columns: Sequence[str]):
        self.name = name
        self.fmt = fmt
        self.width = max(6, len(str(quantity)))
        self.columns = list(columns)
        self._getters = [_getter(c) for c in self.columns]

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.fmt}"

    def document_filename(self, index: int) -> str:
        return f"{self.name}-{index + 1:0{self.width}d}.json"

    def header(self) -> list[Chunk]:
        if self.fmt != "csv":
            return []
        return [Chunk(self.filename, self._csv_rows([self.columns]))]

    def encode(self, documents: Sequence[Document], start: int) -> list[Chunk]:
        if self.fmt == "json":
            return [
                Chunk(self.document_filename(start + n), dumps_pretty(doc), whole=True)
                for n, doc in enumerate(documents)
            ]
        if self.fmt == "jsonl":
            return [Chunk(self.filename, jsonl(documents))]
        getters = self._getters
        rows = [[csv_cell(get(doc)) for get in getters] for doc in documents]
        return [Chunk(self.filename, self._csv_rows(rows))]

    @staticmethod
    def _csv_rows(rows: Sequence[Sequence[Any]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue().encode("utf-8")
