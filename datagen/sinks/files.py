"""File targets: a run's files hashed, written to a folder being built, copied, or zipped.

Each is a :class:`datagen.sinks.base.Target` that takes a file's bytes
(``add(chunk)``, ``add_file(path, name)``); blobs are the other file target
(:mod:`datagen.sinks.azure`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from contextlib import ExitStack
from pathlib import Path
from typing import IO, BinaryIO, Sequence

from datagen.atomic import atomic_file, ensure_writable_folder, naming
from datagen.errors import InputError
from datagen.formats import ZIP_EPOCH, Chunk
from datagen.sinks.base import Summary, TableSpec, Target

ZIP_COMMENT = b"datagen publish"
"""Marks the zips ``publish`` writes: an existing file is replaced only if it is one."""

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)


class ChunkSink(Target):
    """Receives chunks in order and keeps a SHA-256 per file (``verify`` regenerates into it)."""

    def __init__(self) -> None:
        self.hashes: dict[str, "hashlib._Hash"] = {}
        self.summary = Summary(target="")

    def add(self, chunk: Chunk) -> None:
        digest = self.hashes.get(chunk.path)
        if digest is None:
            digest = self.hashes[chunk.path] = hashlib.sha256()
        digest.update(chunk.data)

    def commit(self) -> None:
        """Flush and close any open file."""

    def close(self) -> Summary:
        self.commit()
        return self.summary

    def digests(self) -> dict[str, str]:
        return {path: digest.hexdigest() for path, digest in sorted(self.hashes.items())}


class FolderWriter(ChunkSink):
    """Writes chunks as files under ``root`` (a folder being built atomically).

    Files are written by the caller's thread: measured here, writer threads
    only add contention (file creation is serialised by the file system).
    """

    def __init__(self, root: Path):
        super().__init__()
        self.root = root
        self.summary = Summary(target=str(root))
        self._prefix = f"{root}{os.sep}"
        self._open: dict[str, BinaryIO] = {}

    def add(self, chunk: Chunk) -> None:
        super().add(chunk)
        if chunk.whole:
            path = self._prefix + chunk.path
            fd = os.open(path, _CREATE, 0o666)
            try:
                written = os.write(fd, chunk.data)
                if written < len(chunk.data):  # only a short write of a huge chunk: finish it
                    with open(fd, "wb", closefd=False) as rest:
                        rest.write(memoryview(chunk.data)[written:])
            except OSError as err:
                raise OSError(err.errno, err.strerror, path) from None
            finally:
                os.close(fd)
            return
        handle = self._open.get(chunk.path)
        if handle is None:
            handle = self._open[chunk.path] = open(self.root / chunk.path, "wb")
        with naming(self.root / chunk.path):
            handle.write(chunk.data)

    def abort(self) -> None:
        self.commit()  # the files are closed; the folder being built is the caller's to drop

    def commit(self) -> None:
        handles, self._open = self._open, {}
        try:
            for path, handle in handles.items():
                with naming(self.root / path):
                    handle.close()
        finally:
            for handle in handles.values():
                handle.close()


class FolderTarget(Target):
    """Files copied under ``root``, each through a temporary name (never a half-copied file).

    The folder's leftovers of killed runs are swept once per folder written to.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.summary = Summary(target=str(root))
        self._swept: set[Path] = set()

    def prepare(self, tables: Sequence[TableSpec] = (), *, reset: bool = False) -> None:
        ensure_writable_folder(self.root)

    def add(self, chunk: Chunk) -> None:
        if not chunk.whole:
            raise TypeError("FolderTarget takes whole files: stream big ones with add_file")
        target = self.root / chunk.path
        with atomic_file(target, sweep=self._sweep(target)) as handle:
            handle.write(chunk.data)

    def add_file(self, path: Path, name: str, *, block: int = 1 << 20) -> None:
        target = self.root / name
        copy_file(path, target, sweep=self._sweep(target))

    def _sweep(self, target: Path) -> bool:
        first = target.parent not in self._swept
        self._swept.add(target.parent)
        return first


def copy_file(source: Path, target: Path, *, sweep: bool = True) -> None:
    """Copy ``source`` to ``target`` through a temporary name (never a half-copied file)."""
    with open(source, "rb") as src, atomic_file(target, sweep=sweep) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    shutil.copymode(source, target)


def check_zip_target(target: Path) -> None:
    """Refuse to replace ``target`` unless it is a zip that publish wrote (InputError)."""
    if target.is_dir():
        raise InputError(f"{target} is a folder, not a zip file", hint="choose NAME.zip")
    if not target.exists():
        return
    try:
        with zipfile.ZipFile(target) as archive:
            ours = archive.comment == ZIP_COMMENT
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        ours = False
    if not ours:
        raise InputError(
            f"{target} exists and is not a zip of runs written by publish; it is left as it is",
            hint="remove it first, or choose another name",
        )


class ZipTarget(Target):
    """Files stored (not compressed) in the zip ``path``, built under a temporary name.

    ``commit()`` renames it into place; ``abort()`` (or ``close()`` before
    ``commit()``) removes the temporary file: never a half-written zip.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.summary = Summary(target=str(path))
        self._stack: ExitStack | None = None
        self._archive: zipfile.ZipFile | None = None
        self._entry: tuple[str, IO[bytes]] | None = None
        self._files = 0

    def prepare(self, tables: Sequence[TableSpec] = (), *, reset: bool = False) -> None:
        if self._stack is not None:
            return
        with ExitStack() as stack:
            handle = stack.enter_context(atomic_file(self.path))
            self._archive = zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED)
            self._archive.comment = ZIP_COMMENT
            self._stack = stack.pop_all()

    def _open_entry(self, name: str) -> IO[bytes]:
        self._close_entry()
        self.prepare()
        assert self._archive is not None
        info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
        info.create_system, info.external_attr = 3, 0o644 << 16
        entry = self._archive.open(info, "w", force_zip64=True)
        self._entry = (name, entry)
        self._files += 1
        return entry

    def _close_entry(self) -> None:
        if self._entry is not None:
            entry, self._entry = self._entry[1], None
            entry.close()

    def add(self, chunk: Chunk) -> None:
        if self._entry is not None and self._entry[0] == chunk.path:
            entry = self._entry[1]
        else:
            entry = self._open_entry(chunk.path)
        entry.write(chunk.data)
        if chunk.whole:
            self._close_entry()

    def add_file(self, path: Path, name: str, *, block: int = 1 << 20) -> None:
        entry = self._open_entry(name)
        with open(path, "rb") as src:
            shutil.copyfileobj(src, entry, block)
        self._close_entry()

    def commit(self) -> None:
        self.prepare()  # (an empty zip is still a zip)
        assert self._archive is not None and self._stack is not None
        self._close_entry()
        self._archive.close()
        stack, self._stack, self._archive = self._stack, None, None
        stack.close()  # renamed into place
        self.summary.add(self.path.name, self._files)

    def abort(self) -> None:
        if self._stack is None:
            return
        stack, self._stack, self._archive, self._entry = self._stack, None, None, None
        error = InputError(f"{self.path}: aborted")
        stack.__exit__(type(error), error, None)  # the temporary file is removed

    def close(self) -> Summary:
        self.abort()  # (nothing left once committed)
        return self.summary
