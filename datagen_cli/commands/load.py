"""The ``load`` command: a workload's concurrent writers against a database, measured."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from datagen_cli.app import cli
from datagen.limits import RETRIES, RUNS_PER_HOUR, SEED
from datagen.sinks.urls import parse_database_url
from datagen_cli.options import Bounded, Duration, Speed, quiet_option, say
from datagen_cli.signals import exit_code, interruptible

if TYPE_CHECKING:  # the machinery (SQLAlchemy, numpy) is imported when the command runs
    from datagen.workloads.report import LoadReport
    from datagen.workloads.planning import LoadPlan


def services_list(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise click.BadParameter("name at least one service or writer", ctx, param)
    return names


class LiveLines:
    """A line per writer on a terminal (rate achieved vs requested, p50/p99, errors)."""

    def __init__(self, quiet: bool, speed: float | None) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.speed = speed
        self.bars: dict[str, Any] = {}
        self.requested: dict[str, float | None] = {}
        self.began = 0.0

    def start(self, plan: LoadPlan) -> None:
        self.began = time.monotonic()
        if not self.enabled:
            return
        from tqdm import tqdm  # (~7 ms to import) only for a terminal's lines

        for position, writer in enumerate(plan.plans):
            self.bars[writer.name] = tqdm(
                total=writer.transactions_planned(),
                desc=f"{writer.name[:20]:<20}",
                unit="tx",
                position=position,
                file=sys.stderr,
                leave=False,
                bar_format="{desc} {n_fmt}/{total_fmt} tx{postfix}",
            )
            scheduled = None if self.speed is None else plan.duration / self.speed
            self.requested[writer.name] = (
                writer.transactions_planned() / scheduled if scheduled else None
            )

    def update(self, latest: dict[str, dict[str, Any]]) -> None:
        elapsed = max(time.monotonic() - self.began, 1e-9)
        for name, data in latest.items():
            bar = self.bars.get(name)
            if bar is None:
                continue
            bar.update(data["transactions"] - bar.n)
            requested = self.requested.get(name)
            rate = data["transactions"] / elapsed
            of = f" of {requested:,.1f}/s" if requested is not None else ""
            bar.set_postfix_str(
                f"{rate:,.1f}/s{of}, p50 {data['p50_ms']:.1f} ms, p99 {data['p99_ms']:.1f} ms, "
                f"{data['failed']} errors, {data['retries']} retries",
                refresh=True,
            )

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def print_report(result: LoadReport, quiet: bool) -> None:
    outcome = "Interrupted" if result.interrupted else "Loaded"
    pace = "as fast as possible" if result.speed is None else f"at {result.speed:g}× speed"
    say(
        f"{outcome}: {result.workload} into {result.target} (seed {result.seed}) {pace}, "
        f"{result.duration:g} s of schedule in {result.elapsed:.1f} s",
        quiet=quiet,
    )
    for line in result.table():
        say(line, quiet=quiet)
    for line in result.after_lines():
        say(line, quiet=quiet)
    for note in dict.fromkeys(result.notes):
        say(f"Note: {note}", quiet=quiet)
    for line in result.problems():
        click.echo(line, err=True)
    check = result.check
    if check is not None:
        if check.ok:
            tables = ", ".join(f"{t} ({what})" for t, what in check.tables.items())
            say(f"Check: nothing lost: {tables or 'no table checked'}", quiet=quiet)
        else:
            for difference in check.differences:
                click.echo(f"Lost update: {difference.describe()}", err=True)
            if check.differences_total > len(check.differences):
                click.echo(
                    f"… and {check.differences_total - len(check.differences)} more", err=True
                )
            for table, (want, got) in check.counts.items():
                if want != got:
                    click.echo(
                        f"Lost inserts: {table} has {got:,} rows, the writes make {want:,}",
                        err=True,
                    )
    for what, path in result.written.items():  # one not written (a full disk): under Error:
        say(f"{what}: {path}", quiet=quiet)
    for problem in result.file_errors:
        click.echo(f"Error: {problem}", err=True)


@cli.command("load")
@click.argument(
    "workload", type=click.Path(path_type=Path, dir_okay=False), metavar="WORKLOAD.yaml"
)
@click.option(
    "--to",
    "to",
    default=None,
    help="The database: sqlite:///FILE.db, postgresql://…, mysql+pymysql://… (required "
    "unless --dry-run).",
)
@click.option(
    "--seed",
    type=Bounded(SEED),
    default=None,
    help="Same seed, same writes (values and intended times). Default: the file's 'seed:'.",
)
@click.option(
    "--services",
    callback=services_list,
    default=None,
    metavar="NAME,…",
    help="The services (or writers) that run, e.g. media_library,aggregations. "
    "Default: the file's 'services:', else every writer.",
)
@click.option(
    "--runs_per_hour",
    "--runs-per-hour",
    "runs_per_hour",
    type=Bounded(RUNS_PER_HOUR, "FLOAT"),
    default=None,
    help="Runs per hour of the batch writers without their own 'every:' "
    "(the simulated utc_date advances every runs_per_hour × 24 runs).",
)
@click.option(
    "--duration",
    type=Duration(),
    default=None,
    help="Schedule time to run, e.g. 5m, 1h (default: the file's 'duration:', else 1h).",
)
@click.option(
    "--speed",
    type=Speed(),
    default="1",
    show_default=True,
    help="How many times faster than the schedule, or 'max': no waits, as fast as the "
    "database allows.",
)
@click.option(
    "--reset",
    is_flag=True,
    help="Drop and create the workload's tables and views first (else they must exist).",
)
@click.option(
    "--dry-run", is_flag=True, help="Print the schedule (writers, rates, totals); write nothing."
)
@click.option(
    "--retries",
    type=Bounded(RETRIES),
    default=5,
    show_default=True,
    help="Attempts after a deadlock, serialization failure, lock timeout or lost connection.",
)
@click.option(
    "--check/--no-check",
    default=True,
    show_default=True,
    help="At the end, check that the database holds the merge of every write.",
)
@click.option(
    "--report",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the report as JSON (report_version 1).",
)
@click.option(
    "--html",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write an HTML page: the table, throughput and latency over time per writer.",
)
@quiet_option
def load_command(
    workload: Path,
    to: str | None,
    seed: int | None,
    services: list[str] | None,
    runs_per_hour: float | None,
    duration: float | None,
    speed: float | None,
    reset: bool,
    dry_run: bool,
    retries: int,
    check: bool,
    report: Path | None,
    html: Path | None,
    quiet: bool,
) -> None:
    """Run a workload's writers (YAML) at the same time against a database, and measure.

    Each writer runs in its own process with its own connections, on the
    workload's clock: every transaction has an intended time, and its latency
    counts from that time (a write that could not start on time counts its
    wait). At the end a table per writer, and a check that the database holds
    the merge of every write (a lost update exits 1). Ctrl-C stops the writers
    and prints the partial report (exit 130).

    \b
    Example:
        python generate.py load workloads/usage.yaml --dry-run
        python generate.py load workloads/usage.yaml \\
            --to postgresql://postgres@127.0.0.1/test --reset --duration 1h --speed 60
        python generate.py load workloads/usage.yaml --services media_library,aggregations \\
            --runs_per_hour 4 --to mysql+pymysql://root@127.0.0.1/test --reset
        python generate.py load workloads/usage.yaml --to sqlite:///output/usage.db --reset \\
            --speed max --duration 5m --report load.json --html load.html
    """
    # numpy and SQLAlchemy: heavy, imported when the command runs, not for the CLI's help
    from datagen.workloads import describe_plan, load, plan_load
    from datagen.workloads.database import DIALECTS

    options: dict[str, Any] = {"seed": seed, "services": services, "runs_per_hour": runs_per_hour}
    if dry_run:
        dialect = None
        if to is not None:
            dialect = DIALECTS[parse_database_url(to)[0]]
        plan = plan_load(workload, duration=duration, **options)
        click.echo("\n".join(describe_plan(plan, dialect)))
        click.echo("Dry run: nothing written.")
        return
    if to is None:
        raise click.UsageError("--to is required (or use --dry-run)")
    live = LiveLines(quiet, speed)
    with interruptible(quiet) as (stop, _abandon, received):
        try:
            result = load(
                workload,
                to=to,
                duration=duration,
                speed=speed,
                reset=reset,
                retries=retries,
                check=check,
                report=report,
                html=html,
                stop=stop,
                status=live.update,
                on_start=_started(live, quiet, speed),
                **options,
            )
        finally:
            live.close()
    print_report(result, quiet)
    if result.interrupted:
        raise click.exceptions.Exit(exit_code(received))
    if result.check is not None and not result.check.ok:
        raise click.ClickException(
            f"the database does not hold what the workload wrote: "
            f"{result.check.lost_updates()} lost updates (see above)"
        )
    if result.failed:
        raise click.ClickException(f"{result.failed} transactions failed after retries")
    if result.file_errors:
        raise click.exceptions.Exit(1)


def _started(live: LiveLines, quiet: bool, speed: float | None) -> Callable[[LoadPlan], None]:
    def started(plan: LoadPlan) -> None:
        pace = "as fast as possible" if speed is None else f"at {speed:g}× speed"
        names = ", ".join(p.name for p in plan.plans)
        say(f"Loading {plan.workload.name} (seed {plan.seed}) {pace}: {names}", quiet=quiet)
        live.start(plan)

    return started
