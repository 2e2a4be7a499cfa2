"""Generate documents of one provider into a folder: the ``document`` command."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from mimesis.locales import Locale

from datagen import __version__
from datagen.atomic import (
    scratch_directory,
    ensure_writable_folder,
    atomic_directory,
    atomic_write_bytes,
)
from datagen.cluster_documents import documents_from_workers
from datagen.cluster_files import upload_run
from datagen.documents import DocumentProvider, get_provider
from datagen.engines import check_target, current, using
from datagen.errors import InputError
from datagen.formats import FORMATS, Encoder
from datagen.limits import QUANTITY, check_inputs
from datagen.manifest import MANIFEST_NAME, Manifest
from datagen.parallel import run_shards
from datagen.runs import ShardResult, execute
from datagen.sinks.urls import BLOB, DATABASE, ZIP, is_sqlite_url, target_kind
from datagen.schema import Runtime, walk_specs
from datagen.seeding import REFERENCE_DATE, SHARD_SIZE, Shard, choose_seed, plan_shards
from datagen.tables import table_for
from datagen.sinks.files import ChunkSink, FolderWriter
from datagen.sinks.open import open_target
from datagen.types import Document, Progress

if TYPE_CHECKING:
    from datagen.columns import RowsFactory

DEFAULT_DOCUMENTS_DIR = Path("output/documents")


@dataclass(frozen=True)
class DocumentJob:
    """Everything a shard needs: the pure inputs of a run."""

    provider: str
    quantity: int
    seed: int
    locale: str = "en"
    format: str = "json"
    reference_date: datetime = REFERENCE_DATE
    ref_counts: tuple[tuple[str, int], ...] = ()


@dataclass
class RunResult:
    """What a run wrote: its folder or target, seed, counts and file digests."""

    path: Path | str
    seed: int
    counts: dict[str, int]
    files: dict[str, str] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)  # per table or container


_compiled: dict[DocumentJob, tuple[Runtime, RowsFactory, Encoder]] = {}


def _prepare(job: DocumentJob) -> tuple[Runtime, RowsFactory, Encoder]:
    """Compile once per process and job (workers keep it between shards)."""
    from datagen.lineage import DocumentsLineage  # numpy: imported by the commands that draw

    if job not in _compiled:
        provider = get_provider(job.provider)
        runtime = Runtime(locale=job.locale, run_seed=job.seed, reference_date=job.reference_date)
        lineage = DocumentsLineage(
            run_seed=job.seed,
            counts={**dict(job.ref_counts), job.provider: job.quantity},
            reference_date=job.reference_date,
            locale=job.locale,
        )
        build = provider.rows_factory(runtime, lineage)
        columns = [path for path, _ in walk_specs(provider.template())]
        encoder = Encoder(name=job.provider, fmt=job.format, quantity=job.quantity, columns=columns)
        _compiled.clear()
        _compiled[job] = (runtime, build, encoder)
    return _compiled[job]


def document_shard(job: DocumentJob, shard: Shard) -> ShardResult:
    """Generate and encode one shard: a pure function of (job, shard)."""
    runtime, build, encoder = _prepare(job)
    runtime.reseed(shard.seed)
    documents = build(shard.start, shard.stop)
    return ShardResult(encoder.encode(documents, shard.start), {job.provider: shard.size})


def write_documents(
    job: DocumentJob,
    sink: ChunkSink,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Run every shard of ``job`` into ``sink``; returns documents per provider."""
    _, _, encoder = _prepare(job)
    shards = plan_shards(quantity=job.quantity, seed=job.seed, name=job.provider)
    return execute(
        document_shard,
        job,
        shards,
        sink,
        header=encoder.header(),
        workers=workers,
        progress=progress,
    )


def validate_document_options(
    *, provider: str, quantity: int, fmt: str, locale: str, workers: int | None
) -> DocumentProvider:
    """Check options before any work starts; raise InputError naming the bad one."""
    found = get_provider(provider)
    check_inputs(quantity=quantity, workers=workers)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    check_locale(locale)
    return found


def check_locale(locale: str) -> None:
    known = [item.value for item in Locale]
    if locale not in known:
        raise InputError(f"unknown locale {locale!r}; known: {', '.join(known)}")


def manifest_for(
    job: DocumentJob, *, kind: str, files: Mapping[str, str], **options: Any
) -> Manifest:
    return Manifest(
        kind=kind,
        provider=job.provider,
        seed=job.seed,
        quantity=job.quantity,
        shard_size=SHARD_SIZE,
        locale=job.locale,
        format=job.format,
        reference_date=job.reference_date.isoformat(),
        generator_version=__version__,
        counts={job.provider: job.quantity},
        files=dict(files),
        options={k: v for k, v in options.items() if v},
    )


