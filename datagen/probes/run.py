"""``run_probe``: a probe file run at each scale against one database, then compared.

Everything that can be checked before a database is touched is: the probe
file (JSON Schema, parameters named in each statement), the scenario and its
plan at every scale, each pick's entity and column, SQL for this database.
Then the database is connected to (an unreachable one is one line naming
host and port), and each scale is run in increasing order
(:mod:`datagen.probes.scale`). Ctrl-C stops handing out executions; what
was measured so far is returned (``interrupted``), compared and written.
The reports' folders are checked before any work; the reports are written
last, after ``measured`` (the CLI's summary), and one that can't be written
(a full disk) is noted, never raised: the measurement is not lost for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from datagen.atomic import ensure_writable_folder
from datagen.errors import InputError
from datagen.limits import check_inputs
from datagen.probes import DEFAULT_TARGET
from datagen.probes.compare import compare
from datagen.probes.database import Database, Session
from datagen.probes.html import write_html
from datagen.probes.loader import check_scales, load_probe
from datagen.probes.model import Probe
from datagen.probes.outcome import ProbeResult
from datagen.probes.params import check_pick
from datagen.probes.report import write_json
from datagen.probes.results import ScaleResult
from datagen.probes.runner import Control
from datagen.probes.scale import Settings, plan_runs, run_scale
from datagen.replay.clock import Clock, SystemClock
from datagen.scenarios.loader import load_scenario
from datagen.scenarios.planning import Plan, plan_scenario
from datagen.sinks.urls import is_database_url, redact
from datagen.seeding import choose_seed


def run_probe(
    probe: str | Path | Probe,
    *,
    to: str = DEFAULT_TARGET,  # same as --to
    scales: tuple[float, ...] | None = None,  # same as --scales (default: the file's, else 1)
    seed: int | None = None,  # same as --seed (default: the file's, else the scenario's)
    clients: int = 1,  # same as --clients
    duration: float | None = None,  # same as --duration, in seconds
    retries: int = 5,  # same as --retries
    populate: bool = True,  # False: same as --no-populate
    workers: int | None = None,  # same as --workers (populating)
    report: str | Path | None = None,  # same as --report
    html: str | Path | None = None,  # same as --html
    backoff: float = 0.01,  # seconds before the first retry of a transaction
    clock: Clock | None = None,
    log: Callable[[str], None] | None = None,
    measured: Callable[[ProbeResult], None] | None = None,
) -> ProbeResult:
    """Run ``probe`` at each scale into ``to``; the result, also written to ``report``/``html``.

    ``measured`` is given the result before the reports are written (the CLI
    prints its summary there). A report that can't be written is noted in
    ``file_errors``, not raised: what was measured comes first.
    """
    check_inputs(seed=seed, workers=workers, clients=clients, retries=retries, duration=duration)
    if not is_database_url(to):
        raise InputError(
            f"--to: a probe runs on a database, and {redact(to)!r} is not a database URL",
            hint="give sqlite:///FILE.db, postgresql://USER@HOST/DATABASE or "
            "mysql+pymysql://USER@HOST/DATABASE, for MariaDB too",
        )
    reports = {
        name: Path(path) for name, path in (("report", report), ("html", html)) if path is not None
    }
    for name, path in reports.items():
        _check_writable(path, f"--{name}")
    loaded = probe if isinstance(probe, Probe) else load_probe(probe)
    chosen = check_scales(tuple(scales or loaded.scales or (1.0,)), "--scales")
    if not populate and scales is not None and len(chosen) > 1:
        raise InputError(
            "--no-populate runs on the database as it is, at one scale: give --scales K, "
            "the scale it was populated at"
        )
    database = Database(to)
    if not populate and not database.exists():
        raise InputError(
            f"no {database.label} database at {database.where}",
            hint="populate it first (leave out --no-populate)",
        )
    scenario = load_scenario(loaded.scenario)
    if seed is None:
        seed = loaded.seed if loaded.seed is not None else scenario.seed
    if seed is None:
        seed = choose_seed()
    plans = [plan_scenario(scenario, seed=seed, scale=scale) for scale in chosen]
    for plan in plans:
        _check_picks(loaded, plan)
    control = Control(clock or SystemClock())
    settings = Settings(
        loaded, database, clients, duration, retries, backoff, populate, workers, control,
        log or (lambda line: None), plan_runs(loaded, duration),
    )  # fmt: skip
    session = database.session()  # connect now: an unreachable server fails before any work
    try:
        _check_sql(loaded, database)  # MariaDB or MySQL: known once connected
        if not populate and len(plans) > 1:
            plans = [_populated_scale(session, plans)]
    except BaseException:
        session.close()
        raise
    result = ProbeResult(
        loaded, database.target, database.version, seed, clients, duration, populate
    )
    try:
        for plan in plans:
            scale = ScaleResult(plan.scale)
            result.scales.append(scale)
            run_scale(settings, plan, session, scale)
            if control.interrupted:
                break
    except KeyboardInterrupt as signal:
        control.interrupt(signal)
    finally:
        session.close()
    result.interrupted = control.interrupted
    result.interruption = control.interruption
    result.comparison = compare(
        [scale for scale in result.scales if scale.queries or scale.transactions]
    )
    if measured is not None:
        measured(result)
    writers = {"report": write_json, "html": write_html}
    for name, path in reports.items():
        try:
            writers[name](result, path)
            result.written.append(path)
        except OSError as err:  # a full disk: named by the report's own path, not a temporary
            result.file_errors.append(f"cannot write the {name} {path}: {err.strerror or err}")
    return result


def _check_writable(path: Path, option: str) -> None:
    """Before any work: ``path``'s folder takes a file, and ``path`` is not a folder."""
    if path.is_dir():
        raise InputError(f"{option}: {str(path)!r} is a folder", hint="give a file name")
    ensure_writable_folder(path.parent, option=option)


def _populated_scale(session: Session, plans: list[Plan]) -> Plan:
    """Of the file's scales, the one whose planned rows the database holds (--no-populate)."""
    existing = session.tables()
    for plan in plans:
        if all(t in existing and session.count(t) == n for t, n in plan.counts().items()):
            return plan
    shown = ", ".join(f"{plan.scale:g}" for plan in plans)
    raise InputError(
        f"the database holds {plans[0].scenario.name!r} (seed {plans[0].seed}) at none of the "
        f"probe's scales ({shown})",
        hint="populate it (leave out --no-populate), or give --scales K and --seed it was "
        "populated with",
    )


def _check_sql(probe: Probe, database: Database) -> None:
    """Every statement has SQL for this database (or is skipped on it)."""
    for sql in probe.setup:
        database.text_of(sql)
    for query in probe.queries.values():
        database.text_of(query.sql)
    for transaction in probe.transactions.values():
        for step in transaction.steps:
            database.text_of(step.sql)
    for invariant in probe.invariants.values():
        database.text_of(invariant.sql)


def _check_picks(probe: Probe, plan: Plan) -> None:
    """Each pick names an entity of the scenario, a column of its table, with rows."""
    for item in probe.items():
        for param in item.params.values():
            if param.kind == "pick":
                check_pick(param, plan)
