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
from operator import itemgetter
from typing import Any, Callable, Sequence

import orjson

from datagen.sinks.base import Column
from datagen.sinks.dialects import POSTGRESQL, UTC, row_builder
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


def careful_line(values: Sequence[Any]) -> str:
    """The COPY text line of a row's values, every field escaped."""
    return "\t".join(NULL if value is None else field(value) for value in values) + "\n"


def copy_line_encoder(columns: Sequence[Column]) -> Callable[[Document], str]:
    """A function giving a record's COPY text line (newline included) for ``columns``.

    Compiled once per table into straight-line code, since it runs for every
    row: the fields are formatted in one f-string (text as it is, JSON and
    UTC timestamps by orjson, numbers and booleans by ``str``), and the line
    is kept if it has no character COPY would misread (a backslash other than
    the NULLs' own, a tab other than the separators, a newline other than the
    last, a carriage return). Otherwise, and for any value of an unexpected
    type, the row builder's values go through :func:`careful_line`.
    """
    names = [column.name for column in columns]
    values = [f"v{index}" for index in range(len(columns))]
    fields = []
    for value, column in zip(values, columns):
        if column.type == "text":
            text = f"{value} if {value}.__class__ is str else careful(record)"
        elif column.type == "json":
            text = f"dumps({value}, option=NON_STR_KEYS).decode()"
        elif column.type == "timestamp":
            text = (
                f"dumps({value})[1:-1].decode() if {value}.__class__ is datetime "
                f"and {value}.tzinfo is UTC else careful(record)"
            )
        elif column.type in ("integer", "float", "boolean"):
            text = value
        else:
            text = "careful(record)"
        fields.append(f"{{NULL if {value} is None else {text}}}")
    body = "\\t".join(fields)
    unpack = "(record[names[0]],)" if len(names) == 1 else "fields(record)"
    source = (
        "def line(record):\n"
        "    try:\n"
        f"        values = {unpack}\n"
        "    except KeyError:  # missing fields are NULL\n"
        "        values = tuple(map(record.get, names))\n"
        f"    {''.join(f'{value}, ' for value in values)}= values\n"
        "    try:\n"
        f'        text = f"{body}\\n"\n'
        "    except (Careful, TypeError):\n"
        "        return careful_line(row(record))\n"
        "    if (\n"
        "        text.count(BS) == values.count(None)\n"
        f"        and text.count(TAB) == {len(columns) - 1}\n"
        "        and text.count(NL) == 1\n"
        "        and CR not in text\n"
        "    ):\n"
        "        return text\n"
        "    return careful_line(row(record))\n"
    )
    scope: dict[str, Any] = {
        "names": names,
        "fields": itemgetter(*names),
        "row": row_builder(columns, POSTGRESQL),
        "careful": _careful,
        "careful_line": careful_line,
        "Careful": _Careful,
        "dumps": orjson.dumps,
        "NON_STR_KEYS": orjson.OPT_NON_STR_KEYS,
        "datetime": datetime,
        "UTC": UTC,
        **dict(NULL=NULL, BS="\\", TAB="\t", NL="\n", CR="\r"),
    }
    exec(compile(source, "<copy line>", "exec"), scope)
    return scope["line"]  # type: ignore[no-any-return]


class _Careful(Exception):
    """A value the fast path does not format: the row goes the careful way."""


def _careful(_: Document) -> str:
    raise _Careful
