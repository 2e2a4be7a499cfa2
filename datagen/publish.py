"""Publish generated runs to a target: a database, a blob container, a zip, a folder.

Databases receive records: documents from ``json``/``jsonl`` runs, and the
steps of journey runs (each in its document type's table, with the journey's
id and the step index). File targets receive the run's files as they are.
"""

from __future__ import annotations

import gc
import shutil
import zipfile
from contextlib import contextmanager
from pathlib import Path
from itertools import chain, islice
from typing import Iterable, Iterator

import orjson

from datagen.errors import InputError
from datagen.journey_run import ZIP_EPOCH
from datagen.manifest import Manifest, read_manifest
from datagen.sinks.base import RecordSink, Summary, TableSpec, is_database_url
from datagen.tables import table_for
from datagen.types import Document, Progress
from datagen.verify import find_runs

BATCH = 50_000  # records per write: one transaction each
CHUNK_BYTES = 1 << 18  # JSONL read and parsed at a time


def document_records(run: Path, manifest: Manifest) -> Iterator[list[Document]]:
    """Every document of a documents run, in order, in chunks as they are read."""
    name = manifest.provider
    if manifest.format == "jsonl":
        yield from jsonl_records(run / f"{name}.jsonl")
    elif manifest.format == "json":
        for file in sorted(manifest.files):
            yield [parse(run / file, (run / file).read_bytes())]
    else:
        raise InputError(
            f"{run}: publishing {manifest.format} runs to a database is not supported",
            hint="regenerate with --format jsonl (csv loses the types)",
        )


def jsonl_records(path: Path) -> Iterator[list[Document]]:
    """The documents of a JSONL file, parsed ``CHUNK_BYTES`` of lines at a time."""
    loads = orjson.loads
    number = 0  # lines before the chunk
    with open(path, "rb") as handle:
        while lines := handle.readlines(CHUNK_BYTES):
            try:
                yield [loads(line) for line in lines if not line.isspace()]
            except orjson.JSONDecodeError:
                for offset, line in enumerate(lines, number + 1):
                    if not line.isspace():
                        parse(path, line, line=offset)
                raise  # not reached: a line was not JSON
            number += len(lines)


def parse(path: Path, data: bytes, *, line: int | None = None) -> Document:
    """The JSON document ``data`` read from ``path``; InputError naming the file and line."""
    try:
        return orjson.loads(data)  # type: ignore[no-any-return]
    except orjson.JSONDecodeError as exc:
        where = f"{path}:{line}" if line is not None else str(path)
        raise InputError(f"{where}: not a JSON document ({exc})") from None


def journey_records(run: Path, manifest: Manifest) -> Iterator[tuple[str, Document]]:
    """``(type, record)`` for every step of every journey of a journeys run."""
    for file in sorted(manifest.files):
        if not file.endswith(".zip"):
            continue
        with zipfile.ZipFile(run / file) as archive:
            metadata = orjson.loads(archive.read("metadata.json"))
            for step in metadata["steps"]:
                record = orjson.loads(archive.read(step["file"]))
                record["journey_id"] = metadata["user_id"]
                record["step_index"] = step["index"]
                yield step["document_type"], record


def tables_of(manifest: Manifest) -> list[TableSpec]:
    journeys = manifest.kind == "journeys"
    names = [k for k in manifest.counts if k not in ("journeys", "steps")]
    return order_by_references([table_for(n, journeys=journeys) for n in names])


def order_by_references(tables: list[TableSpec]) -> list[TableSpec]:
    """Parents before children, so foreign keys can be created and satisfied."""
    by_name = {t.name: t for t in tables}
    ordered: list[TableSpec] = []
    seen: set[str] = set()

    def visit(table: TableSpec) -> None:
        if table.name in seen:
            return
        seen.add(table.name)
        for parent, _ in table.foreign_keys.values():
            if parent in by_name:
                visit(by_name[parent])
        ordered.append(table)

    for table in sorted(tables, key=lambda t: t.name):
        visit(table)
    return ordered


def write_records(
    sink: RecordSink,
    records: Iterable[tuple[str, Document]],
    tables: dict[str, TableSpec],
    *,
    progress: Progress | None = None,
) -> None:
    """Batch ``(type, record)`` pairs by type and write them.

    When a batch is full, every pending batch is written, in the order of
    ``tables`` (parents first): a child's rows never reach the database
    before the rows they refer to, which came earlier in ``records``. That
    happens between two journeys (records with another ``journey_id``), so
    a row a journey writes twice (a ``job_run`` started, then finished) is
    in one batch, and the database counts it once.
    """
    batches: dict[str, list[Document]] = {name: [] for name in tables}
    full, journey = False, None
    for kind, record in records:
        if full and (record.get("journey_id") is None or record["journey_id"] != journey):
            _flush(sink, batches, tables, progress)
            full = False
        journey = record.get("journey_id")
        batch = batches[kind]
        batch.append(record)
        full = full or len(batch) >= BATCH
    _flush(sink, batches, tables, progress)


