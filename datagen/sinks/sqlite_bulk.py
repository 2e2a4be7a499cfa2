"""Loading a whole population into SQLite in one transaction, the schema included.

``populate`` writes its tables to SQLite as one transaction, as it does to
PostgreSQL (:mod:`datagen.sinks.pg_bulk`): the ``--reset`` drops, the
tables it creates and every row, so an error, a refused row or Ctrl-C
leaves the file as it was. Python's sqlite3 runs schema changes outside
transactions unless it is told to leave them to the caller; this sink does,
and begins the one transaction itself (SQLAlchemy's recipe for pysqlite,
https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any, ContextManager

from sqlalchemy import Connection, Engine, event

from datagen.sinks.base import TableSpec
from datagen.sinks.database import SQLiteSink


class SQLiteBulkLoad(SQLiteSink):
    """An SQLite sink whose writes are one transaction, committed by ``commit()``.

    Closing without ``commit()`` rolls everything back.
    """

    def __init__(self, url: str) -> None:
        super().__init__(url, foreign_keys=True)

    def _create_engine(self) -> Engine:
        engine = super()._create_engine()
        event.listen(engine, "connect", _leave_transactions_to_us)
        event.listen(engine, "begin", _begin)
        return engine

    def _prepare(self, specs: list[TableSpec], *, reset: bool) -> None:
        conn = self._connection()
        tables = self._tables(conn, specs)
        self._create_tables(conn, specs, tables, reset=reset)  # in the transaction commit() ends

    def _batch(self, conn: Connection) -> ContextManager[Any]:
        return nullcontext()  # every write is in the one transaction

    def commit(self) -> None:
        """Commit everything written since ``open()``."""
        self._commit()


def _leave_transactions_to_us(dbapi_connection: Any, _: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver begins nothing by itself


def _begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")
