"""Publish generated runs to a target: a database, a blob container, a zip, a folder.

Databases receive records: documents from ``json``/``jsonl`` runs, and the
steps of journey runs (each in its document type's table, with the journey's
id and the step index). File targets receive the run's files as they are.
"""

from __future__ import annotations

import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Iterable, Iterator

import orjson

from datagen.errors import InputError
from datagen.journey_run import ZIP_EPOCH
from datagen.manifest import Manifest, read_manifest
from datagen.sinks.base import RecordSink, Summary, TableSpec, is_database_url
from datagen.tables import table_for
from datagen.types import Document, Progress
from datagen.verify import find_runs

BATCH = 5_000


def coerce(record: Document, table: TableSpec) -> Document:
    """Turn JSON-decoded values back into the table's types (ISO text → datetime)."""
    for column in table.columns:
        value = record.get(column.name)
        if isinstance(value, str):
            if column.type == "timestamp":
                record[column.name] = datetime.fromisoformat(value)
            elif column.type == "date":
                record[column.name] = date.fromisoformat(value)
    return record


def document_records(run: Path, manifest: Manifest) -> Iterator[tuple[str, Document]]:
    """``(type, record)`` for every document of a documents run, in order."""
    name = manifest.provider
    if manifest.format == "jsonl":
        with open(run / f"{name}.jsonl", "rb") as handle:
            for line in handle:
                if line.strip():
                    yield name, orjson.loads(line)
    elif manifest.format == "json":
        for file in sorted(manifest.files):
            yield name, orjson.loads((run / file).read_bytes())
    else:
        raise InputError(
            f"{run}: publishing {manifest.format} runs to a database is not supported",
            hint="regenerate with --format jsonl (csv loses the types)",
        )


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


def records_of(run: Path, manifest: Manifest) -> Iterator[tuple[str, Document]]:
    if manifest.kind == "journeys":
        return journey_records(run, manifest)
    return document_records(run, manifest)


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
    """Batch ``records`` by type and write them (types in their first-seen order)."""
    batches: dict[str, list[Document]] = {}
    for kind, record in records:
        batch = batches.setdefault(kind, [])
        batch.append(coerce(record, tables[kind]))
        if len(batch) >= BATCH:
            sink.write(tables[kind], batch)
            if progress:
                progress(len(batch))
            batches[kind] = []
    for kind, batch in batches.items():
        if batch:
            sink.write(tables[kind], batch)
            if progress:
                progress(len(batch))


def publish(
    source: str | Path,
    *,
    to: str,  # same as --to
    reset: bool = False,  # same as --reset
    foreign_keys: bool = False,  # same as --foreign-keys
    progress: Progress | None = None,
) -> Summary:
    """Publish every run under ``source`` to ``to``; returns what was written."""
    runs = [(run, read_manifest(run)) for run in find_runs(Path(source))]
    if is_database_url(to):
        return _publish_to_database(
            runs, to, reset=reset, foreign_keys=foreign_keys, progress=progress
        )
    return _publish_files(Path(source), runs, to, progress=progress)


def _publish_to_database(
    runs: list[tuple[Path, Manifest]],
    url: str,
    *,
    reset: bool,
    foreign_keys: bool,
    progress: Progress | None,
) -> Summary:
    from datagen.sinks.database import open_database_sink

    all_tables = order_by_references(
        list({t.name: t for _, m in runs for t in tables_of(m)}.values())
    )
    tables = {t.name: t for t in all_tables}
    sink = open_database_sink(url, foreign_keys=foreign_keys)
    try:
        sink.open(all_tables, reset=reset)
        for run, manifest in runs:
            write_records(sink, records_of(run, manifest), tables, progress=progress)
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
