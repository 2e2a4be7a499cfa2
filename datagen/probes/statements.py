"""Named parameters in probe SQL: ``:name`` and ``:step.column``, found and bound.

A probe's statements name their parameters as ``:name`` (a parameter of the
query or transaction) or ``:step.column`` (a column of the row an earlier
step of the transaction chose). They are found outside string literals,
quoted identifiers and comments; ``::`` (a PostgreSQL cast) and ``:=`` are
not parameters. Before a statement runs, each is replaced by the driver's
positional placeholder (``%s`` for psycopg and PyMySQL, ``?`` for sqlite3),
so the driver gets a tuple, as a bare driver loop would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")


@dataclass(frozen=True)
class Statement:
    """SQL ready for one driver: its text with placeholders and the parameter names in order."""

    source: str
    text: str
    names: tuple[str, ...]

    @property
    def reads(self) -> bool:
        """Whether it is a query a plan can be asked of (SELECT or WITH)."""
        head = _strip_comments(self.source).lstrip().split(None, 1)
        return bool(head) and head[0].upper() in ("SELECT", "WITH")


def _scan(sql: str) -> list[tuple[int, int, str]]:
    """``(start, end, name)`` of every ``:name`` in ``sql``, outside quotes and comments."""
    found = []
    i, size = 0, len(sql)
    while i < size:
        char = sql[i]
        if char in "'\"`":
            end = sql.find(char, i + 1)
            while end != -1 and end + 1 < size and sql[end + 1] == char:  # doubled quote
                end = sql.find(char, end + 2)
            i = size if end == -1 else end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = size if end == -1 else end + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = size if end == -1 else end + 2
        elif char == ":":
            if sql.startswith("::", i):
                i += 2
                continue
            match = _NAME.match(sql, i + 1)
            if match and not (i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
                found.append((i, match.end(), match.group()))
                i = match.end()
            else:
                i += 1
        else:
            i += 1
    return found


def _strip_comments(sql: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    return re.sub(r"--[^\n]*", " ", text)


def parameters_of(sql: str) -> list[str]:
    """The parameter names of ``sql`` in order of appearance (repeats kept)."""
    return [name for _, _, name in _scan(sql)]


def prepare(sql: str, placeholder: str) -> Statement:
    """``sql`` with each ``:name`` replaced by ``placeholder`` (``%s`` or ``?``).

    With ``%s`` (psycopg, PyMySQL) a literal ``%`` is doubled, as those
    drivers read the text as a format when given parameters.
    """
    pieces, names, last = [], [], 0
    found = _scan(sql)
    for start, end, name in found:
        chunk = sql[last:start]
        pieces.append(chunk.replace("%", "%%") if placeholder == "%s" else chunk)
        pieces.append(placeholder)
        names.append(name)
        last = end
    if not found:
        return Statement(sql, sql, ())
    tail = sql[last:]
    pieces.append(tail.replace("%", "%%") if placeholder == "%s" else tail)
    return Statement(sql, "".join(pieces), tuple(names))
