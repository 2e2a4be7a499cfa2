"""Generate journeys into a folder of zips plus metadata: the ``journey`` command.

Each journey becomes ``<journey>-<n>-<user_id>.zip`` (its step documents,
named so that sorting gives step order, and ``metadata.json``) with the same
metadata beside it as ``<journey>-<n>-<user_id>.metadata.json``. The zips are
byte-identical for the same inputs: entries are stored (not deflated, whose
output may differ between zlib builds) with fixed timestamps and order.

Two producers (:mod:`datagen.driver`): :class:`JourneyFiles` (those files, a
run with its manifest: a folder, a zip, blobs) and :class:`JourneyRows` (every
step as a row of its document type's table, streamed into a database).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator, Mapping

import orjson

from datagen import __version__
from datagen.driver import Batch, Done, Files, Prepare, on_engine, step_batches, write
from datagen.cluster_files import upload_run
from datagen.engines import check_target, current, using
from datagen.formats import ZIP_EPOCH, Chunk, dumps_pretty
from datagen.generator import check_locale
from datagen.journeys import JourneyContext, JourneyProvider, get_journey
from datagen.limits import check_inputs
from datagen.manifest import MANIFEST_NAME, Manifest, build_manifest
from datagen.runs import RunResult, ShardResult, write_run
from datagen.schema import Runtime
from datagen.seeding import REFERENCE_DATE, Shard, choose_seed, plan_shards
from datagen.sinks.files import ChunkSink
from datagen.sinks.open import open_target
from datagen.sinks.urls import BLOB, DATABASE, target_kind
from datagen.stored_zip import build_stored_zip
from datagen.tables import table_for
from datagen.tablespec import TableSpec
from datagen.types import Document, Progress

DEFAULT_JOURNEYS_DIR = Path("output/journeys")
METADATA_VERSION = 1
METADATA_NAME = "metadata.json"
JOURNEY_START_WINDOW_DAYS = 30
"""Journeys start within this many days before the reference date."""


@dataclass(frozen=True)
class JourneyJob:
    """The pure inputs of a journey run."""

    journey: str
    quantity: int
    seed: int
    locale: str = "en"
    reference_date: datetime = REFERENCE_DATE


_contexts: dict[JourneyJob, JourneyContext] = {}


def journey_context(job: JourneyJob) -> JourneyContext:
    if job not in _contexts:
        runtime = Runtime(locale=job.locale, run_seed=job.seed, reference_date=job.reference_date)
        _contexts.clear()
        _contexts[job] = JourneyContext(runtime, journey=job.journey)
    return _contexts[job]


def build_journey(job: JourneyJob, index: int) -> JourneyProvider:
    """Create journey ``index`` (the shard's random state must be set)."""
    context = journey_context(job)
    window = JOURNEY_START_WINDOW_DAYS * 86400
    start = job.reference_date - timedelta(0, context.runtime.rnd.randrange(window + 1))
    journey = get_journey(job.journey)(context, index=index, start=start)
    journey.create_journey()
    return journey


def journey_stem(journey: JourneyProvider, width: int) -> str:
    return f"{journey.name}-{str(journey.index + 1).zfill(width)}-{journey.user_id}"


def journey_metadata(journey: JourneyProvider, *, seed: int, stem: str) -> dict[str, Any]:
    """The versioned metadata of one journey (documented in the README)."""
    width = max(3, len(str(len(journey.steps) - 1)))
    return {
        "metadata_version": METADATA_VERSION,
        "journey": journey.name,
        "journey_index": journey.index,
        "user_id": journey.user_id,
        "seed": seed,
        "generator_version": __version__,
        "zip": f"{stem}.zip",
        "start": journey.start.isoformat(),
        "duration_seconds": max((s.offset for s in journey.steps), default=0),
        "step_count": len(journey.steps),
        "steps": [
            {
                "index": step.index,
                "document_type": step.document_type,
                "file": step.file_name(width),
                "delay_seconds": step.delay,
                "anchor_step_index": step.anchor,
                "offset_seconds": step.offset,
            }
            for step in journey.steps
        ],
    }


def build_zip(entries: list[tuple[str, bytes]]) -> bytes:
    """A zip of ``entries`` in order, with fixed timestamps and permissions."""
    return build_stored_zip(entries, ZIP_EPOCH)


def journey_shard(job: JourneyJob, shard: Shard) -> ShardResult:
    """Build and encode one shard of journeys: a pure function of (job, shard)."""
    journey_context(job).runtime.reseed(shard.seed)
    width = max(6, len(str(job.quantity)))
    chunks: list[Chunk] = []
    types: Counter[str] = Counter()
    for index in range(shard.start, shard.stop):
        journey = build_journey(job, index)
        steps = journey.steps
        stem = journey_stem(journey, width)
        metadata = journey_metadata(journey, seed=job.seed, stem=stem)
        metadata_bytes = dumps_pretty(metadata)
        entries = [
            (entry["file"], dumps_pretty(step.document))
            for entry, step in zip(metadata["steps"], steps)
        ]
        entries.append((METADATA_NAME, metadata_bytes))
        chunks += (
            Chunk(f"{stem}.zip", build_zip(entries), whole=True),
            Chunk(f"{stem}.metadata.json", metadata_bytes, whole=True),
        )
        types.update([step.document_type for step in steps])
    counts = Counter({"journeys": shard.size, "steps": types.total()})
    counts.update(types)
    return ShardResult(chunks, dict(counts))


def journey_rows_shard(
    job: JourneyJob, shard: Shard
) -> tuple[list[tuple[str, Document]], dict[str, int]]:
    """``(document type, row)`` of every step of one shard of journeys, and its counts.

    The rows a database gets from the shard's journey zips (as ``publish``
    reads them): each step's document as its JSON reads back, with the
    journey's ``journey_id`` (its user) and the step's ``step_index``, in step order.
    """
    journey_context(job).runtime.reseed(shard.seed)
    loads = orjson.loads
    rows: list[tuple[str, Document]] = []
    counts: dict[str, int] = {"journeys": 0, "steps": 0}
    for index in range(shard.start, shard.stop):
        journey = build_journey(job, index)
        for step in journey.steps:
            record = loads(orjson.dumps(step.document))
            record["journey_id"] = journey.user_id
            record["step_index"] = step.index
            rows.append((step.document_type, record))
            counts[step.document_type] = counts.get(step.document_type, 0) + 1
        counts["journeys"] += 1
        counts["steps"] += len(journey.steps)
    return rows, counts


def journey_shards(job: JourneyJob) -> list[Shard]:
    return plan_shards(quantity=job.quantity, seed=job.seed, name=f"journey:{job.journey}")


class JourneyFiles:
    """The producer of a journeys run's files: a zip and its metadata per journey."""

    def __init__(self, job: JourneyJob) -> None:
        self.job = job

    def batches(self, *, workers: int | None) -> Iterator[Batch]:
        shards = journey_shards(self.job)
        yield Prepare()
        for shard, result in zip(
            shards, on_engine(journey_shard, self.job, shards, workers=workers)
        ):
            yield Files(result.chunks, done=shard.size, counts=result.counts)


class JourneyRows:
    """The producer of a journeys run's rows: every step in its document type's table.

    Streamed shard by shard, batched as ``publish`` batches a journeys run
    (:func:`datagen.driver.step_batches`); each table is prepared before its
    first rows (the connection is checked first).
    """

    def __init__(self, job: JourneyJob) -> None:
        self.job = job

    def batches(self, *, workers: int | None) -> Iterator[Batch]:
        yield Prepare()
        yield from step_batches(self._rows(workers), count_rows=False)

    def _rows(self, workers: int | None) -> Iterator[tuple[TableSpec, Document] | Done]:
        tables: dict[str, TableSpec] = {}
        shards = journey_shards(self.job)
        made = on_engine(journey_rows_shard, self.job, shards, workers=workers)
        for shard, (rows, counts) in zip(shards, made):
            for kind, record in rows:
                table = tables.get(kind)
                if table is None:
                    table = tables[kind] = table_for(kind, journeys=True)
                yield table, record
            yield Done(shard.size, counts)


def manifest_for(
    job: JourneyJob, counts: Mapping[str, int], files: Mapping[str, str]
) -> dict[str, Manifest]:
    """The manifest of a journeys run of ``job`` (by its path in the run)."""
    manifest = build_manifest(
        kind="journeys",
        provider=job.journey,
        seed=job.seed,
        quantity=job.quantity,
        locale=job.locale,
        format="zip",
        reference_date=job.reference_date,
        counts=counts,
        files=files,
        options={"metadata_version": METADATA_VERSION},
    )
    return {MANIFEST_NAME: manifest}


def generate_journeys(
    *,
    journey: str,
    quantity: int = 1,
    seed: int | None = None,  # same as --seed; None chooses one
    to: str | Path = DEFAULT_JOURNEYS_DIR,  # same as --to: a folder or a target URL
    locale: str = "en",  # same as --locale
    workers: int | None = None,  # same as --workers
    reference_date: datetime = REFERENCE_DATE,  # same as --reference-date
    reset: bool = False,  # same as --reset (databases)
    foreign_keys: bool = False,  # same as --foreign-keys (databases)
    scheduler: str | None = None,  # same as --scheduler: a Dask cluster; None = local processes
    progress: Progress | None = None,
) -> RunResult:
    """Write ``quantity`` journeys of ``journey`` to ``to``.

    A folder gets ``to/<journey>/`` (zips, metadata, manifest); a blob
    container or ``NAME.zip`` gets the same files. A database gets every step
    in its document type's table, streamed (no files).
    """
    get_journey(journey)
    check_inputs(seed=seed, quantity=quantity, reference_date=reference_date, workers=workers)
    check_locale(locale)
    check_target(scheduler, to)
    job = JourneyJob(
        journey=journey,
        quantity=quantity,
        seed=choose_seed() if seed is None else seed,
        locale=locale,
        reference_date=reference_date,
    )
    with using(scheduler, workers=workers):
        if target_kind(to) == BLOB and current().name == "dask":  # each worker uploads its shards
            return journeys_to_blobs(job, str(to), progress=progress)
        if target_kind(to) == DATABASE:
            with open_target(str(to), foreign_keys=foreign_keys) as target:
                written = write(
                    JourneyRows(job), target, workers=workers, progress=progress, reset=reset
                )
            return RunResult(str(to), job.seed, written.counts, written=written.summary.written)
        run = write_run(
            JourneyFiles(job),
            to,
            name=journey,
            manifests=lambda counts, files: manifest_for(job, counts, files),
            workers=workers,
            progress=progress,
        )
        return RunResult(run.path, job.seed, run.counts, run.files, run.summary.written)


def journeys_to_blobs(job: JourneyJob, url: str, *, progress: Progress | None) -> RunResult:
    """Upload the files of ``job`` from the cluster's workers, its manifest last."""
    shards = plan_shards(quantity=job.quantity, seed=job.seed, name=f"journey:{job.journey}")
    uploaded = upload_run(
        journey_shard,
        job,
        shards,
        url,
        manifest=lambda counts, files: manifest_for(job, counts, files)[MANIFEST_NAME],
        progress=progress,
    )
    return RunResult(url, job.seed, uploaded.counts, uploaded.files, uploaded.written)


def regenerate_run(
    manifest: Manifest, workers: int | None, progress: Progress | None = None
) -> dict[str, str]:
    job = JourneyJob(
        journey=manifest.provider,
        quantity=manifest.quantity,
        seed=manifest.seed,
        locale=manifest.locale,
        reference_date=datetime.fromisoformat(manifest.reference_date),
    )
    with ChunkSink() as sink:
        write(JourneyFiles(job), sink, workers=workers, progress=progress)
    return sink.digests()
