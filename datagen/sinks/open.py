"""``open_target``: the target a ``--to`` string names (read by :mod:`datagen.sinks.urls`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from datagen.sinks.base import Target
from datagen.sinks.files import FolderTarget, ZipTarget
from datagen.sinks.urls import (
    BLOB,
    DATABASE,
    FOLDER,
    POSTGRESQL,
    SQLITE,
    ZIP,
    parse_database_url,
    target_kind,
    unsupported_target,
)

if TYPE_CHECKING:  # SQLAlchemy and the Azure SDK: imported when such a target is opened
    from datagen.sinks.azure import AzureBlobWriter
    from datagen.sinks.database import DatabaseSink


def open_target(
    to: str | Path,
    *,
    foreign_keys: bool = False,  # databases: declared references as FOREIGN KEYs
    bulk: bool = False,  # PostgreSQL/SQLite: one transaction, keys after rows
    env: Mapping[str, str] | None = None,  # blobs: where the credentials are (os.environ)
    prepare: bool = True,  # blobs: check the container now
) -> Target:
    """The target ``to`` names: a database, a folder, ``NAME.zip`` or a blob container.

    Call ``prepare`` before writing (a blob container is checked now, unless
    ``prepare=False``). InputError for a URL of another scheme or a malformed one.
    """
    kind = target_kind(to)
    if kind == DATABASE:
        return open_database(str(to), foreign_keys=foreign_keys, bulk=bulk)
    if kind == BLOB:
        return open_blob(str(to), env=env, prepare=prepare)
    if kind == ZIP:
        return ZipTarget(Path(to))
    if kind == FOLDER:
        return FolderTarget(Path(to))
    raise unsupported_target(str(to))


def open_database(url: str, *, foreign_keys: bool = False, bulk: bool = False) -> DatabaseSink:
    """The sink of a database URL (not yet connected: call ``open``).

    ``bulk``: PostgreSQL and SQLite load in one transaction (keys after rows on
    PostgreSQL) and need ``commit()``; MySQL has no bulk path and takes the
    rows with their foreign keys checked as they come.
    """
    # SQLAlchemy and the drivers: heavy, imported only when a database is opened.
    from datagen.sinks.backends import open_database_sink

    if bulk:
        backend, _ = parse_database_url(url)
        if backend is POSTGRESQL:
            from datagen.sinks.pg_bulk import PostgresBulkLoad  # SQLAlchemy (as above)

            return PostgresBulkLoad(url)
        if backend is SQLITE:
            from datagen.sinks.sqlite_bulk import SQLiteBulkLoad  # SQLAlchemy (as above)

            return SQLiteBulkLoad(url)
    return open_database_sink(url, foreign_keys=foreign_keys)


def open_blob(
    url: str, *, env: Mapping[str, str] | None = None, prepare: bool = True
) -> AzureBlobWriter:
    """A writer of blobs under the container URL (checked now with ``prepare``)."""
    from datagen.sinks.azure_client import open_blob_writer  # the Azure SDK: heavy, only for blobs

    return open_blob_writer(url, env=env, prepare=prepare)
