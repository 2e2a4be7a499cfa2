"""Creating a database sink's tables: reset, create, check and extend them (a mixin).

:class:`datagen.sinks.database.DatabaseSink` opens its tables through these
methods; the backends override some (:mod:`datagen.sinks.backends`: MySQL's
collation, PostgreSQL's kept-table check; the bulk loads' ``_create``).
Referenced tables are created first, or reflected when they exist already.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Connection, MetaData, Table, inspect
from sqlalchemy.exc import SQLAlchemyError

from datagen.errors import SinkError
from datagen.sinks.base import Column, Summary, TableSpec
from datagen.sinks.database_urls import Backend
from datagen.sinks.dialects import build_table, sql_type
from datagen.sinks.readback import Ledger
from datagen.sinks.rows import RowPlan


class TableSetup:
    """The table-creating half of a database sink (what it needs of the sink, declared)."""

    backend: ClassVar[Backend]
    foreign_keys: bool
    label: str
    where: str
    ledger: Ledger
    summary: Summary
    _metadata: MetaData
    _plans: dict[str, RowPlan]

    def _connection(self) -> Connection:
        raise NotImplementedError

    def _plan(self, spec: TableSpec) -> RowPlan:
        raise NotImplementedError

    def _driver_error(self) -> type[Exception]:
        raise NotImplementedError

    def _reason(self, exc: BaseException, *, full: bool = False) -> str:
        raise NotImplementedError

    def quote(self, name: str) -> str:
        raise NotImplementedError

    def _prepare(self, specs: list[TableSpec], *, reset: bool) -> None:
        conn = self._connection()
        tables = self._tables(conn, specs)
        with conn.begin():
            self._create_tables(conn, specs, tables, reset=reset)

    def _tables(self, conn: Connection, specs: list[TableSpec]) -> list[Table]:
        """The SQLAlchemy tables of ``specs`` (referenced tables reflected if needed)."""
        collation = self._collation(conn)
        if self.foreign_keys:
            self._reflect_parents(conn, specs)
        tables = []
        for spec in specs:
            if spec.name in self._metadata.tables:
                self._metadata.remove(self._metadata.tables[spec.name])
            table = build_table(
                spec,
                self._metadata,
                self.backend,
                foreign_keys=self.foreign_keys,
                collation=collation,
            )
            tables.append(table)
        return tables

    def _create_tables(
        self, conn: Connection, specs: list[TableSpec], tables: list[Table], *, reset: bool
    ) -> None:
        """Drop (``reset``) and create the tables; check the columns of those kept.

        Every kept table is checked before anything changes (MySQL commits each
        change of schema at once: a refusal must come first).
        """
        existing = set(inspect(conn).get_table_names())
        kept = (
            {} if reset else {s.name: self._missing(conn, s) for s in specs if s.name in existing}
        )
        if reset:
            for table in reversed(tables):  # children first
                if table.name in existing:
                    self._drop(conn, table)
                    existing.discard(table.name)
        for spec, table in zip(specs, tables):
            if table.name in existing:
                self._add_columns(conn, spec, kept[spec.name])
            else:
                self._create(conn, table)
                self.ledger.forget(table.name)  # rows written before a reset are gone
                self.summary.written.pop(table.name, None)
                self.ledger.created.add(table.name)
        for spec in specs:
            self._plans[spec.name] = self._plan(spec)

    def _create(self, conn: Connection, table: Table) -> None:
        table.create(conn)

    def _reflect_parents(self, conn: Connection, specs: list[TableSpec]) -> None:
        """Load the referenced tables not opened here, so constraints can name them."""
        opening = {spec.name for spec in specs}
        existing: set[str] | None = None
        for spec in specs:
            for column, (parent, _) in spec.foreign_keys.items():
                if parent in opening or parent in self._metadata.tables:
                    continue
                if existing is None:
                    existing = set(inspect(conn).get_table_names())
                if parent not in existing:
                    raise SinkError(
                        f"{spec.name}.{column} refers to table {parent!r}, which is not in "
                        f"{self.label} at {self.where}",
                        hint=f"write the {parent!r} records first, or leave foreign keys off",
                    )
                Table(parent, self._metadata, autoload_with=conn, resolve_fks=False)
        if existing is not None:
            conn.rollback()  # end the reflection's implicit transaction

    def _drop(self, conn: Connection, table: Table) -> None:
        try:
            table.drop(conn)
        except (SQLAlchemyError, self._driver_error()) as exc:
            raise SinkError(
                f"cannot drop table {table.name!r} in {self.label} at {self.where}: "
                f"{self._reason(exc)}",
                hint="if other tables refer to it, reset them too",
            ) from None

    def _missing(self, conn: Connection, spec: TableSpec) -> list[Column]:
        """The columns of ``spec`` an existing table lacks: all addable, or a SinkError."""
        found = {column["name"] for column in inspect(conn).get_columns(spec.name)}
        missing = [column for column in spec.columns if column.name not in found]
        lacking = [column.name for column in missing if not column.addable]
        if lacking:
            raise SinkError(
                f"table {spec.name!r} in {self.label} at {self.where} has no column "
                + ", ".join(repr(name) for name in lacking),
                hint="it was made for other data: reset it to recreate it",
            )
        return missing

    def _add_columns(self, conn: Connection, spec: TableSpec, columns: list[Column]) -> None:
        """Add ``columns`` (nullable) to ``spec``'s table, e.g. a journey step's own."""
        for column in columns:
            kind = sql_type(column.type, self.backend).compile(dialect=conn.dialect)
            conn.exec_driver_sql(
                f"ALTER TABLE {self.quote(spec.name)} ADD COLUMN {self.quote(column.name)} {kind}"
            )

    def _collation(self, conn: Connection) -> str | None:
        return None
