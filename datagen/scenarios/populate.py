"""Populate a target with a scenario: the ``populate`` command.

Databases get one table per provider with primary and foreign keys (the
database enforces integrity), created parents first and filled entity by
entity in dependency order, in batches as shards come back from the workers.
Folders get ``TO/<scenario>/<table>/<table>.jsonl`` with a manifest that
``publish`` reads; zips and blob containers get those files under
``<scenario>/``. Every target is written by the driver (:mod:`datagen.driver`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

from datagen.driver import Batch, Files, Load, Prepare, Rows, write
from datagen.engines import check_target, current, using
from datagen.errors import InputError
from datagen.formats import Chunk, jsonl
from datagen.limits import check_inputs
from datagen.manifest import MANIFEST_NAME, Manifest, build_manifest
from datagen.runs import write_run
from datagen.scenarios import DEFAULT_SCENARIO_DIR
from datagen.scenarios.checks import CheckResult, run_checks
from datagen.scenarios.cluster_blobs import upload_population
from datagen.scenarios.checks import validate as validate_checks
from datagen.scenarios.loader import load_scenario
from datagen.scenarios.model import Scenario
from datagen.scenarios.planning import Plan, parent_stats, plan_scenario
from datagen.scenarios.rows import build_shard, install, tasks_of
from datagen.scenarios.ordered import run_ordered
from datagen.seeding import choose_seed
from datagen.sinks.files import ChunkSink
from datagen.sinks.open import open_target
from datagen.sinks.urls import BLOB, DATABASE, FOLDER, is_postgresql_url, target_kind
from datagen.tablespec import TableSpec
from datagen.types import Document, Progress

BATCH = 5_000


@dataclass
class PopulateResult:
    """What a run planned and wrote."""

    plan: Plan
    target: str
    written: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    checks: list[CheckResult] = field(default_factory=list)  # run on a database target

    @property
    def seed(self) -> int:
        return self.plan.seed


def prepare(
    scenario: str | Path | Scenario | Plan, *, seed: int | None = None, scale: float = 1.0
) -> Plan:
    """Load (if given a path) and plan a scenario; the seed defaults to the file's, else random.

    A Plan is returned as it is (its own seed and scale).
    """
    if isinstance(scenario, Plan):
        return scenario
    check_inputs(seed=seed, scale=scale)
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if seed is None:
        seed = loaded.seed if loaded.seed is not None else choose_seed()
    plan = plan_scenario(loaded, seed=seed, scale=scale)
    validate_checks(plan)
    return plan


def generate_rows(
    plan: Plan, *, workers: int | None = None
) -> Iterator[tuple[str, list[Document]]]:
    """``(entity, rows)`` for every shard of ``plan``, in dependency order."""
    return run_ordered(build_shard, tasks_of(plan), workers=workers, setup=(install, plan))


def populate(
    scenario: str | Path | Scenario | Plan,
    *,
    to: str | Path = DEFAULT_SCENARIO_DIR,  # same as --to
    seed: int | None = None,  # same as --seed
    scale: float = 1.0,  # same as --scale
    reset: bool = False,  # same as --reset
    dry_run: bool = False,  # same as --dry-run
    workers: int | None = None,  # same as --workers
    scheduler: str | None = None,  # same as --scheduler: a Dask cluster; None = local processes
    progress: Progress | None = None,
    on_written: Callable[[], None] | None = None,  # called once the rows are all written
) -> PopulateResult:
    """Build the scenario's population and write it to ``to``.

    ``on_written`` tells a caller when the rows are committed (the scenario's
    checks come after): an interruption before it left a database written in
    one transaction (SQLite, PostgreSQL), or a folder, as it was.
    """
    plan = prepare(scenario, seed=seed, scale=scale)
    check_target(scheduler, to)
    target = str(to)
    if dry_run:
        return PopulateResult(plan, target, dry_run=True)
    with using(scheduler, workers=workers):
        kind = target_kind(target)
        if kind == DATABASE:
            written = to_database(plan, target, reset=reset, workers=workers, progress=progress)
            if on_written is not None:
                on_written()
            return PopulateResult(plan, target, written, checks=run_checks(plan, target))
        if kind == BLOB and current().name == "dask":  # each worker uploads its own shards
            written = upload_population(
                plan, target, encode=jsonl_chunk, manifest=table_manifest, progress=progress
            )
            return PopulateResult(plan, target, written)
        written = to_files(plan, target, workers=workers, progress=progress)
        if kind != FOLDER:
            return PopulateResult(plan, target, written)
        if on_written is not None:
            on_written()
        return PopulateResult(plan, str(Path(target) / plan.scenario.name), written)


def to_database(
    plan: Plan, url: str, *, reset: bool, workers: int | None, progress: Progress | None
) -> dict[str, int]:
    """Write every row of ``plan`` into the database at ``url`` (tables with keys)."""
    if current().name == "dask" and is_postgresql_url(url):  # workers COPY their own shards
        from datagen.scenarios.cluster_load import to_postgres_from_workers  # psycopg: heavy

        return to_postgres_from_workers(plan, url, reset=reset, progress=progress)
    # PostgreSQL and SQLite: one transaction (keys after rows on PostgreSQL);
    # MySQL: foreign keys checked as the rows come, each batch committed.
    with open_target(url, foreign_keys=True, bulk=True) as sink:
        producer = ScenarioRows(plan, copy_text=sink.takes_copy_text)
        written = write(producer, sink, workers=workers, progress=progress, reset=reset)
    return dict(written.summary.written)


class ScenarioRows:
    """The producer of a population's rows: every table, parents first, in batches.

    ``copy_text``: the target takes rows encoded in the workers as COPY text
    (PostgreSQL's bulk load), one COPY per table (:mod:`datagen.scenarios.copy_load`).
    """

    def __init__(self, plan: Plan, *, copy_text: bool = False) -> None:
        self.plan = plan
        self.copy_text = copy_text

    def batches(self, *, workers: int | None) -> Iterator[Batch]:
        plan = self.plan
        yield Prepare(list(plan.tables.values()))
        if self.copy_text:
            from datagen.scenarios.copy_load import copy_plan  # psycopg: only for PostgreSQL

            yield Load(
                lambda sink, progress: copy_plan(plan, sink, workers=workers, progress=progress)
            )
            return
        for table, batch in batches(plan, workers=workers):
            yield Rows(table, batch, done=len(batch))


def batches(plan: Plan, *, workers: int | None) -> Iterator[tuple[TableSpec, list[Document]]]:
    """Rows grouped in batches of up to BATCH, never mixing two entities."""
    current: str | None = None
    batch: list[Document] = []
    for name, rows in generate_rows(plan, workers=workers):
        if name != current and batch:
            yield plan.table_of(current or name), batch
            batch = []
        current = name
        batch.extend(rows)
        if len(batch) >= BATCH:
            yield plan.table_of(name), batch
            batch = []
    if batch and current is not None:
        yield plan.table_of(current), batch


class ScenarioFiles:
    """The producer of a population's files: ``<table>/<table>.jsonl`` each, under ``prefix``."""

    def __init__(self, plan: Plan, *, prefix: str = "") -> None:
        self.plan = plan
        self.prefix = prefix

    def path(self, table: str, name: str) -> str:
        return f"{self.prefix}{table}/{name}"

    def batches(self, *, workers: int | None) -> Iterator[Batch]:
        plan = self.plan
        yield Prepare()
        yield Files([Chunk(self.path(t, f"{t}.jsonl"), b"") for t in plan.tables])  # (every file)
        for name, rows in generate_rows(plan, workers=workers):
            table = plan.entities[name].provider
            yield Files([Chunk(self.path(table, f"{table}.jsonl"), jsonl_chunk(rows))], len(rows))

    def manifests(self, _: Mapping[str, int], digests: Mapping[str, str]) -> dict[str, Manifest]:
        """A manifest per table (each table is a run ``publish`` reads)."""
        plan = self.plan
        return {
            self.path(table, MANIFEST_NAME): table_manifest(
                plan, table, digests[self.path(table, f"{table}.jsonl")]
            )
            for table in plan.tables
        }


def to_files(
    plan: Plan, to: str, *, workers: int | None, progress: Progress | None
) -> dict[str, int]:
    """A folder gets ``TO/<scenario>/<table>/``, a zip or blobs ``<scenario>/<table>/…``.

    Returns rows per table (a folder) or what the target counted (files per zip or container).
    """
    folder = target_kind(to) == FOLDER
    name = plan.scenario.name
    producer = ScenarioFiles(plan, prefix="" if folder else f"{name}/")
    run = write_run(
        producer,
        to,
        name=name,
        manifests=producer.manifests,
        manifest_paths=[producer.path(table, MANIFEST_NAME) for table in plan.tables],
        folders=list(plan.tables),
        workers=workers,
        progress=progress,
    )
    return plan.counts() if folder else dict(run.summary.written)


def table_manifest(plan: Plan, table: str, sha256: str) -> Manifest:
    """The manifest of ``table``'s JSONL file, whose SHA-256 is ``sha256``."""
    count = plan.counts()[table]
    return build_manifest(
        kind="scenario",
        provider=table,
        seed=plan.seed,
        quantity=count,
        locale=plan.locale,
        format="jsonl",
        reference_date=plan.reference_date,
        counts={table: count},
        files={f"{table}.jsonl": sha256},
        options={"scenario": plan.scenario.path, "scale": plan.scale},
    )


def jsonl_chunk(rows: list[Document]) -> bytes:
    """The bytes a shard's rows add to their table's JSONL file."""
    return jsonl(rows)  # one buffer: joining kept lines costs ~3 µs a line


_regenerated: dict[tuple[str, int, float], dict[str, str]] = {}


def regenerate_digests(
    manifest: Manifest, workers: int | None, progress: Progress | None = None
) -> dict[str, str]:
    """For ``verify``: the SHA-256 a table's JSONL file of a scenario run should have."""
    options = manifest.options
    key = (str(options.get("scenario")), manifest.seed, float(options.get("scale", 1.0)))
    if key not in _regenerated:
        if not Path(key[0]).is_file():
            raise InputError(
                f"no scenario file {key[0]!r} (recorded as populate was given it)",
                hint="run verify from the folder populate ran in",
            )
        plan = prepare(key[0], seed=key[1], scale=key[2])
        with ChunkSink() as sink:  # the files a folder would get, hashed and not written
            write(ScenarioFiles(plan), sink, workers=workers, progress=progress)
        digests = sink.digests()
        _regenerated.clear()
        _regenerated[key] = {table: digests[f"{table}/{table}.jsonl"] for table in plan.tables}
    digest = _regenerated[key].get(manifest.provider)
    return {} if digest is None else {f"{manifest.provider}.jsonl": digest}


def describe_plan(plan: Plan) -> list[str]:
    """The dry-run's lines: entities in order, counts, distributions' min/mean/max."""
    lines = [
        f"Scenario {plan.scenario.name} (seed {plan.seed}, --scale {plan.scale:g}): "
        f"{plan.rows:,} rows in {len(plan.tables)} tables",
        f"{'entity':<22} {'table':<20} {'rows':>10}  how",
    ]
    for entity in plan.entities.values():
        how = []
        if entity.records:
            how.append(f"{len(entity.records)} records")
        if entity.parent and entity.distribution:
            stats = parent_stats(entity)
            how.append(
                f"per {entity.parent}: {entity.distribution.describe()}; "
                f"min {stats['min']}, mean {stats['mean']:.2f}, max {stats['max']}"
            )
        elif entity.generated:
            how.append(f"count {entity.generated:,}")
        for ref in entity.refs:
            same = f" of the same {ref.same}" if ref.same else ""
            how.append(f"{ref.field} -> {ref.target}{same}")
        lines.append(
            f"{entity.name:<22} {entity.provider:<20} {entity.total:>10,}  " + "; ".join(how)
        )
    return lines
