"""Where replayed steps go: a database, a folder, a blob container or an HTTP endpoint.

A target is opened once (in the main thread, so a wrong URL fails before
anything is written), then ``write`` is called from several threads with
steps of one document type (the interface: :mod:`datagen.replay.steps`).
A failed write raises WriteFailed, which says
whether trying again may help (a dropped connection, a 5xx, a deadlock) or
not (a constraint violated, a 4xx). Every write is idempotent: an upsert on
the document's key, a file or blob overwritten by name, an HTTP POST with an
``Idempotency-Key`` header.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Collection, Mapping, Sequence

import orjson

from datagen.atomic import atomic_write_bytes
from datagen.documents import registry
from datagen.driver import order_by_references
from datagen.errors import InputError, SinkError
from datagen.replay.steps import ReplayStep, StepTarget, WriteFailed
from datagen.tables import table_for
from datagen.tablespec import TableSpec
from datagen.sinks.urls import BLOB, DATABASE, FOLDER, HTTP, redact, target_kind, is_sqlite_url

_TRANSIENT_SQLSTATE_CLASSES = {"08", "53"}  # connection exception, insufficient resources
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03"}
# lock wait timeout, deadlock, too many connections, can't connect, gone away, lost connection
_TRANSIENT_MYSQL_CODES = {1205, 1213, 1040, 2002, 2003, 2006, 2013}


class UnknownDocumentType(InputError):
    """Journeys hold documents of a type the target cannot take."""

    def __init__(self, document_type: str, message: str, **kwargs: str | None) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.document_type = document_type


def open_target(url: str, *, headers: Mapping[str, str] | None = None) -> StepTarget:
    """The target named by ``url`` (not yet opened): a replay adapter over each kind of target.

    ``url`` is classified by :func:`datagen.sinks.urls.target_kind`, as every ``--to`` is;
    replay alone takes ``http(s)://`` as an endpoint rather than a container URL.
    """
    kind = target_kind(url, replay=True)
    if kind == HTTP:
        from datagen.replay.http import HttpTarget  # urllib3: ~0.1 s of the CLI's start-up

        return HttpTarget(url, headers=headers or {})
    if headers:
        raise InputError("--header is for http(s):// targets only")
    if kind == DATABASE:
        return DatabaseTarget(url)
    if kind == BLOB:
        from datagen.replay.blobs import BlobStepTarget  # the Azure SDK: heavy, for blobs only

        return BlobStepTarget(url)
    if kind != FOLDER:
        raise InputError(
            f"cannot replay into {redact(url)!r}",
            hint="use a folder, sqlite:///FILE.db, postgresql://…, mysql+pymysql://…, "
            "azure://CONTAINER/PREFIX or an http(s):// endpoint",
        )
    return FolderTarget(url)


class FolderTarget(StepTarget):
    """Each step's document as ``FOLDER/<journey>/<step file>``, written atomically."""

    def open(self, document_types: Collection[str]) -> None:
        root = Path(self.url)
        if root.exists() and not root.is_dir():
            raise InputError(f"{self.url!r} exists and is not a folder")
        root.mkdir(parents=True, exist_ok=True)

    def write(self, steps: Sequence[ReplayStep]) -> None:
        for step in steps:
            try:
                atomic_write_bytes(Path(self.url) / step.journey / step.file, step.data)
            except OSError as err:
                raise WriteFailed(
                    f"cannot write {step.journey}/{step.file} in {self.url}: "
                    f"{err.strerror or err}",
                    transient=False,
                ) from None


class DatabaseTarget(StepTarget):
    """Rows upserted in each document type's table (with journey_id and step_index).

    Each writer thread has its own connection; SQLite takes one writer at a
    time (it locks the whole file on write).
    """

    max_batch = None  # a batch of one type is one bulk upsert

    def __init__(self, url: str) -> None:
        super().__init__(url)
        if is_sqlite_url(url):
            self.max_workers = 1
        self.tables: dict[str, TableSpec] = {}
        self._local = threading.local()
        self._sinks: list[Any] = []
        self._lock = threading.Lock()

    def open(self, document_types: Collection[str]) -> None:
        known = set(registry.names())
        for kind in sorted(document_types):
            if kind not in known:
                raise UnknownDocumentType(
                    kind,
                    f"journeys hold {kind!r} documents, which no document provider defines",
                    hint="a database table is made from the provider; add "
                    f"document_providers/{kind}.py or replay to a folder or HTTP",
                )
        specs = order_by_references([table_for(k, journeys=True) for k in document_types])
        self.tables = {spec.name: spec for spec in specs}
        self._sink()  # connect and create the tables now: a wrong URL fails before any write

    def _sink(self) -> Any:
        sink = getattr(self._local, "sink", None)
        if sink is None:
            from datagen.sinks.backends import open_database_sink  # SQLAlchemy: heavy

            sink = open_database_sink(self.url)
            sink.says_committed = False  # the replay's report says which steps are written
            sink.open(list(self.tables.values()))
            self._local.sink = sink
            with self._lock:
                self._sinks.append(sink)
        return sink

    def write(self, steps: Sequence[ReplayStep]) -> None:
        table = self.tables[steps[0].document_type]
        records = []  # ISO timestamps stay text: each database sink reads them
        for step in steps:
            record = orjson.loads(step.data)
            record["journey_id"] = step.user_id
            record["step_index"] = step.index
            records.append(record)
        try:
            self._sink().write(table, records)
        except SinkError as err:
            transient = _transient_database_error(err)
            if transient:
                self._drop_sink()
            raise WriteFailed(str(err), transient=transient) from None

    def _drop_sink(self) -> None:
        sink = getattr(self._local, "sink", None)
        self._local.sink = None
        if sink is not None:
            sink.close()
            with self._lock:
                self._sinks.remove(sink)

    def close(self) -> None:
        with self._lock:
            sinks, self._sinks = self._sinks, []
        for sink in sinks:
            sink.close()


def _transient_database_error(err: SinkError) -> bool:
    """A lost connection, a deadlock, a lock or statement timeout: worth another try.

    Decided by PostgreSQL's SQLSTATE, MySQL's error code, SQLite's "locked" or
    "busy"; a failure to reconnect is transient too (the server was reachable
    when the target was opened). Anything else (a constraint, a missing table,
    denied access) is not.
    """
    cause = err.__cause__
    if cause is None:
        return "cannot connect" in err.message
    return transient_cause(cause)


def transient_cause(cause: BaseException) -> bool:
    """Whether a driver's exception is worth another try (see _transient_database_error)."""
    sqlstate = getattr(cause, "sqlstate", None)
    names = {kind.__name__ for kind in type(cause).__mro__}
    if sqlstate is not None:  # psycopg
        return sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES or sqlstate in _TRANSIENT_SQLSTATES
    args = getattr(cause, "args", ())
    if args and isinstance(args[0], int):  # PyMySQL: (code, message)
        return args[0] in _TRANSIENT_MYSQL_CODES
    if type(cause).__module__ == "sqlite3":
        message = str(cause).lower()
        return "locked" in message or "busy" in message
    return "OperationalError" in names  # psycopg without a SQLSTATE: the connection is gone
