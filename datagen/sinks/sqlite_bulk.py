"""Loading a whole population into SQLite in one transaction, the schema included.

``populate`` writes its tables to SQLite as one transaction, as it does to
PostgreSQL (:mod:`datagen.sinks.pg_bulk`): the ``--reset`` drops, the
tables it creates and every row, so an error, a refused row or Ctrl-C
leaves the file as it was. The tables it creates are counted before the
commit (one ``COUNT(*)`` each, :mod:`datagen.sinks.readback`). Python's
sqlite3 runs schema changes outside transactions unless it is told to leave
them to the caller; this sink does, and begins the one transaction itself
(SQLAlchemy's recipe for pysqlite,
https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl).
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any, ContextManager, Sequence

from sqlalchemy import Connection, Engine, event

from datagen.sinks.base import Summary, TableSpec
from datagen.sinks.backends import SQLiteSink


class SQLiteBulkLoad(SQLiteSink):
    """An SQLite sink whose writes are one transaction, committed by ``commit()``.

    Closing without ``commit()`` rolls everything back.
    """

    commits_batches = False  # everything is committed by commit()

    def __init__(self, url: str) -> None:
        super().__init__(url, foreign_keys=True)
        database = self._url.database or ""
        self._file = Path(database) if database and not database.startswith("file:") else None
        self._new_file = False  # made by open(): removed again unless committed
        self._committed = False

    def open(self, tables: Sequence[TableSpec], *, reset: bool = False) -> None:
        if self._conn is None and self._file is not None:
            self._new_file = not self._file.exists()
        self._committed = False
        super().open(tables, reset=reset)

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
        """Count the tables made here (their rows must be those inserted), then commit."""
        self.read_back()
        self._commit()
        self._committed = True

    def close(self) -> Summary:
        """Disconnect; a database file this load made and did not commit is removed."""
        summary = super().close()
        if self._new_file and not self._committed and self._file is not None:
            for path in (self._file, *(Path(f"{self._file}{end}") for end in ("-wal", "-shm"))):
                path.unlink(missing_ok=True)
            self._new_file = False
        return summary


def _leave_transactions_to_us(dbapi_connection: Any, _: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver begins nothing by itself


def _begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")
