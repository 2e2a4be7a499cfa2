"""A run's files into a blob container from a Dask cluster: each worker uploads its shards.

The client does what happens once: it checks the container (creating it if
allowed), deletes the manifest of an earlier run at the same prefix, and, when
every shard is in, commits the files that span shards and uploads the
manifest, last: a run is complete only when its manifest is there. Ctrl-C, an
error or the loss of every worker leave no manifest (the blobs uploaded so far
stay; staged blocks expire).

Each worker opens its own container client from the URL and the credentials
the client read from its environment (sent with the tasks, never shown: see
:class:`BlobTarget`) and, for each shard, uploads its whole files (a JSON
document, a journey's zip) and returns their SHA-256; a file that spans shards
(``org.jsonl``) gets one staged block per shard, named after the shard, and
its bytes go back to the client, which hashes the file in order (its SHA-256
is the manifest's) and commits the blocks. Every upload overwrites and a
block's id is its shard's: a shard that Dask runs again (its worker died)
uploads the same names with the same bytes. Blob names and bytes are those of
a run without ``--scheduler`` (a folder published to the container).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence, TypeVar

from datagen.engines import current
from datagen.errors import InputError
from datagen.formats import Chunk
from datagen.manifest import MANIFEST_NAME, Manifest
from datagen.runs import ShardResult
from datagen.seeding import Shard
from datagen.sinks.urls import CONNECTION_STRING_ENV, SAS_TOKEN_ENV, redact
from datagen.types import Progress

if TYPE_CHECKING:  # the Azure SDK: imported when a blob run opens its writer
    from datagen.sinks.azure import AzureBlobWriter

J = TypeVar("J")

MAX_BLOCKS = 50_000
"""Azure's limit of committed blocks in one blob: a file that spans shards has one per shard."""

Streamed = list[tuple[str, str, bytes]]
"""``(path, block id, bytes)`` of a shard's part of files that span shards."""


@dataclass(frozen=True, repr=False)
class BlobTarget:
    """A container URL and the credentials of the client's environment, for the workers.

    Its ``repr`` (what Dask's logs show of a failed task's arguments) is the
    redacted URL: no SAS token, key or connection string.
    """

    url: str
    env: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, url: str, env: Mapping[str, str] | None = None) -> BlobTarget:
        source = os.environ if env is None else env
        names = (CONNECTION_STRING_ENV, SAS_TOKEN_ENV)
        return cls(url, tuple((name, source[name]) for name in names if source.get(name)))

    def __repr__(self) -> str:
        return f"BlobTarget({redact(self.url)!r})"

    def open(self, *, prepare: bool) -> AzureBlobWriter:
        from datagen.sinks.azure_client import open_blob_writer  # the Azure SDK: blob runs only

        return open_blob_writer(self.url, env=dict(self.env), prepare=prepare)


@dataclass
class Uploaded:
    """What a run uploaded: its counts, its files' SHA-256 and the blobs per container."""

    counts: dict[str, int]
    files: dict[str, str]
    written: dict[str, int]


def upload_run(
    task: Callable[[J, Shard], ShardResult],
    job: J,
    shards: Sequence[Shard],
    url: str,
    *,
    manifest: Callable[[dict[str, int], dict[str, str]], Manifest],
    header: Sequence[Chunk] = (),
    streams: bool = False,  # the shards append to one file (jsonl, csv)
    progress: Progress | None = None,
) -> Uploaded:
    """Upload the files of ``task`` over ``shards`` to ``url`` from the workers; manifest last.

    ``manifest(counts, files)`` is the run's manifest, given its summed counts
    and its files' SHA-256.
    """
    if streams and len(shards) + len(header) > MAX_BLOCKS:
        raise InputError(
            f"--scheduler uploads a file of at most {MAX_BLOCKS - len(header):,} shards "
            f"(a block each) to a container; this run has {len(shards):,}",
            hint="write to a folder with --scheduler and publish it, or use --format json",
        )
    target = BlobTarget.of(url)
    with target.open(prepare=True) as writer:
        writer.remove(MANIFEST_NAME)  # an earlier run's: this run is not complete yet
        files = Files()
        for n, chunk in enumerate(header):
            files.append(chunk.path, block_id(-1, n), chunk.data)
            writer.stage(chunk.path, block_id(-1, n), chunk.data)
        totals: Counter[str] = Counter()
        try:
            results = current().map_shards(upload_shard, (task, job, target), shards, workers=None)
            for shard, (counts, digests, streamed) in zip(shards, results):
                files.digests.update(digests)
                for part in streamed:
                    files.append(*part)
                totals.update(counts)
                if progress:
                    progress(shard.size)
        finally:
            current().everywhere(close_writers)  # no idle connection left on the workers
        digests = files.commit(writer)
        counts = dict(sorted(totals.items()))
        writer.add(Chunk(MANIFEST_NAME, manifest(counts, digests).to_bytes(), whole=True))
        writer.commit()
    return Uploaded(counts, digests, {writer.container_name: len(digests) + 1})


