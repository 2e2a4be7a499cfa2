"""The ``populate``, ``verify-target`` and ``report`` commands (scenarios)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, TypeVar

import click

from datagen.errors import InputError
from datagen.limits import SCALE, SEED
from datagen.scenarios import DEFAULT_SCENARIO_DIR
from datagen.sinks.urls import (
    is_database_url,
    is_file_target_url,
    is_postgresql_url,
    is_sqlite_url,
    redact,
)
from datagen_cli.app import AFTER_INTERRUPT, cli
from datagen_cli.options import (
    Bounded,
    Target,
    check_folder_target,
    describe_written,
    progress_bar,
    quiet_option,
    say,
    scheduler_option,
    workers_option,
)

F = TypeVar("F", bound=Callable[..., Any])

scenario_argument = click.argument(
    "scenario", type=click.Path(path_type=Path, dir_okay=False), metavar="SCENARIO.yaml"
)


def seed_option(default: str) -> Callable[[F], F]:
    return click.option(
        "--seed",
        type=Bounded(SEED),
        default=None,
        help=f"Random seed; the same seed gives the same rows. Default: {default}.",
    )


def scale_option(fn: F) -> F:
    return click.option(
        "--scale",
        type=Bounded(SCALE, "SCALE"),
        default=1.0,
        show_default=True,
        help="Multiply every count of the scenario (10 = a ten times larger deployment); "
        f"above 0, at most {SCALE.high:,.0f}.",
    )(fn)


@cli.command("populate")
@scenario_argument
@click.option(
    "--to",
    "-o",
    "to",
    type=Target(),
    default=DEFAULT_SCENARIO_DIR,
    show_default=True,
    help="sqlite:///FILE.db, postgresql://…, mysql+pymysql://… (tables with primary and "
    "foreign keys), a folder (TO/SCENARIO/TABLE/TABLE.jsonl), NAME.zip or azure://….",
)
@seed_option("the scenario's 'seed:', else chosen at random and printed")
@scale_option
@click.option(
    "--reset",
    is_flag=True,
    help="Databases: drop and recreate the scenario's tables first (an empty schema).",
)
@click.option("--dry-run", is_flag=True, help="Print the plan (entities, counts, distributions).")
@workers_option
@scheduler_option
@quiet_option
def populate_command(
    scenario: Path,
    to: Path | str,
    seed: int | None,
    scale: float,
    reset: bool,
    dry_run: bool,
    workers: int | None,
    scheduler: str | None,
    quiet: bool,
) -> None:
    """Build a scenario's population (YAML) and write it to a database or files.

    Entities are built in dependency order; children per parent are drawn
    from the scenario's distributions; the database gets primary and foreign
    keys, so it enforces integrity itself. The same seed gives the same rows,
    whatever --workers or the target. Without --seed the scenario's 'seed:'
    is used (else one is chosen and printed).

    \b
    Example:
        python generate.py populate scenarios/prod_like.yaml --dry-run
        python generate.py populate scenarios/prod_like.yaml --to sqlite:///output/prod.db --reset
        python generate.py populate scenarios/dev/dev.yaml --to postgresql://postgres@127.0.0.1/test
        python generate.py populate scenarios/resource_1k_shared_compute.yaml --scale 10 \\
            --to mysql+pymysql://root@127.0.0.1/test --reset
        python generate.py populate scenarios/prod_like.yaml --scale 100 \\
            --to postgresql://postgres@10.0.0.9/staging --scheduler tcp://10.0.0.5:8786
    """
    # numpy and SQLAlchemy: heavy, imported when the command runs, not for the CLI's help
    from datagen.scenarios.populate import describe_plan, populate, prepare

    meta = click.get_current_context().meta
    if not dry_run:
        check_folder_target(to)
        untouched = left_as_it_was(str(to), cluster=bool(scheduler), reset=reset)
        if untouched:
            meta[AFTER_INTERRUPT] = untouched  # until populate says its rows are written
    plan = prepare(scenario, seed=seed, scale=scale)
    if dry_run:
        click.echo("\n".join(describe_plan(plan)))
        click.echo("Dry run: nothing written.")
        return
    with progress_bar(plan.rows, "row", quiet=quiet) as progress:
        result = populate(
            plan,
            to=str(to),
            reset=reset,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            on_written=lambda: meta.pop(AFTER_INTERRUPT, None),
        )
    say(
        f"Populated {redact(result.target)} with {plan.scenario.name} "
        f"(seed {result.seed}, --scale {scale:g}): {describe_written(result.written)}",
        quiet=quiet,
    )
    report_checks(result.checks, target=redact(result.target), quiet=quiet)


def left_as_it_was(to: str, *, cluster: bool = False, reset: bool = False) -> str | None:
    """What holds when populate into ``to`` is interrupted before its rows are written.

    None where the general words hold (MariaDB commits batch by batch; zip, blobs).
    PostgreSQL written by a cluster's workers: the tables are committed bare (after
    ``--reset``'s drops) before the workers load, and dropped when the run stops.
    """
    if is_file_target_url(to):
        return None
    if not is_database_url(to):
        return (
            "nothing was written: the folder populate was building is removed; run the same "
            "command again to write the population."
        )
    if is_postgresql_url(to) and cluster:
        dropped = (
            "; --reset had dropped the previous ones before the workers loaded" if reset else ""
        )
        return (
            f"the tables this run made are dropped{dropped}; run the same command again with "
            "--reset to write the population (it also drops tables a stopped run left "
            "without keys)."
        )
    if is_postgresql_url(to):
        name, made = "PostgreSQL", ""
    elif is_sqlite_url(to):  # written by this process, with or without a cluster
        name, made = "SQLite", " (a database file it made is removed)"
    else:
        return None
    return (
        f"nothing was written: populate writes {name} in one transaction, rolled "
        f"back{made}; run the same command again to write the population."
    )


def report_checks(results: list[Any], *, target: str, quiet: bool) -> None:
    """Say how the scenario's checks went; ChecksFailed (exit 1) if one found rows."""
    # numpy and SQLAlchemy: heavy, imported when the command runs, not for the CLI's help
    from datagen.scenarios.checks import raise_for

    if not results:
        return
    passed = sum(1 for result in results if result.ok and result.violations is not None)
    skipped = sum(1 for result in results if result.violations is None)
    raise_for(results, target=target)
    say(
        f"Checks: {passed} passed" + (f", {skipped} skipped (no SQL for it)" if skipped else ""),
        quiet=quiet,
    )