def _flush(
    sink: RecordSink,
    batches: dict[str, list[Document]],
    tables: dict[str, TableSpec],
    progress: Progress | None,
) -> None:
    for kind, batch in batches.items():
        if batch:
            _write(sink, tables[kind], batch, progress)
            batches[kind] = []


def stream_records(
    sink: RecordSink,
    chunks: Iterable[list[Document]],
    table: TableSpec,
    *,
    progress: Progress | None = None,
) -> None:
    """Write one type's records as they are read, ``BATCH`` to a write.

    The sink reads each batch while it is being parsed, so a database works
    on the first rows while the next are read.
    """
    records = chain.from_iterable(chunks)
    for first in records:
        _write(sink, table, chain((first,), islice(records, BATCH - 1)), progress)


def _write(
    sink: RecordSink, table: TableSpec, batch: Iterable[Document], progress: Progress | None
) -> None:
    written = sink.write(table, batch)
    if progress:
        progress(written)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (restored after).

    Records are trees, freed as soon as they are written; but the collector
    would walk every fresh record, and walking hundreds of thousands of them
    costs about as much as parsing them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def publish(
    source: str | Path,
    *,
    to: str,  # same as --to
    reset: bool = False,  # same as --reset
    foreign_keys: bool = False,  # same as --foreign-keys
    progress: Progress | None = None,
) -> Summary:
    """Publish every run under ``source`` to ``to``; returns what was written."""
    check_target_outside(source, to)
    runs = [(run, read_manifest(run)) for run in find_runs(Path(source))]
    if is_database_url(to):
        return _publish_to_database(
            runs, to, reset=reset, foreign_keys=foreign_keys, progress=progress
        )
    return _publish_files(Path(source), runs, to, progress=progress)


def check_target_outside(source: str | Path, to: str | Path) -> None:
    """A folder or zip target must not be in the source (it would publish itself)."""
    if "://" in str(to):
        return
    target = Path(to)
    source, resolved = Path(source).resolve(), target.resolve()
    if resolved == source or source in resolved.parents:
        raise InputError(
            f"{target} is inside {source}: publishing would copy the copy",
            hint="choose a target outside the source folder",
        )


def _publish_to_database(
    runs: list[tuple[Path, Manifest]],
    url: str,
    *,
    reset: bool,
    foreign_keys: bool,
    progress: Progress | None,
) -> Summary:
    from datagen.sinks.database import open_database_sink

    specs: dict[str, TableSpec] = {}
    for _, manifest in runs:
        for spec in tables_of(manifest):
            known = specs.get(spec.name)
            if known is None or len(spec.columns) > len(known.columns):
                specs[spec.name] = spec  # a journeys run's table also has journey_id, step_index
    all_tables = order_by_references(list(specs.values()))
    tables = {t.name: t for t in all_tables}
    order = {t.name: n for n, t in enumerate(all_tables)}
    # Parents' runs first, so that their rows exist when a child's foreign keys are checked.
    runs = sorted(runs, key=lambda run: min(order[t.name] for t in tables_of(run[1])))
    sink = open_database_sink(url, foreign_keys=foreign_keys)
    try:
        sink.open(all_tables, reset=reset)
        with collector_paused():
            for run, manifest in runs:
                if manifest.kind == "journeys":
                    steps = journey_records(run, manifest)
                    write_records(sink, steps, tables, progress=progress)
                else:
                    documents = document_records(run, manifest)
                    stream_records(sink, documents, tables[manifest.provider], progress=progress)
        sink.read_back()  # the tables this run made are counted in the database
    finally:
        summary = sink.close()
    return summary


def _publish_files(
    source: Path, runs: list[tuple[Path, Manifest]], to: str, *, progress: Progress | None
) -> Summary:
    if to.startswith(("azure://", "http://", "https://")):
        from datagen.sinks.azure import upload_folder

        return upload_folder(source, to)
    if to.endswith(".zip"):
        return zip_folder(source, Path(to))
    target = Path(to)
    summary = Summary(target=str(target))
    for run, manifest in runs:
        destination = target / run.relative_to(source) if run != source else target / run.name
        shutil.copytree(run, destination, dirs_exist_ok=True)
        summary.add(manifest.provider, len(manifest.files) + 1)
    return summary


def zip_folder(source: Path, target: Path) -> Summary:
    """``source``'s files into the zip ``target``, streamed, renamed when complete."""
    files = sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith("."))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as archive:
            for path in files:
                info = zipfile.ZipInfo(str(path.relative_to(source)), date_time=ZIP_EPOCH)
                info.create_system, info.external_attr = 3, 0o644 << 16
                with open(path, "rb") as src, archive.open(info, "w", force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    summary = Summary(target=str(target))
    summary.add(target.name, len(files))
    return summary
