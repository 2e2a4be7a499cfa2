"""Azure Blob Storage: generated files as blobs under ``CONTAINER/PREFIX``.

Two ways to name the target (see ``open_blob_writer``):

- ``azure://CONTAINER/PREFIX`` with ``AZURE_STORAGE_CONNECTION_STRING``;
- a container URL (``https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX]``,
  or Azurite's ``http://127.0.0.1:10000/devstoreaccount1/CONTAINER[/PREFIX]``)
  with a SAS token in its query or in ``BLOB_SAS_TOKEN`` (the seed README's
  ``BLOB_CONTAINER_URL`` + ``BLOB_SAS_TOKEN``).

Whole files are uploaded by a few threads; a streamed file (a big ``.jsonl``)
is staged as blocks as it arrives and committed when the writer closes, so it
never sits in memory and a blob only appears once it is complete. Every upload
overwrites, so a repeated run leaves the same blobs.

No message or log line carries the account key, connection string or SAS
token: errors name the host:port or the container instead.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import os
import re
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence
from urllib.parse import parse_qs

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobBlock, ContainerClient, ContentSettings, ExponentialRetry
from requests import Session
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from datagen.errors import InputError, SinkError
from datagen.formats import Chunk
from datagen.sinks.base import Summary, TableSpec
from datagen.sinks.files import ChunkSink
from datagen.sinks.urls import CONNECTION_STRING_ENV, CONTAINER_URL_ENV, SAS_TOKEN_ENV
from datagen.sinks.urls import endpoint, parse_blob_url, redact, url_uses_sas_query
from datagen.types import Progress

CONTENT_TYPES = {
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".csv": "text/csv",
    ".zip": "application/zip",
}

_SIG = re.compile(r"(sig=)[^&\s'\"]+", re.IGNORECASE)
_NOT_PERMITTED = {"AuthorizationPermissionMismatch", "AuthorizationResourceTypeMismatch"}
_AUTH_FAILED = {"AuthenticationFailed", "AuthorizationFailure", "InvalidAuthenticationInfo"}
# Loggers that may see request URLs (with a SAS) when an application turns on DEBUG.
_URL_LOGGERS = (
    "urllib3.connectionpool",
    "azure.core.pipeline.policies.http_logging_policy",
    "azure.storage.blob._shared.policies",
)


def content_type(name: str) -> str:
    """The Content-Type of a blob named ``name`` (by its extension)."""
    suffix = os.path.splitext(name)[1].lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def block_id(index: int) -> str:
    """A deterministic block id: the same blob staged twice uses the same ids."""
    return base64.b64encode(f"block-{index:08d}".encode()).decode()


class _ScrubSecrets(logging.Filter):
    """Removes SAS signatures and registered secrets from log records."""

    def __init__(self) -> None:
        super().__init__("datagen-azure-scrub")
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot be formatted is left alone
            return True
        clean = _SIG.sub(r"\1***", text)
        for secret in self.secrets:
            clean = clean.replace(secret, "***")
        if clean != text:
            record.msg, record.args = clean, None
        return True


_SCRUB = _ScrubSecrets()


def _protect_logs(secrets: Sequence[str]) -> None:
    _SCRUB.secrets.update(s for s in secrets if len(s) >= 8)
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if _SCRUB not in logger.filters:
            logger.addFilter(_SCRUB)
    # The SDK's INFO request log is noise for a data generator (and the only
    # place a URL appears without DEBUG); quiet it unless someone chose a level.
    http_log = logging.getLogger(_URL_LOGGERS[1])
    if http_log.level == logging.NOTSET:
        http_log.setLevel(logging.WARNING)


def _error_code(err: HttpResponseError) -> str:
    code = getattr(err, "error_code", None)
    return str(getattr(code, "value", code) or "")


class AzureBlobWriter(ChunkSink):
    """Writes chunks as blobs named ``PREFIX/chunk.path`` in one container.

    Use ``open_blob_writer`` to build one from a URL. ``summary`` counts the
    blobs written per container; ``digests()`` gives each file's SHA-256.
    """

    THREADS = 16
    MAX_IN_FLIGHT = 64
    MAX_IN_FLIGHT_BYTES = 64 << 20
    BLOCK_SIZE = 8 << 20

    def __init__(
        self,
        container: ContainerClient,
        *,
        prefix: str = "",
        target: str | None = None,
        secrets: Sequence[str] = (),
        credential: str = "the credentials",
    ) -> None:
        super().__init__()
        self.credential = credential  # what to check when access is denied
        self.container = container
        self.container_name: str = container.container_name
        self.prefix = prefix.strip("/")
        self.endpoint = endpoint(container.url)
        self.summary = Summary(target=redact(target or container.url))
        self.bytes_uploaded = 0
        self.created_container = False
        self._ready = False
        self._closed = False
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[Future[int], int] = {}
        self._pending_bytes = 0
        self._buffers: dict[str, bytearray] = {}
        self._blocks: dict[str, list[str]] = {}
        _protect_logs(secrets)

    def __repr__(self) -> str:
        return f"AzureBlobWriter({self.summary.target!r})"

    # -- the container ------------------------------------------------------

    def prepare(self, tables: Sequence[TableSpec] = (), *, reset: bool = False) -> None:
        """Create the container if needed and allowed; fail early if it is missing."""
        if self._ready:
            return
        try:
            self.container.create_container()
            self.created_container = True
        except HttpResponseError as err:
            code = _error_code(err)
            if code == "ContainerAlreadyExists":
                pass
            elif err.status_code == 403:
                # Not allowed to create containers (e.g. a SAS for one container;
                # services differ in the code they answer): see if it exists.
                self._probe_container()
            else:
                raise self.error(err, "creating the container") from None
        except AzureError as err:
            raise self.error(err, "creating the container") from None
        self._ready = True

    def _probe_container(self) -> None:
        try:
            next(self.container.list_blobs(results_per_page=1).by_page(), None)
        except HttpResponseError as err:
            if err.status_code == 403 and _error_code(err) in _NOT_PERMITTED:
                return  # may not list: the first upload will tell
            raise self.error(err, "checking the container") from None
        except AzureError as err:
            raise self.error(err, "checking the container") from None

    # -- chunks ---------------------------------------------------------------

    def blob_name(self, path: str) -> str:
        path = path.replace("\\", "/").lstrip("/")
        return f"{self.prefix}/{path}" if self.prefix else path

    def add(self, chunk: Chunk) -> None:
        if self._closed:
            raise SinkError("the blob writer is closed", where=self.summary.target)
        super().add(chunk)
        self.prepare()
        if chunk.whole:
            self._submit(self._upload_whole, self.blob_name(chunk.path), chunk.data)
            return
        blocks = self._blocks.setdefault(chunk.path, [])
        buffer = self._buffers.setdefault(chunk.path, bytearray())
        if not buffer and len(chunk.data) >= self.BLOCK_SIZE:
            self._stage(chunk.path, blocks, chunk.data)
            return
        buffer += chunk.data
        if len(buffer) >= self.BLOCK_SIZE:
            self._stage(chunk.path, blocks, bytes(buffer))
            buffer.clear()

    def _stage(self, path: str, blocks: list[str], data: bytes) -> None:
        ident = block_id(len(blocks))
        blocks.append(ident)
        self._submit(self._stage_block, self.blob_name(path), ident, data)

    def _submit(self, fn: Callable[..., int], name: str, *args: object) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.THREADS, thread_name_prefix="blob")
        size = len(args[-1]) if args and isinstance(args[-1], (bytes, bytearray)) else 0
        future = self._pool.submit(self._guarded, fn, name, *args)
        self._pending[future] = size
        self._pending_bytes += size
        while self._pending and (
            len(self._pending) >= self.MAX_IN_FLIGHT
            or self._pending_bytes >= self.MAX_IN_FLIGHT_BYTES
        ):
            self._collect(wait(self._pending, return_when=FIRST_COMPLETED).done)

    def _collect(self, done: set[Future[int]]) -> None:
        sizes = {future: self._pending.pop(future) for future in done}
        self._pending_bytes -= sum(sizes.values())
        for future, size in sizes.items():
            blobs = future.result()  # raises the first failure (a SinkError)
            self._count(blobs, size)

    def _drain(self) -> None:
        while self._pending:
            self._collect(wait(self._pending, return_when=FIRST_COMPLETED).done)

    def _guarded(self, fn: Callable[..., int], name: str, *args: object) -> int:
        try:
            return fn(name, *args)
        except AzureError as err:
            raise self.error(err, f"writing {name!r}") from None

    def _upload_whole(self, name: str, data: bytes) -> int:
        self.container.upload_blob(
            name,
            data,
            overwrite=True,
            length=len(data),
            content_settings=ContentSettings(content_type=content_type(name)),
        )
        return 1

    def _stage_block(self, name: str, ident: str, data: bytes) -> int:
        self.container.get_blob_client(name).stage_block(ident, data, length=len(data))
        return 0

    def _commit(self, name: str, blocks: list[str]) -> int:
        self.container.get_blob_client(name).commit_block_list(
            [BlobBlock(block_id=ident) for ident in blocks],
            content_settings=ContentSettings(content_type=content_type(name)),
        )
        return 1

    # -- the end --------------------------------------------------------------

    def close(self) -> Summary:
        """Commit (unless aborted); then ``summary`` is final."""
        self.commit()
        return self.summary

    def commit(self) -> None:
        """Upload what is pending and commit streamed blobs; then ``summary`` is final."""
        if self._closed:
            return
        try:
            self.prepare()
            for path, buffer in self._buffers.items():
                if buffer:
                    self._stage(path, self._blocks[path], bytes(buffer))
                    buffer.clear()
            self._drain()
            for path, blocks in self._blocks.items():
                self._submit(self._commit, self.blob_name(path), blocks)
            self._drain()
        except BaseException:
            self.abort()
            raise
        self._finish()

    def abort(self) -> None:
        """Stop without committing streamed blobs (their staged blocks expire)."""
        if self._closed:
            return
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        self._pending_bytes = 0
        self._finish()

    def _finish(self) -> None:
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._buffers.clear()
        self._blocks.clear()
        self.container.close()

    # -- counting and errors --------------------------------------------------

    def _count(self, blobs: int, size: int) -> None:
        self.summary.add(self.container_name, blobs)
        self.bytes_uploaded += size

    def error(self, err: AzureError, doing: str) -> SinkError:
        """A one-line SinkError for ``err`` that never carries a secret."""
        where = self.endpoint
        container = self.container_name
        if isinstance(err, ServiceRequestError):
            return SinkError(
                f"cannot reach Azure Blob Storage at {where} ({doing})",
                hint="check the URL and the network, or start Azurite for local runs",
            )
        if isinstance(err, ServiceResponseError):
            return SinkError(
                f"the connection to {where} failed while {doing}",
                hint="retry; check the network or a proxy",
            )
        if not isinstance(err, HttpResponseError):
            return SinkError(
                f"Azure Blob Storage error at {where} while {doing}: {type(err).__name__}"
            )
        code = _error_code(err)
        status = err.status_code
        if status is None:  # no HTTP answer at all: nothing listens there
            return SinkError(
                f"cannot reach Azure Blob Storage at {where} ({doing})",
                hint="check the URL and the network, or start Azurite for local runs",
            )
        if code == "ContainerNotFound":
            return SinkError(
                f"container {container!r} does not exist at {where}",
                hint="create it (portal → Containers) or use credentials allowed to create it",
            )
        if code == "ContainerBeingDeleted":
            return SinkError(
                f"container {container!r} at {where} is being deleted",
                hint="wait a minute, or use another container",
            )
        if code in _NOT_PERMITTED:
            return SinkError(
                f"not permitted to write to container {container!r} at {where} ({code})",
                hint="the SAS token needs write (w) and create (c) permissions for blobs",
            )
        if status in (401, 403) or code in _AUTH_FAILED:
            return SinkError(
                f"access denied at {where} for container {container!r} ({code or status})",
                hint=f"check {self.credential}: it may be wrong, expired or for another "
                "account; or the account's network rules block this machine",
            )
        return SinkError(
            f"Azure Blob Storage answered {status} {code or 'error'} at {where} "
            f"while {doing} in container {container!r}"
        )


# -- building a writer from a URL ----------------------------------------------


def _retry_policy(retry_total: int) -> ExponentialRetry:
    """The SDK's retries, shorter than its default (which waits 15 s, then 18 s, …).

    Throttling (503), server errors and dropped connections are retried after
    about 3, 5, 9 and 17 s; a refused connection (a wrong host or port) only
    twice, so a typo fails in seconds.
    """
    return ExponentialRetry(
        initial_backoff=1,
        increment_base=2,
        retry_total=retry_total,
        retry_connect=min(2, retry_total),
        random_jitter_range=1,
    )


def _transport(connections: int) -> RequestsTransport:
    """The SDK's transport with one pooled connection per upload thread.

    (requests keeps 10 per host by default; more threads would open and drop
    connections.) Retries are left to the SDK's policy, as in its own transport.
    """
    session = Session()
    adapter = HTTPAdapter(
        pool_connections=4,
        pool_maxsize=connections,
        max_retries=Retry(total=False, redirect=False, raise_on_status=False),
    )
    for scheme in ("http://", "https://"):
        session.mount(scheme, adapter)
    return RequestsTransport(session=session, session_owner=True)


def open_blob_writer(
    url: str,
    *,
    env: Mapping[str, str] | None = None,
    retry_total: int = 4,
    prepare: bool = True,
) -> AzureBlobWriter:
    """An ``AzureBlobWriter`` for ``url``; with ``prepare`` the container is checked now."""
    target = parse_blob_url(url, env=env)
    options: dict[str, Any] = {
        "retry_policy": _retry_policy(retry_total),
        "transport": _transport(AzureBlobWriter.THREADS + 2),
        "connection_timeout": 20,
        "read_timeout": 300,
        "max_single_put_size": 64 << 20,
        "max_block_size": 8 << 20,
    }
    secrets: list[str] = []
    try:
        if target.connection_string is not None:
            client = ContainerClient.from_connection_string(
                target.connection_string, target.container, **options
            )
            secrets.append(target.connection_string)
            secrets.extend(
                value
                for key, _, value in (
                    item.partition("=") for item in target.connection_string.split(";")
                )
                if key.strip().lower() in ("accountkey", "sharedaccesssignature") and value
            )
        else:
            assert target.account_url is not None and target.sas_token is not None
            client = ContainerClient(
                target.account_url, target.container, credential=target.sas_token, **options
            )
            secrets.append(target.sas_token)
            secrets.extend(parse_qs(target.sas_token).get("sig", []))
    except (ValueError, AzureError) as err:
        what = CONNECTION_STRING_ENV if target.connection_string else "the container URL"
        raise InputError(
            f"{what} for {redact(url)!r} is malformed ({type(err).__name__})",
            hint="copy it again from the Azure portal (storage account → Access keys)",
        ) from None
    if target.connection_string is not None:
        credential = f"the account key or SAS in {CONNECTION_STRING_ENV}"
    elif url_uses_sas_query(url):
        credential = "the SAS token in the URL"
    else:
        credential = f"the SAS token in {SAS_TOKEN_ENV}"
    writer = AzureBlobWriter(
        client, prefix=target.prefix, target=url, secrets=secrets, credential=credential
    )
    if prepare:
        writer.prepare()
    return writer


# -- folders ---------------------------------------------------------------------


def folder_files(folder: Path) -> Iterator[tuple[Path, str]]:
    """Files under ``folder`` and their relative POSIX names, skipping hidden ones.

    Hidden entries are ``.gitkeep`` and the ``.NAME.partial-*`` folders of an
    interrupted run, which are not data.
    """
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(root) / name
            if path.is_file():
                yield path, path.relative_to(folder).as_posix()


def upload_folder(
    folder: Path | str,
    url: str,
    *,
    env: Mapping[str, str] | None = None,
    retry_total: int = 4,
    files: Iterable[tuple[Path, str]] | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Upload ``files`` (``(path, name)``; default: every file under ``folder``) to ``url``.

    Blob names are ``PREFIX/name`` (by default the file's path under ``folder``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            f"{str(folder)!r} is not a folder",
            hint="generate data first (e.g. make demo), or name the folder to upload",
        )
    writer = open_blob_writer(url, env=env, retry_total=retry_total)
    with writer:
        for path, name in folder_files(folder) if files is None else files:
            if progress:
                progress(1)
            writer.add_file(path, name, block=writer.BLOCK_SIZE)
        writer.commit()
    return writer.summary


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m datagen.sinks.azure FOLDER``: upload to $BLOB_CONTAINER_URL.

    The URL and token come from the environment (not the command line, where
    other users could see them in the process list).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    folder = Path(args[0] if args else "output")
    url = os.environ.get(CONTAINER_URL_ENV, "").strip()
    try:
        if not url:
            raise InputError(
                f"{CONTAINER_URL_ENV} is not set",
                hint=f"export {CONTAINER_URL_ENV}=https://ACCOUNT.blob.core.windows.net/CONTAINER",
            )
        summary = upload_folder(folder, url)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except SinkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    blobs = sum(summary.written.values())
    containers = ", ".join(f"{name!r}" for name in summary.written) or "(none)"
    print(f"{blobs} files from {folder} → container {containers} at {summary.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