class Files:
    """The client's account of a run's files: whole files' SHA-256, and the staged
    blocks of files that span shards, hashed in order as their parts come back."""

    def __init__(self) -> None:
        self.digests: dict[str, str] = {}
        self.hashes: dict[str, hashlib._Hash] = {}
        self.blocks: dict[str, list[str]] = {}

    def expect(self, path: str) -> None:
        """``path`` is a file that spans shards, even if none adds to it (then it is empty)."""
        self.hashes.setdefault(path, hashlib.sha256())
        self.blocks.setdefault(path, [])

    def append(self, path: str, ident: str, data: bytes) -> None:
        """The next part of ``path``: block ``ident`` (staged by a worker) holds ``data``."""
        self.hashes.setdefault(path, hashlib.sha256()).update(data)
        self.blocks.setdefault(path, []).append(ident)

    def commit(self, writer: AzureBlobWriter) -> dict[str, str]:
        """Commit the block lists and wait for every upload; every file's SHA-256, sorted."""
        writer.drain()  # the blocks the client staged itself (a header) are there first
        for path, idents in self.blocks.items():
            writer.commit_blocks(path, idents)
            self.digests[path] = self.hashes[path].hexdigest()
        writer.drain()  # every file is there before a manifest names it
        return dict(sorted(self.digests.items()))


def block_id(shard: int, part: int) -> str:
    """The id of part ``part`` of shard ``shard`` (-1: the header): the same length for all."""
    return base64.b64encode(f"shard-{shard + 1:010d}-{part:06d}".encode()).decode()


# -- on the workers ----------------------------------------------------------------

_writers: dict[BlobTarget, Any] = {}


def upload_shard(
    state: tuple[Callable[[J, Shard], ShardResult], J, BlobTarget], shard: Shard
) -> tuple[dict[str, int], dict[str, str], Streamed]:
    """On a worker: run one shard and upload its files; its counts, whole files' SHA-256
    and the parts of files that span shards (uploaded as blocks, returned to be hashed)."""
    task, job, target = state
    result = task(job, shard)
    writer = worker_writer(target)
    streamed: Streamed = []
    parts: Counter[str] = Counter()
    try:
        for chunk in result.chunks:
            if chunk.whole:
                writer.add(chunk)  # hashed, then uploaded by the writer's threads
            elif chunk.data:
                streamed.append((chunk.path, block_id(shard.index, parts[chunk.path]), chunk.data))
                parts[chunk.path] += 1
                writer.stage(*streamed[-1])
        writer.drain()
    except BaseException:
        close_writers()  # its uploads in flight are dropped with it
        raise
    digests = writer.digests()
    writer.hashes.clear()
    return result.counts, digests, streamed


def worker_writer(target: BlobTarget) -> AzureBlobWriter:
    """On a worker: its writer of blobs into ``target`` (kept for the run's next shards)."""
    writer: AzureBlobWriter | None = _writers.get(target)
    if writer is None:
        close_writers()
        writer = _writers[target] = target.open(prepare=False)
    return writer


def close_writers() -> None:
    """On a worker: drop its blob writers (their connections closed), if it has any."""
    while _writers:
        _, writer = _writers.popitem()
        writer.abort()
