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

Nothing here connects to anything; :func:`datagen.sinks.open.open_target` turns
a string into a target.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence
from urllib.parse import parse_qs, unquote, urlsplit

from datagen.errors import InputError

if TYPE_CHECKING:  # SQLAlchemy is imported when a database URL is parsed, not at start-up
    from sqlalchemy.engine import URL

DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")
TARGET_SCHEMES = (*DATABASE_SCHEMES, "azure", "http", "https")
BLOB_PREFIXES = ("azure://", "http://", "https://")
HTTP_PREFIXES = ("http://", "https://")

FOLDER = "folder"
ZIP = "zip"
DATABASE = "database"
BLOB = "blob"  # azure://CONTAINER/PREFIX or a container URL
HTTP = "http"  # an endpoint (replay only: elsewhere http(s):// is a container URL)
OTHER = "other"  # a URL of no scheme we take

CONNECTION_STRING_ENV = "AZURE_STORAGE_CONNECTION_STRING"
SAS_TOKEN_ENV = "BLOB_SAS_TOKEN"
CONTAINER_URL_ENV = "BLOB_CONTAINER_URL"

_CONTAINER_NAME = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")


# -- what a string names -----------------------------------------------------------


def url_scheme(url: str) -> str:
    """The scheme of ``url`` (``""`` for a path), lowercased; never raises."""
    head, separator, _ = url.partition("://")
    return head.lower() if separator and head.replace("+", "").isalnum() else ""


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


# -- secrets out of messages -------------------------------------------------------


def redact(url: str) -> str:
    """``url`` without its password or query secrets (for messages and logs).

    Never raises: in a URL too malformed to parse (``postgresql://u:pw@[::1/db``)
    everything before the host and the query are hidden.
    """
    if "://" not in url:
        return url  # a path
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return _redact_by_hand(url)
    if not parts.scheme:
        return url
    netloc = parts.netloc
    if netloc and "@" not in netloc and "@" in url.partition("://")[2][len(netloc) :]:
        return _redact_by_hand(url)  # a "/", "?" or "#" in a password cut the host short
    if password is not None:
        user = parts.username or ""
        host = netloc.rsplit("@", 1)[1]
        netloc = f"{user}:***@{host}"
    query = "?***" if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}"


def _redact_by_hand(url: str) -> str:
    """Everything before the last ``@`` (a password may hold ``/?#@``) and the query hidden."""
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    rest, mark, _ = rest.split("#", 1)[0].partition("?")
    return f"{scheme}://{rest}{'?***' if mark else ''}"


def unsupported_target(url: str) -> InputError:
    """The error for a URL of a scheme no target takes."""
    return InputError(
        f"unsupported target {redact(url)!r}",
        hint="use a folder, NAME.zip, sqlite:///FILE.db, postgresql://…, "
        "mysql+pymysql://… or azure://CONTAINER/PREFIX",
    )


def require_scheme(url: str, known: Sequence[str]) -> str:
    scheme = url_scheme(url)
    if scheme.split("+")[0] not in known:
        raise unsupported_target(url)
    return scheme


# -- database URLs -----------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    """One kind of database: its name in messages, SQLAlchemy driver and pip package."""

    name: str
    drivername: str
    drivers: tuple[str, ...]  # accepted ``scheme+driver`` suffixes ("" = none)
    module: str
    package: str
    default_port: int | None
    example: str


POSTGRESQL = Backend(
    "PostgreSQL",
    "postgresql+psycopg",
    ("", "psycopg"),
    "psycopg",
    "psycopg[binary]",
    5432,
    "postgresql://USER:PASSWORD@HOST:5432/DATABASE",
)
MYSQL = Backend(
    "MySQL",
    "mysql+pymysql",
    ("", "pymysql"),
    "pymysql",
    "PyMySQL",
    3306,
    "mysql+pymysql://USER:PASSWORD@HOST:3306/DATABASE",
)
SQLITE = Backend("SQLite", "sqlite", ("", "pysqlite"), "sqlite3", "", None, "sqlite:///FILE.db")
BACKENDS = {
    "postgresql": POSTGRESQL,
    "postgres": POSTGRESQL,
    "mysql": MYSQL,
    "mariadb": MYSQL,
    "sqlite": SQLITE,
}


def parse_database_url(url: str) -> tuple[Backend, URL]:
    """The backend of ``url`` and its SQLAlchemy URL with the driver we use.

    ``postgres://`` and ``postgresql://`` become ``postgresql+psycopg://``;
    ``mysql://`` and ``mariadb://`` become ``mysql+pymysql://`` (utf8mb4).
    Raises InputError for unknown schemes or drivers and malformed URLs.
    """
    # SQLAlchemy: heavy, imported when a database URL is parsed (the CLI starts without it).
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    scheme = require_scheme(url, DATABASE_SCHEMES)
    family, _, driver = scheme.partition("+")
    backend = BACKENDS[family]
    if driver not in backend.drivers:
        raise InputError(
            f"unsupported {backend.name} driver {driver!r} in {redact(url)!r}",
            hint=f"use {backend.example}",
        )
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise InputError(
            f"malformed database URL {redact(url)!r}", hint=f"use {backend.example}"
        ) from None
    parsed = parsed.set(drivername=backend.drivername)
    if backend is MYSQL:
        if not parsed.database:
            raise InputError(f"no database named in {redact(url)!r}", hint=f"use {backend.example}")
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    if backend is SQLITE and parsed.database in (None, "", ":memory:"):
        raise InputError(
            f"{redact(url)!r} names no database file (an in-memory database would be lost)",
            hint="use sqlite:///relative/path.db or sqlite:////absolute/path.db",
        )
    if backend is SQLITE and urlsplit(url).netloc:
        raise InputError(
            f"SQLite URLs have no host: {redact(url)!r}",
            hint="use sqlite:///relative/path.db or sqlite:////absolute/path.db",
        )
    return backend, parsed


