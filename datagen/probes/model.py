"""A probe after loading: its scenario, setup SQL, queries, transactions and invariants.

Every part remembers where it was written (file, line and dotted key, as
scenarios do with :class:`datagen.scenarios.model.Where`), so that what is
found wrong later — a pick from an entity the scenario doesn't build, a
statement the database refuses — names its place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from datagen.scenarios.model import Where

DIALECTS = ("postgresql", "mysql", "mariadb", "sqlite")
"""The keys of a per-dialect SQL mapping, besides ``default``: ``mysql`` covers MariaDB
too, unless a ``mariadb`` one is given (say, for a collation only MariaDB has)."""

ISOLATION_LEVELS = {
    "read_committed": "READ COMMITTED",
    "repeatable_read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}

CHOOSE = ("first", "random")
ON_EMPTY = ("end", "retry", "fail")


@dataclass(frozen=True)
class Sql:
    """A statement, the same for every database or one per dialect.

    ``texts`` maps ``postgresql``/``mysql``/``sqlite``/``default`` to SQL; a
    dialect given ``None`` (YAML ``null``) skips the statement there.
    """

    texts: Mapping[str, str | None]
    where: Where

    def for_dialect(self, dialect: str, flavor: str | None = None) -> str | None:
        """The SQL to run on ``dialect`` (None: skipped there); InputError if none is given.

        ``flavor`` (``mariadb``) is looked for before its dialect (``mysql``).
        """
        if flavor and flavor in self.texts:
            return self.texts[flavor]
        if dialect in self.texts:
            return self.texts[dialect]
        if "default" in self.texts:
            return self.texts["default"]
        given = ", ".join(self.texts)
        raise self.where.error(
            f"no SQL for {dialect} (given: {given})", hint=f"add '{dialect}:' or 'default:'"
        )

    def all_texts(self) -> list[str]:
        return [text for text in self.texts.values() if text]


@dataclass(frozen=True)
class ParamDef:
    """How one named parameter is drawn for each execution.

    ``kind`` is one of ``value`` (a constant), ``pick`` (``entity.field`` of a
    row of the population), ``choice`` (one of a list), ``mimesis`` (a Mimesis
    field), ``distribution`` (a scenario distribution's integer) or ``uuid``
    (a fresh UUID per execution, derived from the seed).
    """

    name: str
    kind: str
    argument: Any
    where: Where
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def entity(self) -> str:
        return str(self.argument).partition(".")[0]

    @property
    def field(self) -> str:
        return str(self.argument).partition(".")[2]


@dataclass(frozen=True)
class QueryDef:
    """A named statement run ``repeat`` times, or for its share of ``--duration`` if given."""

    name: str
    sql: Sql
    params: Mapping[str, ParamDef]
    where: Where
    repeat: int | None = None
    share: float | None = None
    description: str = ""


@dataclass(frozen=True)
class StepDef:
    """One statement of a transaction; ``choose`` keeps one returned row for later steps."""

    name: str
    sql: Sql
    where: Where
    choose: str | None = None  # first | random: the row's columns become :NAME.column
    on_empty: str | None = None  # end | retry | fail, when the step returns no row


@dataclass(frozen=True)
class TransactionDef:
    """Named steps run in one transaction, by every client, with retries on conflicts."""

    name: str
    steps: tuple[StepDef, ...]
    params: Mapping[str, ParamDef]
    where: Where
    isolation: str | None = None  # a key of ISOLATION_LEVELS; None: the database's default
    repeat: int | None = None
    share: float | None = None
    description: str = ""


@dataclass(frozen=True)
class InvariantDef:
    """SQL that must return no rows after the run; each row returned is a violation."""

    name: str
    sql: Sql
    where: Where
    description: str = ""


@dataclass
class Probe:
    """A loaded probe file."""

    name: str
    path: str
    scenario: str  # the scenario file, as a path usable from the current directory
    where: Where  # of the 'scenario:' key
    seed: int | None = None
    scales: tuple[float, ...] = ()
    setup: list[Sql] = field(default_factory=list)
    queries: dict[str, QueryDef] = field(default_factory=dict)
    transactions: dict[str, TransactionDef] = field(default_factory=dict)
    invariants: dict[str, InvariantDef] = field(default_factory=dict)
    description: str = ""

    def items(self) -> list[QueryDef | TransactionDef]:
        """Queries then transactions, in file order: what shares ``--duration``."""
        return [*self.queries.values(), *self.transactions.values()]
