"""Generate documents of one provider: the ``document`` command.

Two producers (:mod:`datagen.driver`): :class:`DocumentFiles` (each shard's
documents encoded as files, a run with its manifest: a folder, a zip, blobs)
and :class:`DocumentRows` (each shard's documents as rows of the provider's
table, one transaction a shard).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from mimesis.locales import Locale

from datagen.cluster_documents import documents_from_workers
from datagen.cluster_files import upload_run
from datagen.documents import DocumentProvider, get_provider
from datagen.driver import Batch, Files, Prepare, Rows, on_engine, write
from datagen.engines import check_target, current, using
from datagen.errors import InputError
from datagen.formats import FORMATS, Encoder
from datagen.limits import QUANTITY, check_inputs
from datagen.manifest import MANIFEST_NAME, Manifest, build_manifest
from datagen.runs import RunResult, ShardResult, write_run
from datagen.schema import Runtime, walk_specs
from datagen.seeding import REFERENCE_DATE, Shard, choose_seed, plan_shards
from datagen.sinks.files import ChunkSink
from datagen.sinks.open import open_target
from datagen.sinks.urls import BLOB, DATABASE, is_sqlite_url, target_kind
from datagen.tables import table_for
from datagen.tablespec import TableSpec
from datagen.types import Document, Progress

if TYPE_CHECKING:  # type-only: columns imports numpy, which the CLI does not load at start-up
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
            providers=get_provider,
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


class DocumentFiles:
    """The producer of a documents run's files: each shard's documents, encoded."""

    def __init__(self, job: DocumentJob) -> None:
        self.job = job

    def batches(self, *, workers: int | None) -> Iterator[Batch]:
        job = self.job
        _, _, encoder = _prepare(job)
        shards = plan_shards(quantity=job.quantity, seed=job.seed, name=job.provider)
        yield Prepare()
        yield Files(encoder.header())
        for shard, result in zip(shards, on_engine(document_shard, job, shards, workers=workers)):
            yield Files(result.chunks, done=shard.size, counts=result.counts)


class DocumentRows:
    """The producer of a documents run's rows: one batch per shard (one transaction each)."""

    def __init__(self, job: DocumentJob, table: TableSpec) -> None:
        self.job = job
        self.table = table

    def batches(self, *, workers: int | None) -> Iterator[Batch]:
        job = self.job
        shards = plan_shards(quantity=job.quantity, seed=job.seed, name=job.provider)
        yield Prepare([self.table])
        records = on_engine(document_records_shard, job, shards, workers=workers)
        for shard, documents in zip(shards, records):
            yield Rows(self.table, documents, done=shard.size)


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
    job: DocumentJob, *, files: Mapping[str, str], **options: Any
) -> dict[str, Manifest]:
    """The manifest of a documents run of ``job`` (by its path in the run)."""
    manifest = build_manifest(
        kind="documents",
        provider=job.provider,
        seed=job.seed,
        quantity=job.quantity,
        locale=job.locale,
        format=job.format,
        reference_date=job.reference_date,
        counts={job.provider: job.quantity},
        files=files,
        options={k: v for k, v in options.items() if v},
    )
    return {MANIFEST_NAME: manifest}


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
        run = write_run(
            DocumentFiles(job),
            to,
            name=provider,
            manifests=lambda _, files: manifest_for(job, files=files, refs=dict(job.ref_counts)),
            workers=workers,
            progress=progress,
        )
        return RunResult(run.path, job.seed, {provider: quantity}, run.files, run.summary.written)


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
    with open_target(url, foreign_keys=foreign_keys) as target:
        written = write(
            DocumentRows(job, table_for(job.provider)),
            target,
            workers=workers,
            progress=progress,
            reset=reset,
        )
    return dict(written.summary.written)


def documents_to_blobs(job: DocumentJob, url: str, *, progress: Progress | None) -> RunResult:
    """Upload the files of ``job`` from the cluster's workers, its manifest last."""
    uploaded = upload_run(
        document_shard,
        job,
        plan_shards(quantity=job.quantity, seed=job.seed, name=job.provider),
        url,
        header=_prepare(job)[2].header(),
        streams=job.format != "json",
        manifest=lambda _, files: manifest_for(job, files=files, refs=dict(job.ref_counts))[
            MANIFEST_NAME
        ],
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
    with ChunkSink() as sink:
        write(DocumentFiles(job), sink, workers=workers, progress=progress)
    return sink.digests()


def regenerate_run(
    manifest: Manifest, workers: int | None, progress: Progress | None = None
) -> dict[str, str]:
    job = document_job_from_manifest(manifest)
    return regenerate_digests(job, workers=workers, progress=progress)
