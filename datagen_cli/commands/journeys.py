"""The ``journey`` command."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from datagen.generator import check_locale
from datagen.journey_generator import DEFAULT_JOURNEYS_DIR, generate_journeys
from datagen.journeys import registry
from datagen.seeding import choose_seed
from datagen.sinks.urls import redact
from datagen_cli.app import cli
from datagen_cli.options import (
    check_folder_target,
    database_options,
    describe_written,
    to_option,
    locale_option,
    progress_bar,
    quantity_option,
    quiet_option,
    reference_date_option,
    say,
    seed_option,
    scheduler_option,
    workers_option,
)


@cli.command()
@click.option(
    "-p",
    "--provider",
    "--journey_provider",
    "provider",
    type=click.Choice(registry.names()),
    required=True,
    help="Journey provider to use.",
)
@quantity_option("journeys")
@to_option(DEFAULT_JOURNEYS_DIR, "JOURNEY")
@seed_option
@locale_option
@workers_option
@scheduler_option
@reference_date_option
@database_options
@quiet_option
def journey(
    provider: str,
    quantity: int,
    to: Path | str,
    seed: int | None,
    locale: str,
    workers: int | None,
    scheduler: str | None,
    reference_date: datetime,
    reset: bool,
    foreign_keys: bool,
    quiet: bool,
) -> None:
    """Generate user journeys: timed sequences of documents, one zip each.

    Writes TO/JOURNEY/ (default output/journeys/JOURNEY/): per journey a zip of
    its step documents plus metadata.json, the same metadata beside the zip,
    and a manifest.json that 'verify' uses.

    \b
    Example:
        python generate.py journey -p job_lifecycle -q 10 --seed 7
        python generate.py journey --output_path ./my_dir --journey_provider starfleet
    """
    check_locale(locale)
    check_folder_target(to)
    if seed is None:
        seed = choose_seed()
        say(f"Seed: {seed} (chosen; pass --seed {seed} to reproduce)", quiet=quiet, err=True)
    with progress_bar(quantity, "journey", quiet=quiet) as progress:
        result = generate_journeys(
            journey=provider,
            quantity=quantity,
            seed=seed,
            to=to,
            locale=locale,
            workers=workers,
            reference_date=reference_date,
            reset=reset,
            foreign_keys=foreign_keys,
            scheduler=scheduler,
            progress=progress,
        )
    say(
        f"Wrote {result.counts['journeys']} {provider} journeys "
        f"({result.counts['steps']} steps, seed {result.seed}) to {redact(str(result.path))}",
        quiet=quiet,
    )
    if result.written:
        say(f"Written: {describe_written(result.written)}", quiet=quiet)
