"""The ``journey`` command."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from datagen.atomic import ensure_writable_folder
from datagen.generator import check_locale
from datagen.journey_run import DEFAULT_JOURNEYS_DIR, generate_journeys
from datagen.journeys import registry
from datagen.seeding import choose_seed
from datagen_cli.app import cli
from datagen_cli.options import (
    locale_option,
    progress_bar,
    quantity_option,
    quiet_option,
    reference_date_option,
    say,
    seed_option,
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
@click.option(
    "--to",
    "-o",
    "--output_path",
    "to",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_JOURNEYS_DIR,
    show_default=True,
    help="Folder to write to; the run goes to TO/JOURNEY/.",
)
@seed_option
@locale_option
@workers_option
@reference_date_option
@quiet_option
def journey(
    provider: str,
    quantity: int,
    to: Path,
    seed: int | None,
    locale: str,
    workers: int | None,
    reference_date: datetime,
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
    ensure_writable_folder(to)
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
            progress=progress,
        )
    say(
        f"Wrote {result.counts['journeys']} {provider} journeys "
        f"({result.counts['steps']} steps, seed {result.seed}) to {result.path}",
        quiet=quiet,
    )
