"""The ``replay`` command: journeys performed against a target on their own clock."""

from __future__ import annotations

import re
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import click

from datagen.limits import CONCURRENCY, RETRIES
from datagen_cli.app import cli
from datagen_cli.options import Bounded, Duration, Speed, make_bar, quiet_option, say
from datagen_cli.signals import exit_code, interruptible

if TYPE_CHECKING:  # the replay engine (~35 ms to import): when the command runs
    from datagen.replay.engine import Replayer
    from datagen.replay.report import ReplayReport

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name (RFC 9110)


def parse_headers(values: tuple[str, ...]) -> dict[str, str]:
    """``--header 'Name: value'`` options as a mapping.

    A header that can't be read is named by its position, never by its text:
    a value (and a name run into it, when the colon is missing) may be a secret.
    """
    headers: dict[str, str] = {}
    for number, value in enumerate(values, 1):
        which = f"the {_ordinal(number)} --header" if len(values) > 1 else "the --header"
        name, colon, content = value.partition(":")
        if not colon:
            raise click.BadParameter(
                f"{which} has no ':' between its name and value; write it as "
                "'Name: value', e.g. 'Authorization: Bearer …' (its text is not shown: "
                "it may hold a secret)",
                param_hint="'--header'",
            )
        if not _TOKEN.match(name.strip()):
            raise click.BadParameter(
                f"{which} has no valid name before its ':' (letters, digits and "
                "!#$%&'*+.^_`|~- only, e.g. 'Authorization: Bearer …'; its text is not shown)",
                param_hint="'--header'",
            )
        if any(ord(c) < 32 and c != "\t" for c in content):  # never echo the value
            raise click.BadParameter(
                f"the value of {name.strip()!r} has a line break or control character",
                param_hint="'--header'",
            )
        headers[name.strip()] = content.strip()
    return headers


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def live_line(quiet: bool) -> Any:
    """Says what starts; then a status line on a terminal (steps, rate, lag, errors)."""

    @contextmanager
    def monitor(replayer: Replayer) -> Iterator[None]:
        report = replayer.report
        speed = replayer.options.speed
        pace = "as fast as possible" if speed is None else f"at {speed:g}× speed"
        say(
            f"Replaying {report.journeys:,} journeys ({report.steps_planned:,} steps) "
            f"from {report.source} into {report.target} {pace}",
            quiet=quiet,
        )
        if quiet or not sys.stderr.isatty():
            yield
            return
        finished = threading.Event()
        bar = make_bar(report.steps_planned, "step", quiet=quiet)

        def refresh() -> None:
            while not finished.wait(0.25):
                done = report.steps_written + len(report.failures) + report.skipped
                bar.update(done - bar.n)
                bar.set_postfix_str(
                    f"lag {replayer.last_lag * 1000:.0f} ms, {len(report.failures)} errors, "
                    f"{report.retries} retries",
                    refresh=False,
                )

        thread = threading.Thread(target=refresh, daemon=True)
        thread.start()
        try:
            yield
        finally:
            finished.set()
            thread.join()
            bar.close()

    return monitor


def print_outcome(result: ReplayReport, quiet: bool) -> None:
    outcome = "Interrupted" if result.interrupted else "Replayed"
    say(f"{outcome} into {result.target}: {result.summary_line()}", quiet=quiet)
    if result.report_file is not None:  # written: a full disk is told under Error: below
        say(f"Report: {result.report_file}", quiet=quiet)
    for failure in result.failures[:10]:
        click.echo(
            f"Failed: journey {failure.journey} step {failure.step} "
            f"({failure.document_type}): {failure.error}",
            err=True,
        )
    if len(result.failures) > 10:
        click.echo(f"… and {len(result.failures) - 10} more failed steps", err=True)
    if result.gave_up:
        click.echo(f"Gave up: {result.gave_up}", err=True)
    if result.checkpoint and (result.failures or result.gave_up or not quiet):
        click.echo(
            f"Checkpoint: {result.checkpoint} (continue with --resume {result.checkpoint})",
            err=True,
        )
    for problem in result.file_errors:
        click.echo(f"Error: {problem}", err=True)


