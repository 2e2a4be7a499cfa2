"""Publish generated runs to a target: a database, a blob container, a zip, a folder.

Databases receive records: documents from ``json``/``jsonl`` runs, and the
steps of journey runs (each in its document type's table, with the journey's
id and the step index). File targets receive the runs' files as they are: each
run's manifest and the files it lists. Before anything is written, every run
is checked against its manifest (``datagen.run_files``).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from pathlib import Path
from itertools import chain, islice
from typing import Iterable, Iterator

import orjson

from datagen.errors import InputError
from datagen.manifest import Manifest
from datagen.ordering import depth_first
from datagen.run_files import Run, check_destinations, check_runs, destination_name, load_runs
from datagen.sinks.base import Summary, TableSpec, Target
from datagen.sinks.files import check_zip_target
from datagen.sinks.open import open_target
from datagen.sinks.urls import BLOB, DATABASE, FOLDER, OTHER, ZIP, is_url, target_kind
from datagen.sinks.urls import unsupported_target
from datagen.tables import table_for
from datagen.types import Document, Progress

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
    """``(type, record)`` for every step of every journey of a journeys run, in step order.

    Each zip is read and checked as ``replay`` reads it (bounded sizes, a known
    metadata version, every step's file a JSON object).
    """
    from datagen.replay.source import read_journey, read_zip_file

    for file in sorted(manifest.files):
        if not file.endswith(".zip"):
            continue
        journey = read_journey(str(run / file), read_zip_file(run / file))
        for step in sorted(journey.steps, key=lambda step: step.index):
            record = orjson.loads(step.data)
            record["journey_id"] = journey.user_id
            record["step_index"] = step.index
            yield step.document_type, record


def tables_of(manifest: Manifest) -> list[TableSpec]:
    journeys = manifest.kind == "journeys"
    names = [k for k in manifest.counts if k not in ("journeys", "steps")]
    return order_by_references([table_for(n, journeys=journeys) for n in names])


def order_by_references(tables: list[TableSpec]) -> list[TableSpec]:
    """Parents before children, so foreign keys can be created and satisfied."""
    by_name = {t.name: t for t in tables}

    def parents(name: str) -> list[str]:
        return [p for p, _ in by_name[name].foreign_keys.values() if p in by_name]

    return [by_name[name] for name in depth_first(sorted(by_name), parents)]


def write_records(
    sink: Target,
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
    sink: Target,
    batches: dict[str, list[Document]],
    tables: dict[str, TableSpec],
    progress: Progress | None,
) -> None:
    for kind, batch in batches.items():
        if batch:
            _write(sink, tables[kind], batch, progress)
            batches[kind] = []


def stream_records(
    sink: Target,
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
    sink: Target, table: TableSpec, batch: Iterable[Document], progress: Progress | None
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
    """Publish every run under ``source`` to ``to``; returns what was written.

    Every run is checked first (its manifest, its files' SHA-256, its journey
    zips for a database): if one fails, nothing is written anywhere.
    """
    check_target_outside(source, to)
    runs = load_runs(Path(source))
    kind = target_kind(to)
    if kind == OTHER:
        raise unsupported_target(to)
    database = kind == DATABASE
    if kind == ZIP:
        check_zip_target(Path(to))
    elif kind == FOLDER:
        check_destinations(runs, Path(source), Path(to))
    check_runs(runs, database=database)
    if database:
        return _publish_to_database(
            [(run.path, run.manifest) for run in runs],
            to,
            reset=reset,
            foreign_keys=foreign_keys,
            progress=progress,
        )
    return _publish_files(Path(source), runs, to, kind, progress=progress)


def planned(source: str | Path, to: str) -> tuple[int, str]:
    """What a publish of ``source`` to ``to`` will count on its way: (how many, of what).

    Records for a database (from the manifests), files otherwise; for a progress bar.
    """
    runs = load_runs(Path(source))
    if target_kind(to) == DATABASE:
        return sum(run.records for run in runs), "record"
    return sum(len(run.files()) for run in runs), "file"


def check_target_outside(source: str | Path, to: str | Path) -> None:
    """A folder or zip target must not be in the source (it would publish itself)."""
    if is_url(to):
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
    with open_target(url, foreign_keys=foreign_keys) as sink:
        sink.prepare(all_tables, reset=reset)
        with collector_paused():
            for run, manifest in runs:
                if manifest.kind == "journeys":
                    steps = journey_records(run, manifest)
                    write_records(sink, steps, tables, progress=progress)
                else:
                    documents = document_records(run, manifest)
                    stream_records(sink, documents, tables[manifest.provider], progress=progress)
        sink.commit()  # the tables this run made are counted in the database
    return sink.summary


def _publish_files(
    source: Path, runs: list[Run], to: str, kind: str, *, progress: Progress | None
) -> Summary:
    """The runs' files (each run's manifest and the files it lists) to a file target.

    A zip and blobs name each file by its path under SOURCE; a folder puts each
    run at its own path under SOURCE (its name if it is SOURCE).
    """
    if kind == BLOB and not source.is_dir():  # (as upload_folder says it)
        raise InputError(
            f"{str(source)!r} is not a folder",
            hint="generate data first (e.g. make demo), or name the folder to upload",
        )
    with open_target(to) as target:
        target.prepare()
        if kind == FOLDER:
            for run in runs:
                destination = destination_name(run, source)
                for path, name in run.files():
                    target.add_file(path, (destination / name).as_posix())
                    if progress:
                        progress(1)
                target.summary.add(run.manifest.provider, len(run.manifest.files) + 1)
        else:
            for path, name in _named_files(source, runs):
                if progress and kind == BLOB:
                    progress(1)  # (counted as it starts: an upload may take a while)
                target.add_file(path, name)
                if progress and kind != BLOB:
                    progress(1)
        target.commit()
    return target.summary


def _named_files(source: Path, runs: list[Run]) -> list[tuple[Path, str]]:
    """``(path, name under SOURCE)`` of every run's files: the names zips and blobs get."""
    resolved = source.resolve()
    named: list[tuple[Path, str]] = []
    for run in runs:
        under = run.path.resolve().relative_to(resolved)
        named.extend((path, (under / name).as_posix()) for path, name in run.files())
    return named
