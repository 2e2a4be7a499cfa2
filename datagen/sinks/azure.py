"""Azure Blob Storage: generated files as blobs under ``CONTAINER/PREFIX``.

The writer of blobs (:class:`AzureBlobWriter`); it is built from a URL by
:func:`datagen.sinks.azure_client.open_blob_writer`, its failures are worded by
:mod:`datagen.sinks.azure_errors`, folders are uploaded by
:mod:`datagen.sinks.azure_upload`. Two ways to name the target:

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
import mimetypes
import os
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Sequence

from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.storage.blob import BlobBlock, ContainerClient, ContentSettings

from datagen.errors import SinkError
from datagen.formats import Chunk
from datagen.sinks.base import Summary, TableSpec
from datagen.sinks.files import ChunkSink
from datagen.sinks.urls import endpoint, redact

from datagen.sinks.azure_errors import NOT_PERMITTED, blob_error, error_code, protect_logs

CONTENT_TYPES = {
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".csv": "text/csv",
    ".zip": "application/zip",
}


def content_type(name: str) -> str:
    """The Content-Type of a blob named ``name`` (by its extension)."""
    suffix = os.path.splitext(name)[1].lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def block_id(index: int) -> str:
    """A deterministic block id: the same blob staged twice uses the same ids."""
    return base64.b64encode(f"block-{index:08d}".encode()).decode()


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
        protect_logs(secrets)

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
            code = error_code(err)
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
            if err.status_code == 403 and error_code(err) in NOT_PERMITTED:
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

    # -- a file made of several writers' blocks (a Dask cluster's shards) ------

    def stage(self, path: str, ident: str, data: bytes) -> None:
        """Stage ``data`` as block ``ident`` of the blob for ``path`` (not hashed, not counted).

        Staging the same id again replaces the block: a rerun stages the same bytes.
        ``commit_blocks`` (by anyone holding the container) makes the blob.
        """
        self.prepare()
        self._submit(self._stage_block, self.blob_name(path), ident, data)

    def commit_blocks(self, path: str, idents: Sequence[str]) -> None:
        """Make the blob for ``path`` of blocks ``idents``, in that order (staged by anyone)."""
        self.prepare()
        self._submit(self._commit, self.blob_name(path), list(idents))

    def drain(self) -> None:
        """Wait for every upload in flight; raise the first failure (a SinkError)."""
        self._drain()

    def remove(self, path: str) -> None:
        """Delete the blob for ``path`` if there is one.

        If the credentials may not delete (a SAS without ``d``), a blob found
        by listing is a SinkError; when they may not list either, it is left.
        """
        name = self.blob_name(path)
        try:
            self.container.delete_blob(name)
            return
        except ResourceNotFoundError:
            return
        except HttpResponseError as err:
            if err.status_code != 403:
                raise self.error(err, f"deleting {name!r}") from None
        except AzureError as err:
            raise self.error(err, f"deleting {name!r}") from None
        try:
            found = any(b.name == name for b in self.container.list_blobs(name_starts_with=name))
        except HttpResponseError as err:
            if err.status_code == 403:
                return  # may neither delete nor list: nothing to tell
            raise self.error(err, f"looking for {name!r}") from None
        except AzureError as err:
            raise self.error(err, f"looking for {name!r}") from None
        if found:
            raise SinkError(
                f"{name!r} is in container {self.container_name!r} at {self.endpoint} and "
                f"{self.credential} may not delete it",
                hint="a SAS with the delete (d) permission, or another prefix",
            )

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
            self.flush()
        except BaseException:
            self.abort()
            raise
        self._finish()

    def flush(self) -> None:
        """Upload everything added so far and commit the streamed blobs, then wait for it.

        What is added after (a run's manifests) lands after all of it; a file
        streamed before is complete, and is not to be added to again.
        """
        self.prepare()
        for path, buffer in self._buffers.items():
            if buffer:
                self._stage(path, self._blocks[path], bytes(buffer))
                buffer.clear()
        self._drain()
        for path, blocks in self._blocks.items():
            self._submit(self._commit, self.blob_name(path), blocks)
        self._drain()
        self._buffers.clear()
        self._blocks.clear()

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
        return blob_error(
            err,
            doing,
            where=self.endpoint,
            container=self.container_name,
            credential=self.credential,
        )
