"""Writes that are all or nothing: a temporary name, renamed when complete."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from datagen.errors import InputError
from datagen.formats import Chunk


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield a hidden temporary folder that replaces ``target`` on success.

    On any failure (or Ctrl-C) the temporary folder is removed and ``target``
    is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        os.chmod(partial, 0o777 & ~_umask())
        yield partial
        replace_directory(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def replace_directory(source: Path, target: Path) -> None:
    """Move ``source`` to ``target``, removing what ``target`` held before."""
    if target.is_symlink() or target.is_file():
        target.unlink()
    if not target.exists():
        os.rename(source, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rename(target, old / "content")
    os.rename(source, target)
    shutil.rmtree(old, ignore_errors=True)


def ensure_writable_folder(path: Path, *, option: str = "--to") -> None:
    """Create ``path`` if needed and prove a file can be written in it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise InputError(
            f"cannot write to {str(path)!r}: {err.strerror or err}",
            hint=f"choose a writable folder with {option}",
        ) from None


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ChunkSink:
    """Receives chunks in order and keeps a SHA-256 per file."""

    def __init__(self) -> None:
        self.hashes: dict[str, "hashlib._Hash"] = {}

    def add(self, chunk: Chunk) -> None:
        digest = self.hashes.get(chunk.path)
        if digest is None:
            digest = self.hashes[chunk.path] = hashlib.sha256()
        digest.update(chunk.data)

    def close(self) -> None:
        """Flush and close any open file."""

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
        self._prefix = f"{root}{os.sep}"
        self._open: dict[str, BinaryIO] = {}

    def add(self, chunk: Chunk) -> None:
        super().add(chunk)
        if chunk.whole:
            fd = os.open(self._prefix + chunk.path, _CREATE, 0o666)
            try:
                os.write(fd, chunk.data)
            finally:
                os.close(fd)
            return
        handle = self._open.get(chunk.path)
        if handle is None:
            handle = self._open[chunk.path] = open(self.root / chunk.path, "wb")
        handle.write(chunk.data)

    def close(self) -> None:
        for handle in self._open.values():
            handle.close()
        self._open.clear()


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
