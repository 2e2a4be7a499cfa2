"""A scenario's ``checks:``: SQL that must find no row in a populated database.

A check is the invariant production keeps, written as the query that finds
the rows breaking it (``a user created before its org``). ``{table}`` names
a table of the scenario, quoted for the database; a check may give its SQL
per dialect (``postgresql``, ``mysql``, ``sqlite``) where they differ (JSON
paths), and a database it has no SQL for skips it. ``populate`` runs them
after writing, ``verify-target`` after comparing: each check reports how
many rows break it and up to :data:`EXAMPLES` of them.

A scenario's ``views:`` are SQL a check reads as ``{name}`` as if it were a
table (its columns computed once per row: a job's latest run, a run's
successors' earliest start). Each statement that reads one computes it, as a
subquery named after it; checks that filter the same view run as one
statement (:mod:`check_groups`), so one pass over its tables serves them all.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

from sqlalchemy.exc import SQLAlchemyError

from datagen.errors import DataGenError
from datagen.scenarios.check_groups import Unit, units
from datagen.scenarios.model import CheckDef
from datagen.scenarios.planning import Plan
from datagen.sinks.urls import url_scheme

EXAMPLES = 5
FETCH = 10_000  # rows read at a time: a check that many rows break is counted, not held
DIALECTS = {"PostgreSQL": "postgresql", "MySQL": "mysql", "SQLite": "sqlite"}
_TABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class CheckResult:
    """What one check found: how many rows break it, a few of them (None: skipped)."""

    name: str
    description: str
    violations: int | None
    examples: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def line(self) -> str:
        """One line for a person: the check, the count and what the first rows hold."""
        if self.violations is None:
            return f"{self.name}: skipped (no SQL for this database)"
        if not self.violations:
            return f"{self.name}: ok"
        shown = "; ".join(", ".join(_short(v) for v in row) for row in self.examples)
        return f"{self.name}: {self.violations:,} rows break it, e.g. {shown}"


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def sql_for(
    check: CheckDef,
    dialect: str,
    tables: set[str],
    quote: Any,
    *,
    views: Mapping[str, str | None] | None = None,
) -> str | None:
    """The check's SQL for ``dialect``, with ``{table}`` names quoted (None: no SQL for it).

    ``views``: what takes the place of each ``{view}`` (see :func:`placed_views`;
    None: the view has no SQL for ``dialect``, so neither has the check).
    """
    text = check.sql if isinstance(check.sql, str) else check.sql.get(dialect)
    if text is None:
        return None
    views = views or {}
    if any(views.get(name, "") is None for name in _TABLE.findall(text)):
        return None

    def table(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in views:
            return str(views[name])
        if name not in tables:
            raise check.where.error(
                f"{{{name}}} is not a table of the scenario; tables: {', '.join(sorted(tables))}"
            )
        return str(quote(name))

    return _TABLE.sub(table, text).strip().rstrip(";")


def placed_views(plan: Plan, dialect: str, quote: Any) -> dict[str, str | None]:
    """What a check's ``{view}`` becomes for ``dialect``: ``(SQL) AS view`` (None: no SQL)."""
    tables, placed = set(plan.tables), {}
    for name, view in plan.scenario.views.items():
        sql = sql_for(view, dialect, tables, quote)
        placed[name] = None if sql is None else f"({sql}) AS {quote(name)}"
    return placed


def statements(plan: Plan, dialect: str, quote: Any) -> tuple[list[str | None], list[Unit]]:
    """Each check's own SQL for ``dialect`` (None: none), and the statements that run them.

    Checks are grouped by what they read before views are put in their place:
    checks filtering the same ``{view}`` are one statement, reading it once.
    """
    tables, placed = set(plan.tables), placed_views(plan, dialect, quote)
    checks = plan.scenario.checks.values()
    alone = [sql_for(check, dialect, tables, quote, views=placed) for check in checks]
    marked = {name: None if sql is None else f"{{{name}}}" for name, sql in placed.items()}
    grouped = [sql_for(check, dialect, tables, quote, views=marked) for check in checks]

    def view(match: re.Match[str]) -> str:
        return placed.get(match.group(1)) or match.group(0)

    found = [replace(unit, sql=_TABLE.sub(view, unit.sql)) for unit in units(grouped)]
    return alone, found


