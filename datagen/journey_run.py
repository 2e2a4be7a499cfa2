"""Generate journeys into a folder of zips plus metadata: the ``journey`` command.

Each journey becomes ``<journey>-<n>-<user_id>.zip`` (its step documents,
named so that sorting gives step order, and ``metadata.json``) with the same
metadata beside it as ``<journey>-<n>-<user_id>.metadata.json``. The zips are
byte-identical for the same inputs: entries are stored (not deflated, whose
output may differ between zlib builds) with fixed timestamps and order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from datagen import __version__
from datagen.atomic import atomic_directory, atomic_write_bytes
from datagen.atomic import ensure_writable_folder, scratch_directory
from datagen.formats import ZIP_EPOCH, Chunk, dumps_pretty
from datagen.engines import check_target, using
from datagen.generator import check_locale
from datagen.limits import check_inputs
from datagen.journeys import JourneyContext, JourneyProvider, get_journey
from datagen.manifest import MANIFEST_NAME, Manifest
from datagen.runs import ShardResult, execute
from datagen.sinks.urls import BLOB, DATABASE, ZIP, target_kind
from datagen.schema import Runtime
from datagen.stored_zip import build_stored_zip
from datagen.seeding import REFERENCE_DATE, SHARD_SIZE, Shard, choose_seed, plan_shards
from datagen.sinks.files import ChunkSink, FolderWriter
from datagen.types import Progress

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


@dataclass
class JourneyRunResult:
    path: Path | str
    seed: int
    counts: dict[str, int]
    written: dict[str, int] = field(default_factory=dict)  # per table or container


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


def write_journeys(
    job: JourneyJob,
    sink: ChunkSink,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    shards = plan_shards(quantity=job.quantity, seed=job.seed, name=f"journey:{job.journey}")
    return execute(journey_shard, job, shards, sink, workers=workers, progress=progress)


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
) -> JourneyRunResult:
    """Write ``quantity`` journeys of ``journey`` to ``to``.

    A folder gets ``to/<journey>/`` (zips, metadata, manifest). Any other
    target (database, blob container, zip) gets that run published to it.
    """
    get_journey(journey)
    check_inputs(seed=seed, quantity=quantity, reference_date=reference_date, workers=workers)
    check_locale(locale)
    check_target(scheduler, to)
    with using(scheduler, workers=workers):
        if target_kind(to) in (DATABASE, BLOB, ZIP):
            from datagen.publish import publish

            with scratch_directory() as folder:
                result = generate_journeys(
                    journey=journey,
                    quantity=quantity,
                    seed=seed,
                    to=folder,
                    locale=locale,
                    workers=workers,
                    reference_date=reference_date,
                    progress=progress,
                )
                summary = publish(
                    folder / journey, to=str(to), reset=reset, foreign_keys=foreign_keys
                )
            return JourneyRunResult(str(to), result.seed, result.counts, summary.written)
        ensure_writable_folder(Path(to))
        job = JourneyJob(
            journey=journey,
            quantity=quantity,
            seed=choose_seed() if seed is None else seed,
            locale=locale,
            reference_date=reference_date,
        )
        target = Path(to) / journey
        with atomic_directory(target) as partial:
            writer = FolderWriter(partial)
            counts = write_journeys(job, writer, workers=workers, progress=progress)
            manifest = Manifest(
                kind="journeys",
                provider=journey,
                seed=job.seed,
                quantity=quantity,
                shard_size=SHARD_SIZE,
                locale=locale,
                format="zip",
                reference_date=reference_date.isoformat(),
                generator_version=__version__,
                counts=counts,
                files=writer.digests(),
                options={"metadata_version": METADATA_VERSION},
            )
            atomic_write_bytes(partial / MANIFEST_NAME, manifest.to_bytes())
        return JourneyRunResult(path=target, seed=job.seed, counts=counts)


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
    sink = ChunkSink()
    write_journeys(job, sink, workers=workers, progress=progress)
    return sink.digests()