@cli.command("verify-target")
@scenario_argument
@click.option(
    "--to",
    "to",
    required=True,
    help="The database to check: sqlite:///FILE.db, postgresql://…, mysql+pymysql://….",
)
@seed_option("the scenario's 'seed:' (one of the two is needed)")
@scale_option
@workers_option
@scheduler_option
@quiet_option
def verify_target_command(
    scenario: Path,
    to: str,
    seed: int | None,
    scale: float,
    workers: int | None,
    scheduler: str | None,
    quiet: bool,
) -> None:
    """Check that a database holds exactly what a scenario produces.

    Compares every table's row count and content digest with those of the
    population the scenario builds with --seed and --scale (nothing is
    written). Exit 0 when identical, 1 with the tables that differ.

    \b
    Example:
        python generate.py verify-target scenarios/prod_like.yaml \\
            --to postgresql://postgres@127.0.0.1/test --seed 7
    """
    # numpy and SQLAlchemy: heavy, imported when the command runs, not for the CLI's help
    from datagen.scenarios.digest import verify_target
    from datagen.scenarios.loader import load_scenario
    from datagen.scenarios.populate import prepare

    if not is_database_url(to):
        raise InputError(f"verify-target checks databases; {redact(to)!r} is not a database URL")
    loaded = load_scenario(scenario)
    if seed is None and loaded.seed is None:
        raise InputError(
            f"{scenario} has no 'seed:': pass --seed N, the seed the population was made with "
            "(populate printed it)"
        )
    plan = prepare(loaded, seed=seed, scale=scale)
    result = verify_target(plan, to, workers=workers, scheduler=scheduler)
    for table in result.tables:
        state = "ok" if table.ok else f"DIFFERS: {table.problem()}"
        say(f"{table.table:<24} {table.expected_rows:>10,} rows  {state}", quiet=quiet)
    if not result.ok:
        names = ", ".join(table.table for table in result.differing)
        raise click.ClickException(
            f"{result.target} does not hold {plan.scenario.name} (seed {plan.seed}, "
            f"--scale {scale:g}): {names} differ"
        )
    # numpy and SQLAlchemy: heavy, imported when the command runs, not for the CLI's help
    from datagen.scenarios.checks import run_checks

    report_checks(run_checks(plan, to), target=result.target, quiet=quiet)
    say(
        f"{result.target} holds exactly {plan.scenario.name} (seed {plan.seed}, "
        f"--scale {scale:g}).",
        quiet=quiet,
    )


@cli.command("report")
@scenario_argument
@click.option(
    "--to",
    "-o",
    "to",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The HTML file to write (default: output/reports/SCENARIO.html).",
)
@seed_option("the scenario's 'seed:', else chosen at random and printed")
@scale_option
@quiet_option
def report_command(
    scenario: Path, to: Path | None, seed: int | None, scale: float, quiet: bool
) -> None:
    """Write a self-contained HTML report of a scenario's population.

    A histogram of every per-parent distribution as planned (e.g. users per
    org) beside the requested distribution, and the table of counts; the
    plots are inline SVG, so the file can be mailed or attached as it is.

    \b
    Example:
        python generate.py report scenarios/prod_like.yaml
        python generate.py report scenarios/prod_like.yaml --seed 7 --scale 10 -o prod.html
    """
    # numpy and SQLAlchemy: heavy, imported when the command runs, not for the CLI's help
    from datagen.scenarios.populate import prepare
    from datagen.scenarios.report import write_report

    plan = prepare(scenario, seed=seed, scale=scale)
    target = to or Path("output/reports") / f"{plan.scenario.name}.html"
    write_report(plan, target)
    say(f"Wrote {target}", quiet=quiet)
