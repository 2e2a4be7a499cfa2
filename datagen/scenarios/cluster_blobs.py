"""A population into a blob container from a Dask cluster: each worker uploads its shards.

The blobs are those of ``populate --to URL`` without ``--scheduler`` (the
folder ``SCENARIO/TABLE/TABLE.jsonl`` + ``manifest.json`` published): each
worker builds a shard, encodes its rows as JSONL and stages them as one block
of its table's blob, named after the entity and the shard (a rerun stages the
same bytes under the same id); the bytes go back to the client, which hashes
each table's file in order, commits its blocks and, once every table's file is
there, uploads the tables' manifests, last. The manifests of an earlier
population at that prefix are deleted first. As :mod:`datagen.cluster_files`
does for documents and journeys.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from datagen.cluster_files import MAX_BLOCKS, BlobTarget, Files, block_id, close_writers
from datagen.cluster_files import worker_writer
from datagen.engines import current
from datagen.errors import InputError
from datagen.formats import Chunk
from datagen.manifest import MANIFEST_NAME, Manifest
from datagen.scenarios.planning import Plan
from datagen.scenarios.rows import build_shard, install, installed_plan, tasks_of
from datagen.scenarios.ordered import run_ordered
from datagen.seeding import Shard
from datagen.types import Document, Progress

AHEAD = 4
"""Shards in flight per worker thread: each uploads its own; the client only hashes them."""

Encode = Callable[[list[Document]], bytes]
"""A shard's rows as the bytes they add to their table's file (``populate.jsonl_chunk``)."""

_worker: dict[str, Any] = {"target": None, "encode": None, "entities": {}}


def upload_population(
    plan: Plan,
    url: str,
    *,
    encode: Encode,
    manifest: Callable[[Plan, str, str], Manifest],
    progress: Progress | None,
) -> dict[str, int]:
    """Upload every table of ``plan`` to ``url`` from the workers; the manifests last.

    ``manifest(plan, table, sha256)`` is a table's manifest; returns blobs per container.
    """
    shards = Counter(plan.entities[name].provider for name, _ in tasks_of(plan))
    if shards and max(shards.values()) > MAX_BLOCKS:
        table, count = shards.most_common(1)[0]
        raise InputError(
            f"--scheduler uploads a table of at most {MAX_BLOCKS:,} shards (a block each) to "
            f"a container; {table} has {count:,}",
            hint="populate a folder with --scheduler and publish it, or a smaller --scale",
        )
    name = plan.scenario.name
    paths = {table: f"{name}/{table}/{table}.jsonl" for table in plan.tables}
    target = BlobTarget.of(url)
    with target.open(prepare=True) as writer:
        for table in plan.tables:  # an earlier population's: this one is not complete yet
            writer.remove(f"{name}/{table}/{MANIFEST_NAME}")
        files = Files()
        for path in paths.values():
            files.expect(path)
        try:
            loaded = run_ordered(
                upload_shard,
                tasks_of(plan),
                ahead=AHEAD,
                setup=(install_uploader, (plan, target, encode)),
            )
            for table, rows, ident, data in loaded:
                if data:
                    files.append(paths[table], ident, data)
                if progress:
                    progress(rows)
        finally:
            current().everywhere(close_writers)  # no idle connection left on the workers
        digests = files.commit(writer)
        for table, path in paths.items():
            data = manifest(plan, table, digests[path]).to_bytes()
            writer.add(Chunk(f"{name}/{table}/{MANIFEST_NAME}", data, whole=True))
        writer.commit()
    return {writer.container_name: 2 * len(paths)}


def install_uploader(state: tuple[Plan, BlobTarget, Encode]) -> None:
    """On a worker: the plan to build, where its shards go and how they are encoded."""
    plan, target, encode = state
    install(plan)
    _worker.update(target=target, encode=encode)
    _worker["entities"] = {name: n for n, name in enumerate(plan.entities)}


def upload_shard(task: tuple[str, Shard]) -> tuple[str, int, str, bytes]:
    """On a worker: build one shard, stage it as a block of its table's blob; its table,
    rows, block id and bytes (for the client to hash)."""
    entity, shard = task
    _, rows = build_shard(task)
    plan = installed_plan()
    table = plan.entities[entity].provider
    data: bytes = _worker["encode"](rows)
    ident = block_id(shard.index, _worker["entities"][entity])
    if data:
        writer = worker_writer(_worker["target"])
        try:
            writer.stage(f"{plan.scenario.name}/{table}/{table}.jsonl", ident, data)
            writer.drain()
        except BaseException:
            close_writers()  # its uploads in flight are dropped with it
            raise
    return table, len(rows), ident, data
