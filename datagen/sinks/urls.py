"""The one reader of ``--to`` strings: what a target string names, parsed, and redacted.

Every command that takes ``--to`` (and replay, publish, populate, the Python
API) asks this module what the string is, never the string itself:

- ``target_kind``: a folder, ``NAME.zip``, a database URL (``sqlite:///FILE.db``,
  ``postgresql://…``, ``mysql+pymysql://…``/``mariadb://…``), a blob container
  (``azure://CONTAINER/PREFIX`` or a container URL) or, for replay, an
  ``http(s)://`` endpoint;
- ``check_target``: the CLI's check of ``--to`` (the unsupported-scheme and
  file-not-folder messages);
- ``parse_database_url`` and ``parse_blob_url``: a URL's backend, driver,
  container, prefix and credentials, with the URL errors (InputError);
- ``redact``: a URL without its password or SAS token, for every message.

This module says what a string is; the parsing is in :mod:`datagen.sinks.database_urls`
and :mod:`datagen.sinks.blob_urls`, the messages' redaction in
:mod:`datagen.sinks.redaction` (every name is importable from here too).
Nothing here connects to anything; :func:`datagen.sinks.open.open_target` turns
a string into a target.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from datagen.errors import InputError
from datagen.sinks.blob_urls import (
    CONNECTION_STRING_ENV,
    CONTAINER_URL_ENV,
    SAS_TOKEN_ENV,
    BlobTarget,
    parse_blob_url,
    sas_from_query,
    url_uses_sas_query,
)
from datagen.sinks.database_urls import (
    BACKENDS,
    DATABASE_SCHEMES,
    MYSQL,
    POSTGRESQL,
    SQLITE,
    Backend,
    backend_label,
    location,
    parse_database_url,
    sqlite_identity,
)
from datagen.sinks.redaction import (
    endpoint,
    redact,
    require_scheme,
    unsupported_target,
    url_scheme,
)

TARGET_SCHEMES = (*DATABASE_SCHEMES, "azure", "http", "https")
BLOB_PREFIXES = ("azure://", "http://", "https://")
HTTP_PREFIXES = ("http://", "https://")

FOLDER = "folder"
ZIP = "zip"
DATABASE = "database"
BLOB = "blob"  # azure://CONTAINER/PREFIX or a container URL
HTTP = "http"  # an endpoint (replay only: elsewhere http(s):// is a container URL)
OTHER = "other"  # a URL of no scheme we take


# -- what a string names -----------------------------------------------------------


def is_url(to: str | Path) -> bool:
    """A URL (``scheme://…``), not a path."""
    return "://" in str(to)


def is_database_url(url: str) -> bool:
    return url_scheme(url).split("+")[0] in DATABASE_SCHEMES


def is_postgresql_url(url: str) -> bool:
    """A PostgreSQL server (``postgresql://…``, ``postgres://…``, any driver)."""
    return url_scheme(url).split("+")[0] in ("postgresql", "postgres")


def is_sqlite_url(url: str) -> bool:
    """An SQLite file (``sqlite:///FILE.db``): a file on this machine, not a server."""
    return url_scheme(url).split("+")[0] == "sqlite"


def is_blob_url(url: str) -> bool:
    """A blob container: ``azure://…`` or an ``http(s)://`` container URL."""
    return url.startswith(BLOB_PREFIXES)


def is_file_target_url(url: str) -> bool:
    """A blob container or a zip file (targets that receive a run's files)."""
    return is_blob_url(url) or url.endswith(".zip")


def target_kind(to: str | Path, *, replay: bool = False) -> str:
    """What ``to`` names: FOLDER, ZIP, DATABASE, BLOB, HTTP (``replay`` only) or OTHER."""
    text = str(to)
    if is_database_url(text):
        return DATABASE
    if replay and text.startswith(HTTP_PREFIXES):
        return HTTP
    if is_blob_url(text):
        return BLOB
    if text.endswith(".zip"):
        return ZIP
    if is_url(text):
        return OTHER
    return FOLDER


def check_target(text: str) -> str | Path:
    """The CLI's ``--to``: a URL or ``NAME.zip`` as given, a folder as a Path.

    ValueError (the message the option prints) for an unknown scheme or a
    path that is a file.
    """
    if is_url(text):
        scheme = text.split("://", 1)[0].split("+")[0].lower()
        if scheme not in TARGET_SCHEMES:
            raise ValueError(
                f"unsupported target {redact(text)!r}: use a folder, NAME.zip, "
                "sqlite:///FILE.db, postgresql://…, mysql+pymysql://…, "
                "azure://CONTAINER/PREFIX or a container URL"
            )
        return text
    if text.endswith(".zip"):
        return text
    path = Path(text)
    if path.is_file():
        raise ValueError(f"{text!r} is a file, not a folder")
    return path


# -- HTTP endpoints (replay) -------------------------------------------------------


@dataclass(frozen=True)
class HttpEndpoint:
    """Where replay POSTs: the host and port to reach, and how messages name it."""

    hostname: str
    port: int
    shown: str  # host[:port], as given


def parse_http_url(url: str) -> HttpEndpoint:
    """The host and port of an ``http(s)://`` endpoint (InputError without a host)."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise InputError(f"{redact(url)!r} has no host", hint="e.g. http://127.0.0.1:8080/{type}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    shown = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    return HttpEndpoint(parts.hostname, port, shown)


def url_path(url: str) -> str:
    """The path of a request URL, for messages."""
    return urlsplit(url).path


__all__ = [
    "BACKENDS",
    "BLOB",
    "BLOB_PREFIXES",
    "CONNECTION_STRING_ENV",
    "CONTAINER_URL_ENV",
    "DATABASE",
    "DATABASE_SCHEMES",
    "FOLDER",
    "HTTP",
    "HTTP_PREFIXES",
    "MYSQL",
    "OTHER",
    "POSTGRESQL",
    "SAS_TOKEN_ENV",
    "SQLITE",
    "TARGET_SCHEMES",
    "ZIP",
    "Backend",
    "BlobTarget",
    "HttpEndpoint",
    "backend_label",
    "check_target",
    "endpoint",
    "is_blob_url",
    "is_database_url",
    "is_file_target_url",
    "is_postgresql_url",
    "is_sqlite_url",
    "is_url",
    "location",
    "parse_blob_url",
    "parse_database_url",
    "parse_http_url",
    "redact",
    "require_scheme",
    "sas_from_query",
    "sqlite_identity",
    "target_kind",
    "unsupported_target",
    "url_path",
    "url_scheme",
    "url_uses_sas_query",
]
