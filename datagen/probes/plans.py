"""Plans reduced to what a person reads: indexes used, tables scanned in full, rows expected.

Each database explains a query its own way — PostgreSQL's ``EXPLAIN (FORMAT
JSON)`` is a tree of nodes, MySQL/MariaDB's ``EXPLAIN FORMAT=JSON`` nests
query blocks around table accesses, SQLite's ``EXPLAIN QUERY PLAN`` is lines
of text — and each is reduced here to the same :class:`PlanSummary`: one
:class:`Access` per table read (by an index, or in full), and the planner's
estimate of the rows returned where it gives one (SQLite does not).

MySQL and SQLite name a table by its alias in the query; aliases are mapped
back to tables by reading the ``FROM``/``JOIN`` clauses of the statement.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

_KEYWORDS = {
    "where", "on", "join", "left", "right", "inner", "outer", "cross", "full", "natural",
    "group", "order", "limit", "having", "union", "using", "set", "for", "straight_join",
    "window", "offset", "fetch", "lateral", "as", "use", "force", "ignore", "values",
}  # fmt: skip
_FROM = re.compile(
    r"\b(?:FROM|JOIN|UPDATE|INTO)\s+([`\"]?[A-Za-z_][\w$]*[`\"]?)(?:\s+(?:AS\s+)?([A-Za-z_]\w*))?",
    re.IGNORECASE,
)
_PG_INDEX_NODES = ("Index Scan", "Index Only Scan")
_MYSQL_FULL = ("ALL", "index")  # "index": every entry of an index, in order
_SQLITE = re.compile(
    r"^(SCAN|SEARCH)\s+(?:TABLE\s+)?(\S+)(?:\s+AS\s+(\S+))?"
    r"(?:\s+USING\s+(?:(INTEGER PRIMARY KEY)|PRIMARY KEY|((?:AUTOMATIC\s+)?(?:PARTIAL\s+)?"
    r"(?:COVERING\s+)?INDEX)\s+(\S+)))?"
)


@dataclass(frozen=True)
class Access:
    """One table read: ``full`` (every row; ``index`` set if in an index's order) or ``index``."""

    table: str
    kind: str  # full | index
    index: str | None = None
    estimated_rows: float | None = None  # rows the planner expects this access to read

    def describe(self) -> str:
        if self.kind == "full":
            via = f" (in index {self.index})" if self.index else ""
            return f"{self.table}: full scan{via}"
        return f"{self.table}: index {self.index}"


@dataclass
class PlanSummary:
    """What a plan does, on any database."""

    accesses: list[Access] = field(default_factory=list)
    estimated_rows: float | None = None
    cost: float | None = None

    @property
    def indexes(self) -> list[str]:
        return sorted({a.index for a in self.accesses if a.kind == "index" and a.index})

    @property
    def full_scans(self) -> list[str]:
        """Tables read in full, in plan order, each once."""
        return list(dict.fromkeys(a.table for a in self.accesses if a.kind == "full"))

    def signature(self) -> tuple[tuple[str, str, str], ...]:
        """How each table is read, ignoring estimates: equal signatures, same plan shape."""
        return tuple(sorted({(a.table, a.kind, a.index or "") for a in self.accesses}))

    def describe(self) -> str:
        """``index ix_inv_provider on inventory; full scan: resource_type``."""
        parts = []
        by_index = [a for a in self.accesses if a.kind == "index"]
        if by_index:
            parts.append(
                "index "
                + ", ".join(
                    dict.fromkeys(
                        f"{a.index} on {a.table}" if a.index else a.table for a in by_index
                    )
                )
            )
        if self.full_scans:
            parts.append("full scan: " + ", ".join(self.full_scans))
        return "; ".join(parts) or "no table read"

    def to_json(self) -> dict[str, Any]:
        return {
            "indexes": self.indexes,
            "full_scans": self.full_scans,
            "estimated_rows": self.estimated_rows,
            "cost": self.cost,
            "accesses": [asdict(access) for access in self.accesses],
            "summary": self.describe(),
        }


def aliases(sql: str) -> dict[str, str]:
    """``alias -> table`` of the ``FROM``/``JOIN`` clauses of ``sql`` (tables map to themselves)."""
    found: dict[str, str] = {}
    for match in _FROM.finditer(sql):
        table = match.group(1).strip('`"')
        if table.lower() in _KEYWORDS or table.lower() == "select":
            continue
        found.setdefault(table, table)
        alias = match.group(2)
        if alias and alias.lower() not in _KEYWORDS:
            found[alias] = table
    return found


def summarize(dialect: str, raw: Any, sql: str) -> PlanSummary:
    """The summary of ``raw``, the output of ``Session.explain`` on ``dialect``."""
    if dialect == "postgresql":
        return postgres_summary(raw)
    if dialect == "mysql":
        return mysql_summary(raw, aliases(sql))
    return sqlite_summary(raw, aliases(sql))


# PostgreSQL ------------------------------------------------------------------------------


def postgres_summary(raw: Any) -> PlanSummary:
    """From ``EXPLAIN (FORMAT JSON)``: ``[{"Plan": {"Node Type": …, "Plans": […]}}]``."""
    top = raw[0]["Plan"] if isinstance(raw, list) else raw["Plan"]
    summary = PlanSummary(estimated_rows=top.get("Plan Rows"), cost=top.get("Total Cost"))
    summary.accesses = list(_pg_accesses(top))
    return summary


def _pg_accesses(node: dict[str, Any]) -> Iterator[Access]:
    kind = node.get("Node Type", "")
    relation = node.get("Relation Name")
    rows = node.get("Plan Rows")
    children = node.get("Plans", [])
    if kind == "Seq Scan" and relation:
        yield Access(relation, "full", None, rows)
    elif kind in _PG_INDEX_NODES and relation:
        yield Access(relation, "index", node.get("Index Name"), rows)
    elif kind == "Bitmap Heap Scan" and relation:
        names = [name for child in children for name in _pg_bitmap_indexes(child)]
        yield Access(relation, "index", ", ".join(names) or None, rows)
        return  # its children are the bitmap index scans just named
    for child in children:
        yield from _pg_accesses(child)


def _pg_bitmap_indexes(node: dict[str, Any]) -> Iterator[str]:
    if node.get("Index Name"):
        yield str(node["Index Name"])
    for child in node.get("Plans", []):
        yield from _pg_bitmap_indexes(child)


# MySQL and MariaDB -----------------------------------------------------------------------


def mysql_summary(raw: dict[str, Any], names: dict[str, str]) -> PlanSummary:
    """From ``EXPLAIN FORMAT=JSON``: query blocks holding ``table`` objects, at any depth."""
    block = raw.get("query_block", raw)
    summary = PlanSummary()
    cost = block.get("cost_info", {}).get("query_cost") or block.get("cost")
    summary.cost = float(cost) if cost is not None else None
    tables = list(_mysql_tables(block))
    summary.accesses = [
        _mysql_access(table, names) for table in tables if not _derived(table["table_name"])
    ]
    top = [
        t
        for t in _mysql_tables(block, nested=False)
        if "rows" in t or "rows_examined_per_scan" in t
    ]
    if top:
        last = top[-1]
        if "rows_produced_per_join" in last:  # MySQL
            summary.estimated_rows = float(last["rows_produced_per_join"])
        else:  # MariaDB: the join's rows, each table's rows times its filtered share
            estimate = 1.0
            for table in top:
                estimate *= float(table.get("rows", 1)) * float(table.get("filtered", 100)) / 100
            summary.estimated_rows = round(estimate, 1)
    return summary


def _derived(name: str) -> bool:
    return name.startswith("<")  # <derived2>, <subquery3>, <union1,2>: temporary tables


def _mysql_tables(node: Any, *, nested: bool = True) -> Iterator[dict[str, Any]]:
    """Every table access under ``node`` (``nested=False``: of the top block's join only)."""
    if isinstance(node, dict):
        if "table_name" in node and "access_type" in node:
            yield node
            if not nested:
                return
        for key, value in node.items():
            if not nested and key in ("subqueries", "materialized", "query_block"):
                continue
            yield from _mysql_tables(value, nested=nested)
    elif isinstance(node, list):
        for item in node:
            yield from _mysql_tables(item, nested=nested)


def _mysql_access(table: dict[str, Any], names: dict[str, str]) -> Access:
    name = names.get(str(table["table_name"]), str(table["table_name"]))
    rows = table.get("rows", table.get("rows_examined_per_scan"))
    estimated = float(rows) if rows is not None else None
    if table["access_type"] in _MYSQL_FULL:
        return Access(name, "full", table.get("key"), estimated)
    return Access(name, "index", table.get("key"), estimated)


# SQLite ------------------------------------------------------------------------------------


def sqlite_summary(rows: list[tuple[Any, ...]], names: dict[str, str]) -> PlanSummary:
    """From ``EXPLAIN QUERY PLAN`` rows ``(id, parent, notused, detail)``."""
    summary = PlanSummary()
    for row in rows:
        match = _SQLITE.match(str(row[-1]))
        if match is None:
            continue  # USE TEMP B-TREE, LIST SUBQUERY, CO-ROUTINE, …
        verb, name, alias, rowid, how, index = match.groups()
        if name in ("SUBQUERY", "CONSTANT") or name.startswith("("):
            continue
        table = names.get(alias or name, name)
        if rowid:
            index = "rowid"
        elif verb == "SEARCH" and index is None and how is None:
            index = "PRIMARY KEY"
        automatic = bool(how and "AUTOMATIC" in how)
        if verb == "SCAN" or automatic:  # an automatic index is built from a full scan
            summary.accesses.append(Access(table, "full", index))
        else:
            summary.accesses.append(Access(table, "index", index))
    return summary