@cli.command()
@click.argument("source")
@click.option(
    "--to",
    "to",
    required=True,
    help="sqlite:///FILE.db, postgresql://…, mysql+pymysql://…, azure://CONTAINER/PREFIX, "
    "a folder, or http(s)://HOST/PATH (each document POSTed; {type} is replaced by its type).",
)
@click.option(
    "--speed",
    type=Speed(),
    default="1",
    show_default=True,
    help="How many times faster than the journeys' clock, or 'max': as fast as the target "
    "allows, in schedule order.",
)
@click.option(
    "--ramp-up",
    type=Duration(),
    default=None,
    help="Spread the journeys' starts evenly over this schedule time (e.g. 5m). "
    "Default: they start together (or, with --resume, as in the interrupted replay).",
)
@click.option(
    "--duration", type=Duration(), default=None, help="Stop after this much schedule time."
)
@click.option(
    "--concurrency",
    type=Bounded(CONCURRENCY),
    default=4,
    show_default=True,
    help="Writes in flight at most (SQLite takes one at a time).",
)
@click.option(
    "--header",
    "headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="HTTP targets: a header to send (repeatable). Values are never printed.",
)
@click.option(
    "--retries",
    type=Bounded(RETRIES),
    default=5,
    show_default=True,
    help="Attempts after a transient failure (connection lost, 5xx, deadlock, timeout).",
)
@click.option(
    "--report",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write a JSON report: steps per type, throughput, lag percentiles, failures.",
)
@click.option(
    "--checkpoint",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Where an interrupted or failed replay records the steps it finished. Default: "
    "output/replay-ID.checkpoint.json, ID derived from the journeys and the target.",
)
@click.option(
    "--resume",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Continue the replay of this checkpoint without repeating finished steps.",
)
@quiet_option
def replay(
    source: str,
    to: str,
    speed: float | None,
    ramp_up: float | None,
    duration: float | None,
    concurrency: int,
    headers: tuple[str, ...],
    retries: int,
    report: Path | None,
    checkpoint: Path | None,
    resume: Path | None,
    quiet: bool,
) -> None:
    """Perform journeys' steps against a target, on the journeys' own clock.

    SOURCE is a folder of journey zips (as written by the journey command), one
    zip, or azure://CONTAINER/PREFIX. Each step is performed at its journey's
    start plus its offset, divided by --speed. Every journey is checked before
    anything is written. Writes are idempotent (upserts, overwrites, an
    Idempotency-Key header), so replaying twice leaves the same data. Ctrl-C
    stops cleanly and writes a checkpoint for --resume.

    \b
    Example:
        python generate.py journey -p job_lifecycle -q 100 --seed 7
        python generate.py replay output/journeys --to sqlite:///output/staging.db --speed 60
        python generate.py replay output/journeys --to http://127.0.0.1:8080/api/{type} \\
            --speed max --concurrency 8 --header 'Authorization: Bearer …' --report replay.json
    """
    from datagen.replay import replay as run_replay  # (see TYPE_CHECKING above)

    header_map = parse_headers(headers)
    with interruptible(quiet) as (stop, abandon, received):
        result = run_replay(
            source,
            to=to,
            speed=speed,
            ramp_up=ramp_up,
            duration=duration,
            concurrency=concurrency,
            headers=header_map,
            retries=retries,
            report=report,
            checkpoint=checkpoint,
            resume=resume,
            stop=stop,
            abandon=abandon,
            monitor=live_line(quiet),
        )
    print_outcome(result, quiet)
    if result.interrupted:
        raise click.exceptions.Exit(exit_code(received))
    if result.failures:
        raise click.ClickException(f"{len(result.failures)} steps failed after retries (see above)")
    if result.file_errors:
        raise click.exceptions.Exit(1)
