"""Execute a job's shards and feed their output, in order, to a sink."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence, TypeVar

from datagen.formats import Chunk
from datagen.parallel import run_shards
from datagen.seeding import Shard
from datagen.sinks.files import ChunkSink
from datagen.types import Progress

J = TypeVar("J")


@dataclass
class ShardResult:
    """A shard's encoded output and what it counted (documents, steps…)."""

    chunks: list[Chunk]
    counts: dict[str, int] = field(default_factory=dict)


def execute(
    task: Callable[[J, Shard], ShardResult],
    job: J,
    shards: Sequence[Shard],
    sink: ChunkSink,
    *,
    header: Sequence[Chunk] = (),
    workers: int | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Run every shard and feed ``header`` then each shard's chunks to ``sink``.

    Returns the summed counts. The sink is closed even on failure.
    """
    totals: Counter[str] = Counter()
    try:
        for chunk in header:
            sink.add(chunk)
        for shard, result in zip(shards, run_shards(task, job, shards, workers=workers)):
            for chunk in result.chunks:
                sink.add(chunk)
            totals.update(result.counts)
            if progress:
                progress(shard.size)
    finally:
        sink.close()
    return dict(sorted(totals.items()))