def validate(plan: Plan) -> None:
    """Every check names tables the scenario writes, or its views; views name tables.

    A view is named by its name only (its subquery's alias): ``{view} v`` is an
    error, as is a view named like a table (an InputError naming its line).
    """
    tables, views = set(plan.tables), set(plan.scenario.views)
    for view in plan.scenario.views.values():
        if view.name in tables:
            raise view.where.error(f"view {view.name!r} has the name of a table of the scenario")
        _validate(view, tables, set())
    for check in plan.scenario.checks.values():
        _validate(check, tables, views)


def _validate(check: CheckDef, tables: set[str], views: set[str]) -> None:
    texts = [check.sql] if isinstance(check.sql, str) else list(check.sql.values())
    for text in texts:
        for found in _TABLE.finditer(text):
            name = found.group(1)
            if name in views:
                alias = _ALIAS.match(text, found.end())
                if alias and alias.group(1).upper() not in _AFTER_FROM:
                    raise check.where.error(
                        f"view {{{name}}} is named {name} in the SQL: write {{{name}}}, "
                        f"not {{{name}}} {alias.group(1)}"
                    )
            elif name not in tables:
                known = ", ".join(sorted(tables))
                others = f"; views: {', '.join(sorted(views))}" if views else ""
                raise check.where.error(
                    f"{{{name}}} is not a table of the scenario; tables: {known}{others}"
                )


_ALIAS = re.compile(r"\s+(?:AS\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_AFTER_FROM = set(  # what may follow a view's name (anything else would be an alias)
    "WHERE JOIN LEFT RIGHT INNER OUTER FULL CROSS NATURAL ON USING GROUP HAVING ORDER LIMIT "
    "UNION EXCEPT INTERSECT WINDOW".split()
)


CONNECTIONS = 2
"""Connections the checks share on a database server (SQLite: one): each scans tables."""

SESSION = {
    "PostgreSQL": (
        "SET jit = off",  # compiling a plan costs more than running a check once
        "SET work_mem = '64MB'",  # a join or grouping of a large table in memory, not on disk
        # A check reads every row it finds through a cursor (rows fetched a batch at a time),
        # which PostgreSQL plans for its first 10 % by default: nested loops that cost a
        # whole-table check seconds (suspended_orgs_run_no_job: 1.5 s of CPU instead of 0.05).
        "SET cursor_tuple_fraction = 1",
    ),
}
"""Settings of the checks' own connections, per database (committed: they last the session)."""


