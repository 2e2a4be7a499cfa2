"""Uploading a folder as blobs; ``python -m datagen.sinks.azure_upload FOLDER``.

The URL and token come from the environment (``BLOB_CONTAINER_URL``,
``BLOB_SAS_TOKEN``): ``make azcopy_output`` (``scripts/azcopy_output.sh``) runs
this when azcopy is not installed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence


from datagen.errors import InputError, SinkError
from datagen.sinks.base import Summary
from datagen.sinks.urls import CONTAINER_URL_ENV
from datagen.types import Progress

from datagen.sinks.azure_client import open_blob_writer


def folder_files(folder: Path) -> Iterator[tuple[Path, str]]:
    """Files under ``folder`` and their relative POSIX names, skipping hidden ones.

    Hidden entries are ``.gitkeep`` and the ``.NAME.partial-*`` folders of an
    interrupted run, which are not data.
    """
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(root) / name
            if path.is_file():
                yield path, path.relative_to(folder).as_posix()


def upload_folder(
    folder: Path | str,
    url: str,
    *,
    env: Mapping[str, str] | None = None,
    retry_total: int = 4,
    files: Iterable[tuple[Path, str]] | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Upload ``files`` (``(path, name)``; default: every file under ``folder``) to ``url``.

    Blob names are ``PREFIX/name`` (by default the file's path under ``folder``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            f"{str(folder)!r} is not a folder",
            hint="generate data first (e.g. make demo), or name the folder to upload",
        )
    writer = open_blob_writer(url, env=env, retry_total=retry_total)
    with writer:
        for path, name in folder_files(folder) if files is None else files:
            if progress:
                progress(1)
            writer.add_file(path, name, block=writer.BLOCK_SIZE)
        writer.commit()
    return writer.summary


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m datagen.sinks.azure_upload FOLDER``: upload to $BLOB_CONTAINER_URL.

    The URL and token come from the environment (not the command line, where
    other users could see them in the process list).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    folder = Path(args[0] if args else "output")
    url = os.environ.get(CONTAINER_URL_ENV, "").strip()
    try:
        if not url:
            raise InputError(
                f"{CONTAINER_URL_ENV} is not set",
                hint=f"export {CONTAINER_URL_ENV}=https://ACCOUNT.blob.core.windows.net/CONTAINER",
            )
        summary = upload_folder(folder, url)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except SinkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    blobs = sum(summary.written.values())
    containers = ", ".join(f"{name!r}" for name in summary.written) or "(none)"
    print(f"{blobs} files from {folder} → container {containers} at {summary.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
