"""Checks that read the same rows, run as one statement: one pass over their tables.

Most checks are ``SELECT columns FROM tables WHERE condition``. Checks with
the same ``FROM`` (one table, or the same join) differ only in their
condition and columns, so one statement reads the rows once for all of them::

    SELECT CASE WHEN (c1) THEN 1 ELSE 0 END, CASE WHEN (c2) THEN 1 ELSE 0 END,
           columns1…, columns2…
    FROM tables WHERE (c1) OR (c2)

and each row it returns counts for (and is an example of) every check whose
flag is 1: the rows each check finds alone, since WHERE keeps a row where its
condition is true, which is where CASE WHEN gives 1. A check of another shape
(GROUP BY, a subquery, a function or ``*`` among its columns, a comment…)
runs alone, as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SIMPLE = re.compile(
    r"^SELECT\s+(?P<columns>.+?)\s+FROM\s+(?P<source>.+?)\s+WHERE\s+(?P<condition>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_ONCE = re.compile(r"\b(SELECT|FROM|WHERE)\b", re.IGNORECASE)
_NEVER = re.compile(
    r"\b(GROUP|HAVING|ORDER|LIMIT|OFFSET|FETCH|UNION|INTERSECT|EXCEPT|DISTINCT|WINDOW|OVER|"
    r"INTO|FOR|WITH|RETURNING|LATERAL)\b|--|/\*|;",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Simple:
    """A check's SQL as ``SELECT columns FROM source WHERE condition``."""

    columns: tuple[str, ...]
    source: str
    condition: str


def simple(sql: str) -> Simple | None:
    """``sql`` taken apart, if it is a plain filter of rows (else None: it runs alone)."""
    if _NEVER.search(sql) or len(_ONCE.findall(sql)) != 3:
        return None
    found = _SIMPLE.match(sql.strip())
    if found is None:
        return None
    columns, source = found["columns"], found["source"]
    if any(mark in columns for mark in "()*'\"`?%") or "(" in source:
        return None
    return Simple(
        tuple(column.strip() for column in columns.split(",")),
        " ".join(source.split()),
        found["condition"].strip(),
    )


@dataclass(frozen=True)
class Unit:
    """Checks run by one statement: ``members`` (indexes of the checks) and its SQL.

    A unit of one check runs its own SQL; a unit of several returns their flags
    first, then each member's columns (``widths``: how many each has).
    """

    members: tuple[int, ...]
    sql: str
    widths: tuple[int, ...] = ()


def units(sqls: list[str | None]) -> list[Unit]:
    """The statements that run the checks whose SQL is ``sqls`` (None: no SQL, skipped).

    Checks over the same source go together, at the place of the first of them.
    """
    groups: dict[str, list[tuple[int, Simple]]] = {}
    found: list[Unit | str] = []  # a unit, or the source of a group (in order of first check)
    for index, sql in enumerate(sqls):
        if sql is None:
            continue
        parts = simple(sql)
        if parts is None:
            found.append(Unit((index,), sql))
            continue
        if parts.source not in groups:
            groups[parts.source] = []
            found.append(parts.source)
        groups[parts.source].append((index, parts))
    result = []
    for item in found:
        if isinstance(item, Unit):
            result.append(item)
            continue
        members = groups[item]
        if len(members) == 1:
            index = members[0][0]
            sql = sqls[index]
            assert sql is not None
            result.append(Unit((index,), sql))
        else:
            result.append(_merged(item, members))
    return result


def _merged(source: str, members: list[tuple[int, Simple]]) -> Unit:
    flags = [f"CASE WHEN ({parts.condition}) THEN 1 ELSE 0 END" for _, parts in members]
    columns = [column for _, parts in members for column in parts.columns]
    either = " OR ".join(f"({parts.condition})" for _, parts in members)
    sql = f"SELECT {', '.join(flags + columns)} FROM {source} WHERE {either}"
    widths = tuple(len(parts.columns) for _, parts in members)
    return Unit(tuple(index for index, _ in members), sql, widths)


__all__ = ["Simple", "Unit", "simple", "units"]
