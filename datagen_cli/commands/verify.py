"""The ``verify`` command."""

from __future__ import annotations

from pathlib import Path

import click

from datagen.manifest import read_manifest
from datagen.run_files import find_runs
from datagen_cli.app import cli
from datagen.engines import using
from datagen_cli.options import progress_bar, say, scheduler_option, workers_option


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
@workers_option
@scheduler_option
@click.option("--quiet", is_flag=True, help="Print only differences.")
def verify(folder: Path, workers: int | None, scheduler: str | None, quiet: bool) -> None:
    """Regenerate a run from its manifest and check the files are identical.

    FOLDER is a run folder (holding manifest.json) or a folder of runs.
    Exit 0 when every file is exactly what the recorded seed produces, 1
    when any file was changed, is missing, or was added.

    \b
    Example:
        python generate.py document -p org -q 100 --seed 7
        python generate.py verify output/documents/org
    """
    runs = find_runs(folder)
    with using(scheduler, workers=workers):  # one connection for every run
        failed = _verify_runs(runs, workers=workers, quiet=quiet)
    if failed:
        raise SystemExit(1)


def _verify_runs(runs: list[Path], *, workers: int | None, quiet: bool) -> bool:
    # Every producer, with numpy and SQLAlchemy behind scenarios: imported when verify runs.
    from datagen.verify import verify_run

    failed = False
    for run in runs:
        manifest = read_manifest(run)
        scenario = manifest.kind == "scenario"  # regenerates every table of its population
        total, unit = (None, "row") if scenario else (manifest.quantity, manifest.kind[:-1])
        with progress_bar(total, unit, quiet=quiet) as progress:
            result = verify_run(run, workers=workers, progress=progress)
        m = result.manifest
        note = f"; {result.version_note}" if result.version_note else ""
        if result.ok:
            say(
                f"OK {run}: {m.quantity} {m.provider} {m.kind} match seed {m.seed}{note}",
                quiet=quiet,
            )
            continue
        failed = True
        parts = [
            f"{label}: {', '.join(names[:10])}{' …' if len(names) > 10 else ''}"
            for label, names in (
                ("changed", result.changed),
                ("missing", result.missing),
                ("extra", result.extra),
            )
            if names
        ]
        click.echo(f"DIFFERS {run}: {'; '.join(parts)}{note}")
    return failed
