"""The ``document`` command."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from datagen.documents import registry
from datagen.formats import FORMATS
from datagen.seeding import choose_seed
from datagen.limits import QUANTITY
from datagen.generator import DEFAULT_DOCUMENTS_DIR, generate_documents, validate_document_options
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


def parse_refs(values: tuple[str, ...]) -> dict[str, int]:
    """``--refs PROVIDER=COUNT`` options; COUNT has the bound of ``--quantity``."""
    refs: dict[str, int] = {}
    for value in values:
        name, equals, count = value.partition("=")
        if not equals:
            raise click.BadParameter(
                f"{value[:40]!r} should be PROVIDER=COUNT, e.g. org=1000", param_hint="'--refs'"
            )
        try:
            number = int(QUANTITY.parse(count))
        except ValueError as err:
            raise click.BadParameter(f"{name}=COUNT: {err}", param_hint="'--refs'") from None
        registry.get(name)
        refs[name] = number
    return refs


@cli.command()
@click.option(
    "-p",
    "--provider",
    "--document_provider",
    "provider",
    type=click.Choice(registry.names()),
    required=True,
    help="Document provider to use.",
)
@quantity_option("documents")
@to_option(DEFAULT_DOCUMENTS_DIR, "PROVIDER")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="json",
    show_default=True,
    help="json: one file per document; jsonl: one line each; csv: flattened columns.",
)
@seed_option
@locale_option
@workers_option
@scheduler_option
@reference_date_option
@click.option(
    "--refs",
    multiple=True,
    metavar="PROVIDER=COUNT",
    help="How many entities a reference field picks from (default: --quantity), "
    "e.g. --refs org=1000 so that user.org_id matches 'document -p org -q 1000' "
    "with the same seed.",
)
@database_options
@quiet_option
def document(
    provider: str,
    quantity: int,
    to: Path | str,
    fmt: str,
    seed: int | None,
    locale: str,
    workers: int | None,
    scheduler: str | None,
    reference_date: datetime,
    refs: tuple[str, ...],
    reset: bool,
    foreign_keys: bool,
    quiet: bool,
) -> None:
    """Generate documents from a document provider's Mimesis schema.

    Writes TO/PROVIDER/ (default output/documents/PROVIDER/): the documents
    and a manifest.json that 'verify' uses to check them.

    \b
    Example:
        python generate.py document -p org -q 1000 --seed 7
        python generate.py document -p user -q 5000 --format jsonl --refs org=1000
        python generate.py document -o ./my_dir --document_provider starfleet_application -q 10
        python generate.py document -p org -q 1000000 --scheduler tcp://10.0.0.5:8786
    """
    validate_document_options(
        provider=provider, quantity=quantity, fmt=fmt, locale=locale, workers=workers
    )
    ref_counts = parse_refs(refs)
    check_folder_target(to)
    if seed is None:
        seed = choose_seed()
        say(f"Seed: {seed} (chosen; pass --seed {seed} to reproduce)", quiet=quiet, err=True)
    with progress_bar(quantity, "doc", quiet=quiet) as progress:
        result = generate_documents(
            provider=provider,
            quantity=quantity,
            seed=seed,
            to=to,
            fmt=fmt,
            locale=locale,
            workers=workers,
            ref_counts=ref_counts,
            reference_date=reference_date,
            reset=reset,
            foreign_keys=foreign_keys,
            scheduler=scheduler,
            progress=progress,
        )
    say(
        f"Wrote {quantity} {provider} documents ({fmt}, seed {result.seed}) "
        f"to {redact(str(result.path))}",
        quiet=quiet,
    )
    if result.written:
        say(f"Written: {describe_written(result.written)}", quiet=quiet)