def generate_documents(
    *,
    provider: str,
    quantity: int = 1,
    seed: int | None = None,  # same as --seed; None chooses one (see RunResult.seed)
    to: str | Path = DEFAULT_DOCUMENTS_DIR,  # same as --to: a folder or a target URL
    fmt: str = "json",  # same as --format
    locale: str = "en",  # same as --locale
    workers: int | None = None,  # same as --workers; None = all cores
    ref_counts: Mapping[str, int] | None = None,  # same as --refs org=1000
    reference_date: datetime = REFERENCE_DATE,  # same as --reference-date
    reset: bool = False,  # same as --reset (databases)
    foreign_keys: bool = False,  # same as --foreign-keys (databases)
    scheduler: str | None = None,  # same as --scheduler: a Dask cluster; None = local processes
    progress: Progress | None = None,
) -> RunResult:
    """Write ``quantity`` documents of ``provider`` to ``to``.

    A folder gets ``to/<provider>/`` with the documents and a manifest, built
    under a temporary name and renamed when complete. A database URL gets the
    documents upserted into the provider's table, streamed shard by shard.
    Other targets (``azure://…``, ``*.zip``) get the run's files.
    """
    validate_document_options(
        provider=provider, quantity=quantity, fmt=fmt, locale=locale, workers=workers
    )
    check_inputs(seed=seed, reference_date=reference_date)
    check_target(scheduler, to)
    for name, count in (ref_counts or {}).items():
        QUANTITY.check(count, f"ref_counts[{name!r}]")
    job = DocumentJob(
        provider=provider,
        quantity=quantity,
        seed=choose_seed() if seed is None else seed,
        locale=locale,
        format=fmt,
        reference_date=reference_date,
        ref_counts=tuple(sorted((ref_counts or {}).items())),
    )
    with using(scheduler, workers=workers):
        kind = target_kind(to)
        if kind == DATABASE:
            written = documents_to_database(
                job,
                str(to),
                reset=reset,
                foreign_keys=foreign_keys,
                workers=workers,
                progress=progress,
            )
            return RunResult(str(to), job.seed, {provider: quantity}, written=written)
        if kind == BLOB and current().name == "dask":  # each worker uploads its own shards
            return documents_to_blobs(job, str(to), progress=progress)
        if kind in (BLOB, ZIP):
            from datagen.publish import publish

            with scratch_directory() as folder:
                result = generate_documents(
                    provider=provider,
                    quantity=quantity,
                    seed=job.seed,
                    to=folder,
                    fmt=fmt,
                    locale=locale,
                    workers=workers,
                    ref_counts=ref_counts,
                    reference_date=reference_date,
                    progress=progress,
                )
                summary = publish(folder / provider, to=str(to))
            return RunResult(str(to), job.seed, result.counts, result.files, summary.written)
        ensure_writable_folder(Path(to))
        target = Path(to) / provider
        with atomic_directory(target) as partial:
            writer = FolderWriter(partial)
            write_documents(job, writer, workers=workers, progress=progress)
            files = writer.digests()
            manifest = manifest_for(job, kind="documents", files=files, refs=dict(job.ref_counts))
            atomic_write_bytes(partial / MANIFEST_NAME, manifest.to_bytes())
        return RunResult(path=target, seed=job.seed, counts=dict(manifest.counts), files=files)


def document_records_shard(job: DocumentJob, shard: Shard) -> list[Document]:
    """The documents of one shard (for record sinks)."""
    runtime, build, _ = _prepare(job)
    runtime.reseed(shard.seed)
    return build(shard.start, shard.stop)


def documents_to_database(
    job: DocumentJob,
    url: str,
    *,
    reset: bool,
    foreign_keys: bool,
    workers: int | None,
    progress: Progress | None,
) -> dict[str, int]:
    """Upsert the documents of ``job`` into their table, shard by shard."""
    if current().name == "dask" and not is_sqlite_url(url):  # workers write their own shards
        return documents_from_workers(
            job,
            document_records_shard,
            url,
            reset=reset,
            foreign_keys=foreign_keys,
            progress=progress,
        )
    table = table_for(job.provider)
    shards = plan_shards(quantity=job.quantity, seed=job.seed, name=job.provider)
    with open_target(url, foreign_keys=foreign_keys) as sink:
        sink.prepare([table], reset=reset)
        for shard, documents in zip(
            shards, run_shards(document_records_shard, job, shards, workers=workers)
        ):
            sink.write(table, documents)
            if progress:
                progress(shard.size)
        sink.commit()  # a table this run made is counted in the database
    return dict(sink.summary.written)


def documents_to_blobs(job: DocumentJob, url: str, *, progress: Progress | None) -> RunResult:
    """Upload the files of ``job`` from the cluster's workers, its manifest last."""
    uploaded = upload_run(
        document_shard,
        job,
        plan_shards(quantity=job.quantity, seed=job.seed, name=job.provider),
        url,
        header=_prepare(job)[2].header(),
        streams=job.format != "json",
        manifest=lambda _, files: manifest_for(
            job, kind="documents", files=files, refs=dict(job.ref_counts)
        ),
        progress=progress,
    )
    return RunResult(url, job.seed, {job.provider: job.quantity}, uploaded.files, uploaded.written)


def document_job_from_manifest(manifest: Manifest) -> DocumentJob:
    return DocumentJob(
        provider=manifest.provider,
        quantity=manifest.quantity,
        seed=manifest.seed,
        locale=manifest.locale,
        format=manifest.format,
        reference_date=datetime.fromisoformat(manifest.reference_date),
        ref_counts=tuple(sorted(dict(manifest.options.get("refs", {})).items())),
    )


def regenerate_digests(
    job: DocumentJob, *, workers: int | None = None, progress: Progress | None = None
) -> dict[str, str]:
    """The digests a run of ``job`` would write, computed without writing."""
    sink = ChunkSink()
    write_documents(job, sink, workers=workers, progress=progress)
    return sink.digests()


def regenerate_run(
    manifest: Manifest, workers: int | None, progress: Progress | None = None
) -> dict[str, str]:
    job = document_job_from_manifest(manifest)
    return regenerate_digests(job, workers=workers, progress=progress)
