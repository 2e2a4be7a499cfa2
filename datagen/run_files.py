"""Runs on disk, checked before any of their files is published anywhere.

A run is a folder holding ``manifest.json`` and the files it lists with
their SHA-256. ``publish`` first reads every manifest under SOURCE (its
provider known, its inputs within bounds), then checks every run: each
listed file is there with the listed SHA-256, and, for a database, each
journey zip is a valid journey (the checks ``replay`` makes, zip bombs
included). Only when every run passed is anything written, to a folder, a
zip, a blob container or a database alike: a run cut short (a truncated
line), changed by hand, or left half-made by ``kill -9`` is refused whole,
and nothing of the other runs is written either.

File targets get exactly a run's files: its manifest and the files it lists
(not the other files of SOURCE, such as ``output/*.db``, nor hidden ones).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from datagen.atomic import LEFTOVER, hidden, sha256_file
from datagen.errors import InputError, ManifestError
from datagen.manifest import MANIFEST_NAME, Manifest, read_manifest

DATABASE_FORMATS = ("json", "jsonl")
"""Formats whose documents keep their types (``csv`` does not)."""


@dataclass(frozen=True)
class Run:
    """A run folder and its manifest."""

    path: Path
    manifest: Manifest

    def files(self) -> list[tuple[Path, str]]:
        """``(path, name in the run)`` of the manifest and of every file it lists, sorted."""
        names = [MANIFEST_NAME, *sorted(self.manifest.files)]
        return [(self.path / name, name) for name in names]

    @property
    def records(self) -> int:
        """How many records a database gets from this run (documents, rows or journey steps)."""
        if self.manifest.kind == "journeys":
            return int(self.manifest.counts.get("steps", 0))
        return self.manifest.quantity


def load_runs(source: Path) -> list[Run]:
    """Every run under ``source`` with its manifest (ManifestError for the first bad one).

    A run's temporary folder (``.datagen-partial-NAME-*``, of a run that did not finish)
    is not a run, even when named as SOURCE; a user's hidden folder (``.backup.old``) may
    hold runs.
    """
    for part in source.resolve().parts:
        if LEFTOVER.match(part):
            raise InputError(
                f"{source} is the temporary folder of a run that did not finish; it is "
                "never published",
                hint="generate the run again (the next run into its folder removes it)",
            )
    return [Run(path, read_manifest(path)) for path in find_runs(source)]


def find_runs(path: Path) -> list[Path]:
    """``path`` itself if it holds a manifest, else the folders below it that do.

    Hidden folders (an interrupted run's ``.datagen-partial-NAME-*``) are not runs
    (:func:`datagen.atomic.hidden`).
    """
    if (path / MANIFEST_NAME).is_file():
        return [path]
    if path.is_dir():
        runs = sorted(
            p.parent for p in path.rglob(MANIFEST_NAME) if not hidden(p.relative_to(path))
        )
        if runs:
            return runs
    raise ManifestError(
        f"no {MANIFEST_NAME} in {path} or its subfolders",
        hint="point at a folder written by 'generate.py document' or 'journey'",
    )


def check_runs(runs: list[Run], *, database: bool) -> None:
    """Refuse (InputError) if any run is not exactly what its manifest says.

    ``database``: the runs go to a database, so their format must keep types
    and their journey zips must be valid journeys. Nothing is written here;
    every run is checked before the first is published.
    """
    if database:
        for run in runs:
            if run.manifest.format not in (*DATABASE_FORMATS, "zip"):
                raise InputError(
                    f"{run.path}: publishing {run.manifest.format} runs to a database is not "
                    "supported; nothing was written",
                    hint="regenerate with --format jsonl (csv loses the types), or publish "
                    "the other runs on their own",
                )
    for run in runs:
        check_files(run, journeys=database and run.manifest.kind == "journeys")


def check_files(run: Run, *, journeys: bool = False) -> None:
    """Each file ``run``'s manifest lists is there with its SHA-256 (InputError otherwise).

    ``journeys``: each zip is also read as a journey, with replay's checks.
    """
    # replay's package loads its engine (tenacity…, ~35 ms): not when a command only lists runs
    from datagen.replay.source import read_journey, read_zip_file

    for name, expected in sorted(run.manifest.files.items()):
        path = run.path / name
        if not path.is_file():
            raise InputError(
                f"{path} is listed in {run.path / MANIFEST_NAME} but missing: the run is "
                "incomplete; nothing was published",
                hint="generate the run again",
            )
        data: bytes | None = None
        if journeys and name.endswith(".zip"):
            data = read_zip_file(path)
            digest = hashlib.sha256(data).hexdigest()
        else:
            digest = sha256_file(path)
        if digest != expected:
            raise InputError(
                f"{path} does not match its manifest (SHA-256 differs): the run was changed "
                "or cut short; nothing was published",
                hint=f"generate it again; 'python generate.py verify {run.path}' lists every "
                "file that differs",
            )
        if data is not None:
            read_journey(str(path), data)


def check_destinations(runs: list[Run], source: Path, target: Path) -> None:
    """A folder target must not receive a run onto itself or into a run (InputError)."""
    source = source.resolve()
    for run in runs:
        path = run.path.resolve()
        destination = (target / destination_name(run, source)).resolve()
        if destination == path or path in destination.parents or destination in path.parents:
            raise InputError(
                f"publishing {run.path} to {target} would copy the run onto itself "
                f"({destination})",
                hint="choose a target folder outside the runs",
            )


def destination_name(run: Run, source: Path) -> Path:
    """Where a run goes under a file target: its path under SOURCE (its name if it is SOURCE)."""
    path, source = run.path.resolve(), source.resolve()
    return Path(path.name) if path == source else path.relative_to(source)
