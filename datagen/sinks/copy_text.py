"""Records as lines of PostgreSQL's COPY text format, made anywhere (no connection needed).

``populate`` encodes its rows in the worker processes that generate them, so
the process holding the connection only forwards bytes to ``COPY … FROM
STDIN``. A line holds the values the row builder gives (the conversions of
every other way into PostgreSQL: :func:`datagen.sinks.dialects.row_builder`),
each written as COPY's text format reads it: ``\\N`` for NULL, ``t``/``f``,
ISO 8601 timestamps, and backslash, tab, newline and carriage return escaped
(https://www.postgresql.org/docs/current/sql-copy.html#SQL-COPY-FILE-FORMATS).
"""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any, Callable, Sequence

import orjson

from datagen.tablespec import Column
from datagen.sinks.dialects import UTC, encoder
from datagen.sinks.database_urls import POSTGRESQL
from datagen.types import Document

NULL = "\\N"


def escape(text: str) -> str:
    """``text`` as a COPY text field: backslash, tab, newline and carriage return escaped."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def field(value: Any) -> str:
    """Any non-NULL value the row builder gives, as a COPY text field."""
    if value is True:
        return "t"
    if value is False:
        return "f"
    return escape(value if isinstance(value, str) else str(value))


def copy_text_encoder(columns: Sequence[Column]) -> Callable[[Sequence[Document]], str]:
    """A function giving the COPY text of many records (a line each) for ``columns``.

    It works a column at a time, since it runs for every row of a population:
    each column's values are taken from the records in one pass and
    formatted by their kind (text as it is, integers by ``str``, timestamps
    and JSON by orjson); a column is escaped only if its text holds a
    backslash, tab, newline or carriage return, found by one search over the
    whole column. Missing fields are NULL; a column holding a value of an
    unexpected type goes the careful way: the row builder's conversion of its
    kind (:func:`datagen.sinks.dialects.encoder`), then :func:`field`.
    """
    formats = [
        (column.name, _FORMATS.get(column.type, _careful_column), column) for column in columns
    ]

    def text(records: Sequence[Document]) -> str:
        if not records:
            return ""
        fields = []
        for name, format_column, column in formats:
            try:
                values = list(map(itemgetter(name), records))
            except KeyError:
                values = [record.get(name) for record in records]
            fields.append(format_column(values, column))
        return "\n".join(map("\t".join, zip(*fields))) + "\n"

    return text


def _careful_column(values: list[Any], column: Column) -> list[str]:
    encode = encoder(column.type, POSTGRESQL)
    return [NULL if v is None else field(v if encode is None else encode(v)) for v in values]


def _text_column(values: list[Any], column: Column) -> list[str]:
    try:
        joined = "".join(values)  # a TypeError if one is None or not a string
    except TypeError:
        if not _TEXTS.issuperset(map(type, values)):
            return _careful_column(values, column)
        if special("".join([v for v in values if v is not None])):  # (not NULL's backslash)
            return [NULL if v is None else escape(v) for v in values]
        return [NULL if v is None else v for v in values]
    return [escape(v) for v in values] if special(joined) else values


def special(text: str) -> bool:
    """Whether ``text`` holds a backslash, tab, newline or carriage return.

    Four substring searches (memchr) take ~1 % of a regex character class' time.
    """
    return "\\" in text or "\t" in text or "\n" in text or "\r" in text


def _integer_column(values: list[Any], column: Column) -> list[str]:
    if _INTEGERS.issuperset(map(type, values)):  # (not bool: a bool's type is bool)
        return _texts(values)
    return _careful_column(values, column)


def _float_column(values: list[Any], column: Column) -> list[str]:
    if _NUMBERS.issuperset(map(type, values)):
        return _texts(values)
    return _careful_column(values, column)


def _texts(values: list[Any]) -> list[str]:
    if None in values:
        return [NULL if v is None else str(v) for v in values]
    return list(map(str, values))


def _boolean_column(values: list[Any], column: Column) -> list[str]:
    return [
        NULL if v is None else "t" if v is True else "f" if v is False else field(v) for v in values
    ]


def _timestamp_column(values: list[Any], column: Column) -> list[str]:
    nulls = None in values
    present = [v for v in values if v is not None] if nulls else values
    if not present:
        return [NULL] * len(values)
    if {datetime} != set(map(type, present)) or {id(UTC)} != set(map(id, map(_ZONE, present))):
        return _careful_column(values, column)  # (a datetime's zone must be UTC itself)
    # ["2024-01-01T00:00:00+00:00", …] in one call: ISO 8601 with its offset, as PostgreSQL reads
    texts = orjson.dumps(present)[2:-2].decode().split('","')
    if not nulls:
        return texts
    found = iter(texts)
    return [NULL if v is None else next(found) for v in values]


def _json_column(values: list[Any], column: Column) -> list[str]:
    try:
        texts = [NULL if v is None else dumps(v, option=NON_STR_KEYS).decode() for v in values]
    except TypeError:  # e.g. an integer beyond 64 bits
        return _careful_column(values, column)
    if "".join(texts).count("\\") == values.count(None):  # only the NULLs' own backslashes
        return texts
    return [text if v is None else escape(text) for v, text in zip(values, texts)]


_FORMATS: dict[str, Callable[[list[Any], Column], list[str]]] = {
    "text": _text_column,
    "integer": _integer_column,
    "float": _float_column,
    "boolean": _boolean_column,
    "timestamp": _timestamp_column,
    "json": _json_column,
}
dumps, NON_STR_KEYS = orjson.dumps, orjson.OPT_NON_STR_KEYS
_TEXTS = frozenset((str, type(None)))
_INTEGERS = frozenset((int, type(None)))
_NUMBERS = frozenset((int, float, type(None)))
_ZONE = attrgetter("tzinfo")
