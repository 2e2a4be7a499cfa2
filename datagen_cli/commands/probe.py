"""The ``probe`` command: a service's queries and claims timed at each scale, with plans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from datagen.limits import CLIENTS, RETRIES, SCALE, SEED
from datagen.probes import DEFAULT_TARGET
from datagen_cli.app import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated, cli
from datagen_cli.options import Bounded, Duration, quiet_option, say, workers_option

MEASURED = "the figures above are what was measured so far."


class Scales(click.ParamType):
    """Comma-separated scales, each within ``limits.SCALE`` (as ``--scale``): ``1,10``."""

    name = "K[,K…]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        parts = [part for part in str(value).split(",") if part.strip()]
        if not parts:
            self.fail(f"{value!r} is not a list of scales such as 1,10", param, ctx)
        try:
            return tuple(SCALE.parse(part) for part in parts)
        except ValueError as err:
            self.fail(str(err), param, ctx)


@cli.command("probe")
@click.argument("probe", type=click.Path(path_type=Path, dir_okay=False), metavar="PROBE.yaml")
@click.option(
    "--to",
    "to",
    default=DEFAULT_TARGET,
    show_default=True,
    help="The database: sqlite:///FILE.db, postgresql://…, mysql+pymysql://… (MariaDB too).",
)
@click.option(
    "--scales",
    type=Scales(),
    default=None,
    help="Scales to populate and measure, e.g. 1,10 (default: the file's 'scales:', else 1).",
)
@click.option(
    "--seed",
    type=Bounded(SEED),
    default=None,
    help="Seed of the population and the parameters (default: the file's, else the scenario's).",
)
@click.option(
    "--clients",
    type=Bounded(CLIENTS),
    default=1,
    show_default=True,
    help="Connections running each query and transaction at once.",
)
@click.option(
    "--duration",
    type=Duration(),
    default=None,
    help="Time each scale runs the queries and transactions, shared by their 'share:' (else "
    "equal parts), in place of their 'repeat:' (e.g. 30s, 5m). Without it, each runs its "
    "'repeat:' times (default 100).",
)
@click.option(
    "--retries",
    type=Bounded(RETRIES),
    default=5,
    show_default=True,
    help="Retries of a transaction after a deadlock, serialization failure or lock timeout.",
)
@click.option(
    "--no-populate",
    is_flag=True,
    help="Use the database as it is (already populated at the one scale given).",
)
@click.option(
    "--report",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write a JSON report (report_version 1).",
)
@click.option(
    "--html",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write an HTML report with latency-versus-scale charts.",
)
@workers_option
@quiet_option
def probe_command(
    probe: Path,
    to: str,
    scales: tuple[float, ...] | None,
    seed: int | None,
    clients: int,
    duration: float | None,
    retries: int,
    no_populate: bool,
    report: Path | None,
    html: Path | None,
    workers: int | None,
    quiet: bool,
) -> None:
    """Time a service's queries and transactions at each scale of a scenario.

    For each scale: populate the probe's scenario (--reset), run its setup
    SQL, refresh the statistics (ANALYZE), then run every query and
    transaction with parameters drawn from the population (the same for the
    same seed), ask the database for each plan (indexes used, tables scanned
    in full), and check the invariants. Then compare the scales: latency
    ratio beside rows ratio, plans that changed, full scans of growing
    tables. Exit 1 if an invariant is violated or a transaction failed, 130
    on Ctrl-C and 143 on SIGTERM (after printing what was measured).

    \b
    Example:
        python generate.py probe probes/resource_claims.yaml \\
            --to mysql+pymysql://root@127.0.0.1/test --scales 1,10
        python generate.py probe probes/prod_like.yaml --to postgresql://postgres@127.0.0.1/test \\
            --clients 8 --duration 30s --report probe.json --html probe.html
        python generate.py probe probes/resource_claims.yaml --to sqlite:///output/res.db \\
            --no-populate
    """
    # numpy and SQLAlchemy: heavy, imported when the command runs, not for the CLI's help
    from datagen.probes import run_probe
    from datagen.probes.report import summary_lines

    result = run_probe(
        probe,
        to=to,
        scales=scales,
        seed=seed,
        clients=clients,
        duration=duration,
        retries=retries,
        populate=not no_populate,
        workers=workers,
        report=report,
        html=html,
        log=None if quiet else (lambda line: click.echo(line, err=True)),
        measured=lambda measured: say("\n".join(summary_lines(measured)), quiet=quiet),
    )
    for path in result.written:
        say(f"Report: {path}", quiet=quiet)
    for problem in result.file_errors:
        click.echo(f"Error: {problem}", err=True)
    if result.interrupted:
        if isinstance(result.interruption, Terminated):
            click.echo(f"Terminated (SIGTERM): {MEASURED}", err=True)
            raise click.exceptions.Exit(EXIT_TERMINATED)
        click.echo(f"Interrupted: {MEASURED}", err=True)
        raise click.exceptions.Exit(EXIT_INTERRUPTED)
    failures = result.failures()
    if failures:
        for line in failures:
            click.echo(f"Failed: {line}", err=True)
        raise click.ClickException(f"{len(failures)} failures (see above)")
    if result.file_errors:
        raise click.exceptions.Exit(1)
