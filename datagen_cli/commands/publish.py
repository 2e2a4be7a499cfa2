"""The ``publish`` command."""

from __future__ import annotations

from pathlib import Path

import click

from datagen.sinks.urls import redact
from datagen_cli.app import cli
from datagen_cli.options import database_options, describe_written
from datagen_cli.options import Target, progress_bar, quiet_option, say


@cli.command()
@click.argument("source", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--to",
    "to",
    type=Target(),
    required=True,
    help="sqlite:///FILE.db, postgresql://…, mysql+pymysql://…, azure://CONTAINER/PREFIX "
    "(connection from AZURE_STORAGE_CONNECTION_STRING), a container URL with "
    "BLOB_SAS_TOKEN, NAME.zip, or a folder.",
)
@database_options
@quiet_option
def publish(source: Path, to: Path | str, reset: bool, foreign_keys: bool, quiet: bool) -> None:
    """Publish generated runs (documents, journeys) to a database, blobs or a zip.

    SOURCE is a run folder (holding manifest.json) or a folder of runs.
    Every run's files are first checked against its manifest (SHA-256): a
    run changed or cut short is refused and nothing is written. Databases get
    a table per document type, upserted on the key (publishing twice leaves
    the same rows); journey steps go to their document type's table with
    journey_id and step_index. Blob containers, zips and folders get each
    run's manifest and the files it lists, as they are (blobs overwritten by
    name; an existing NAME.zip is replaced only if publish wrote it).

    \b
    Example:
        python generate.py publish output/documents --to sqlite:///output/dev.db
        python generate.py publish output/journeys --to postgresql://postgres@127.0.0.1/test
        python generate.py publish output --to azure://staging/generated
    """
    # the publisher (with replay's targets, ~35 ms to import): when the command runs
    from datagen.publish import check_target_outside, planned
    from datagen.publish import publish as publish_runs

    check_target_outside(source, to)
    total, unit = planned(source, str(to))
    with progress_bar(total, unit, quiet=quiet) as progress:
        summary = publish_runs(
            source, to=str(to), reset=reset, foreign_keys=foreign_keys, progress=progress
        )
    say(f"Published to {redact(str(to))}: {describe_written(summary.written)}", quiet=quiet)