def backend_label(url: str, backend: Backend) -> str:
    """The database's name in messages: MariaDB when the URL says so, else the backend's."""
    return "MariaDB" if url_scheme(url).startswith("mariadb") else backend.name


def location(backend: Backend, url: URL) -> str:
    """Where the database is, for messages: ``host:port`` or the SQLite file."""
    if backend is SQLITE:
        return url.database or ":memory:"
    return f"{url.host or 'localhost'}:{url.port or backend.default_port}"


def sqlite_identity(url: str) -> str | None:
    """``sqlite:///ABSOLUTE`` for a SQLite file URL (one name for one file), else None."""
    backend, parsed = parse_database_url(url)
    database = parsed.database or ""
    if backend is SQLITE and database and not database.startswith((":memory:", "file:")):
        return f"sqlite:///{Path(database).resolve()}"
    return None


# -- blob container URLs -----------------------------------------------------------


@dataclass(frozen=True)
class BlobTarget:
    """A parsed target: where the container is and how to authenticate."""

    container: str
    prefix: str
    account_url: str | None = None  # with a SAS token
    sas_token: str | None = field(default=None, repr=False)
    connection_string: str | None = field(default=None, repr=False)  # with azure://


def _check_container(name: str, url: str) -> str:
    if not _CONTAINER_NAME.match(name):
        raise InputError(
            f"{name!r} in {redact(url)!r} is not a valid container name",
            hint="use 3-63 lowercase letters, digits and single hyphens",
        )
    return name


def _path_style(hostname: str) -> bool:
    """Azurite (and other emulators) put the account in the path, not the host."""
    if hostname == "localhost" or "." not in hostname:
        return True
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True


def sas_from_query(query: str) -> str | None:
    return query if "sig" in parse_qs(query) else None


def _clean_sas(token: str) -> str:
    token = token.strip().lstrip("?")
    if "sig" not in parse_qs(token):
        raise InputError(
            f"{SAS_TOKEN_ENV} does not look like a SAS token",
            hint="copy the whole token from the portal: it starts with '?sv=' and contains 'sig='",
        )
    return token


def parse_blob_url(url: str, *, env: Mapping[str, str] | None = None) -> BlobTarget:
    """Parse a target URL and find its credentials (InputError when impossible)."""
    env = os.environ if env is None else env
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError as err:
        raise InputError(
            f"{redact(url)!r} is not a valid URL ({err})",
            hint="use azure://CONTAINER/PREFIX or https://ACCOUNT.blob.core.windows.net/CONTAINER",
        ) from None
    if parts.scheme == "azure":
        container = _check_container(unquote(parts.netloc), url)
        connection = env.get(CONNECTION_STRING_ENV, "").strip()
        if not connection:
            raise InputError(
                f"{redact(url)!r} needs {CONNECTION_STRING_ENV}",
                hint=f"export {CONNECTION_STRING_ENV}='…' (portal → storage account → "
                "Access keys), or use the container URL with BLOB_SAS_TOKEN",
            )
        return BlobTarget(container, unquote(parts.path).strip("/"), connection_string=connection)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            f"unsupported blob target {redact(url)!r}",
            hint="use azure://CONTAINER/PREFIX or https://ACCOUNT.blob.core.windows.net/CONTAINER",
        )
    segments = [unquote(s) for s in parts.path.split("/") if s]
    account_path = ""
    if _path_style(parts.hostname):
        if len(segments) < 2:
            raise InputError(
                f"{redact(url)!r} has no account and container",
                hint="for Azurite use http://127.0.0.1:10000/devstoreaccount1/CONTAINER",
            )
        account_path = "/" + segments.pop(0)
    if not segments:
        raise InputError(
            f"{redact(url)!r} names no container",
            hint="copy the container URL (container → Properties → URL)",
        )
    container = _check_container(segments[0], url)
    sas = sas_from_query(parts.query)
    if sas is None:
        token = env.get(SAS_TOKEN_ENV, "").strip()
        if not token:
            raise InputError(
                f"no SAS token for {redact(url)!r}",
                hint=f"export {SAS_TOKEN_ENV}='?sv=…' (portal → Shared access signature)",
            )
        sas = _clean_sas(token)
    return BlobTarget(
        container,
        "/".join(segments[1:]),
        account_url=f"{parts.scheme}://{parts.netloc}{account_path}",
        sas_token=sas,
    )


def url_uses_sas_query(url: str) -> bool:
    """Whether the container URL carries its SAS token in its query."""
    return sas_from_query(urlsplit(url).query) is not None


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


def endpoint(url: str) -> str:
    """``host:port`` of ``url`` (the default port when none is given), for messages."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname or '?'}:{port}"