def run_checks(plan: Plan, url: str) -> list[CheckResult]:
    """Run every check of ``plan``'s scenario on the database at ``url``, in their order.

    Checks that read the same rows run as one statement (:mod:`check_groups`).
    On PostgreSQL and MySQL the statements are spread over :data:`CONNECTIONS`
    connections (the server scans tables for two at once), each taking the
    next when it is done; a check that fails to run raises, the first in the
    scenario's order if several do.
    """
    checks = list(plan.scenario.checks.values())
    lanes = 1 if url_scheme(url).startswith("sqlite") else min(CONNECTIONS, len(checks))
    results: list[CheckResult | BaseException | None] = [None] * len(checks)
    failures: list[BaseException] = []  # a lane that could not connect, or crashed
    queue: list[Unit] | None = None  # the statements, made by the first lane connected
    alone: list[str | None] = []  # each check's own SQL (run alone if its statement fails)
    lock = threading.Lock()

    def next_unit(dialect: str, quote: Any) -> tuple[Unit, list[str | None]] | None:
        nonlocal queue
        with lock:
            if queue is None:
                sqls, queue = statements(plan, dialect, quote)
                alone.extend(sqls)
                for i, sql in enumerate(sqls):
                    if sql is None:
                        results[i] = CheckResult(checks[i].name, checks[i].description, None)
                queue.reverse()
            return (queue.pop(), alone) if queue else None

    def lane() -> None:
        try:
            _run_lane(url, checks, next_unit, results)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            failures.append(exc)

    if lanes <= 1:
        _run_lane(url, checks, next_unit, results)
    else:
        threads = [threading.Thread(target=lane) for _ in range(lanes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    if failures:
        raise failures[0]
    return [result for result in results if isinstance(result, CheckResult)]


def _run_lane(
    url: str,
    checks: list[CheckDef],
    next_unit: Callable[[str, Any], tuple[Unit, list[str | None]] | None],
    results: list[CheckResult | BaseException | None],
) -> None:
    """Run statements on one connection until none is left, each check's result in its place."""
    from datagen.sinks.connections import connected  # SQLAlchemy: only when checks run

    with connected(url) as (backend, conn, where):
        dialect = DIALECTS[backend.name]
        quote = conn.dialect.identifier_preparer.quote_identifier
        for setting in SESSION.get(backend.name, ()):
            conn.exec_driver_sql(setting)
        conn.commit()  # a SET rolled back with the first check's transaction would be undone
        percent = conn.dialect.paramstyle in ("format", "pyformat")  # a LIKE's % is no placeholder
        while (taken := next_unit(dialect, quote)) is not None:
            unit, alone = taken
            try:
                found = _run(conn, unit, percent)
            except SQLAlchemyError as exc:
                conn.rollback()
                if len(unit.members) > 1:  # which of them: each alone
                    for member in unit.members:
                        sql = alone[member]
                        assert sql is not None
                        try:
                            found = _run(conn, Unit((member,), sql), percent)
                        except SQLAlchemyError as exc_alone:
                            conn.rollback()
                            results[member] = _failed(checks[member], backend, where, exc_alone)
                        else:
                            conn.rollback()
                            results[member] = _result(checks[member], *found[0])
                    continue
                results[unit.members[0]] = _failed(checks[unit.members[0]], backend, where, exc)
                continue
            conn.rollback()
            for member, (violations, examples) in zip(unit.members, found):
                results[member] = _result(checks[member], violations, examples)


def _run(conn: Any, unit: Unit, percent: bool) -> list[tuple[int, list[tuple[Any, ...]]]]:
    """``(violations, examples)`` of each member of ``unit``, in its order."""
    sql = unit.sql.replace("%", "%%") if percent else unit.sql
    counts = [0] * len(unit.members)
    examples: list[list[tuple[Any, ...]]] = [[] for _ in unit.members]
    found = conn.execution_options(stream_results=True).exec_driver_sql(sql)
    if len(unit.members) == 1:
        while batch := found.fetchmany(FETCH):
            examples[0].extend(tuple(row) for row in batch[: EXAMPLES - len(examples[0])])
            counts[0] += len(batch)
    else:
        flags = len(unit.members)
        starts = [flags + sum(unit.widths[:n]) for n in range(flags)]
        while batch := found.fetchmany(FETCH):
            for row in batch:
                for n in range(flags):
                    if row[n]:
                        counts[n] += 1
                        if len(examples[n]) < EXAMPLES:
                            examples[n].append(tuple(row[starts[n] : starts[n] + unit.widths[n]]))
    found.close()
    return list(zip(counts, examples))


def _result(check: CheckDef, violations: int, examples: list[tuple[Any, ...]]) -> CheckResult:
    return CheckResult(check.name, check.description, violations, examples)


def _failed(check: CheckDef, backend: Any, where: str, exc: SQLAlchemyError) -> BaseException:
    cause = getattr(exc, "orig", None) or exc
    message = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return check.where.error(f"check {check.name!r} failed on {backend.name} at {where}: {message}")


class ChecksFailed(DataGenError):
    """Some checks found rows breaking them (exit 1)."""


def raise_for(results: list[CheckResult], *, target: str) -> None:
    """ChecksFailed naming every check that found rows, with its count and examples."""
    failed = [result for result in results if not result.ok and result.violations is not None]
    if failed:
        lines = "\n".join(f"  {result.line()}" for result in failed)
        raise ChecksFailed(
            f"{len(failed)} of {len(results)} checks found rows breaking them in {target} "
            "(the rows are written):\n" + lines
        )
