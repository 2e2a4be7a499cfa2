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
from typing import Iterator

import orjson

from datagen.driver import STEP_BATCH, Batch, Done, Files, OnDisk, Prepare, Rows, Tally
from datagen.driver import order_by_references, step_batches, write
from datagen.errors import InputError
from datagen.manifest import Manifest
from datagen.replay.source import read_journey, read_zip_file
from datagen.run_files import Run, check_destinations, check_runs, destination_name, load_runs
from datagen.sinks.base import Summary, TableSpec
from datagen.sinks.files import check_zip_target
from datagen.sinks.open import open_target
from datagen.sinks.urls import BLOB, DATABASE, FOLDER, OTHER, ZIP, is_url, target_kind
from datagen.sinks.urls import unsupported_target
from datagen.tables import table_for
from datagen.types import Document, Progress

BATCH = STEP_BATCH  # records per write: one transaction each
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
    with open_target(url, foreign_keys=foreign_keys) as sink:
        written = write(RunRows(runs), sink, progress=progress, reset=reset)
    return written.summary


class RunRows:
    """The producer of runs' rows: each run's documents or journey steps, as read from disk.

    Parents' runs first, so that their rows exist when a child's foreign keys
    are checked. A documents run's records go ``BATCH`` to a write, read while
    the target writes (a database works on the first rows while the next are
    parsed); a journeys run's steps are batched by table
    (:func:`datagen.driver.step_batches`).
    """

    def __init__(self, runs: list[tuple[Path, Manifest]]) -> None:
        specs: dict[str, TableSpec] = {}
        for _, manifest in runs:
            for spec in tables_of(manifest):
                known = specs.get(spec.name)
                if known is None or len(spec.columns) > len(known.columns):
                    specs[spec.name] = (
                        spec  # a journeys run's table also has journey_id, step_index
                    )
        self.tables = order_by_references(specs.values())
        order = {t.name: n for n, t in enumerate(self.tables)}
        self.runs = sorted(runs, key=lambda run: min(order[t.name] for t in tables_of(run[1])))

    def batches(self, *, workers: int | None) -> Iterator[Batch]:
        yield Prepare(self.tables)
        tables = {t.name: t for t in self.tables}
        with collector_paused():
            for run, manifest in self.runs:
                if manifest.kind == "journeys":
                    steps = (
                        (tables[kind], record) for kind, record in journey_records(run, manifest)
                    )
                    yield from step_batches(steps, tables=self.tables)
                else:
                    records = chain.from_iterable(document_records(run, manifest))
                    table = tables[manifest.provider]
                    for first in records:
                        yield Rows(table, chain((first,), islice(records, BATCH - 1)))


def _publish_files(
    source: Path, runs: list[Run], to: str, kind: str, *, progress: Progress | None
) -> Summary:
    """The runs' files (each run's manifest and the files it lists) to a file target."""
    if kind == BLOB and not source.is_dir():  # (as upload_folder says it)
        raise InputError(
            f"{str(source)!r} is not a folder",
            hint="generate data first (e.g. make demo), or name the folder to upload",
        )
    with open_target(to) as target:
        written = write(RunFiles(source, runs, kind), target, progress=progress)
    return written.summary


class RunFiles:
    """The producer of runs' files, as they are on disk: each run's manifest and its files.

    A zip and blobs name each file by its path under SOURCE; a folder puts each
    run at its own path under SOURCE (its name if it is SOURCE).
    """

    def __init__(self, source: Path, runs: list[Run], kind: str) -> None:
        self.source = source
        self.runs = runs
        self.kind = kind

    def batches(self, *, workers: int | None) -> Iterator[Batch]:
        yield Prepare()
        if self.kind == FOLDER:
            for run in self.runs:
                destination = destination_name(run, self.source)
                for path, name in run.files():
                    yield Files([OnDisk(path, (destination / name).as_posix())], done=1)
                yield Tally(run.manifest.provider, len(run.manifest.files) + 1)
            return
        for path, name in _named_files(self.source, self.runs):
            if self.kind == BLOB:
                yield Done(1)  # (counted as it starts: an upload may take a while)
                yield Files([OnDisk(path, name)])
            else:
                yield Files([OnDisk(path, name)], done=1)


def _named_files(source: Path, runs: list[Run]) -> list[tuple[Path, str]]:
    """``(path, name under SOURCE)`` of every run's files: the names zips and blobs get."""
    resolved = source.resolve()
    named: list[tuple[Path, str]] = []
    for run in runs:
        under = run.path.resolve().relative_to(resolved)
        named.extend((path, (under / name).as_posix()) for path, name in run.files())
    return named
