"""Writes that are all or nothing: a temporary name, renamed when complete.

A temporary folder or file (``.datagen-partial-NAME-XXXXXXXX``,
``.datagen-old-NAME-XXXXXXXX``: our prefix, the target's name and mkdtemp's
random part, so never mistaken for a user's ``.bashrc.old``) is locked
(``flock``) by the process that made it for as long as it lives. Clean-up on
an error, Ctrl-C or SIGTERM removes it; a process killed with ``kill -9``
cannot, so every run first sweeps the folder it writes to: a temporary entry
of ours that nobody holds the lock of is a dead run's leftover, and goes.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from datagen.errors import InputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


PARTIAL = ".datagen-partial-"
OLD = ".datagen-old-"
LEFTOVER = re.compile(r"^\.datagen-(?:partial|old)-.+-[a-z0-9_]{8}$|^\..+\.zip\.partial$")
"""The names of our temporary folders and files: ``PARTIAL`` or ``OLD``, the target's name and
mkdtemp's 8 random characters; or ``.NAME.zip.partial``, the temporary zip of ``publish``
in versions before 0.4 (and no other hidden name: a user's ``.bashrc.old`` or ``.notes.partial``
beside a target is theirs)."""


def hidden(relative: Path) -> bool:
    """Is ``relative`` (a path under a run or a folder of runs) hidden, so never a run's?

    The one run-files rule: an entry whose name, or a folder's on its way, starts
    with a dot is not output: an interrupted run's ``.datagen-partial-NAME-*``
    folder, a file being written, ``.gitkeep``. No command reads, verifies,
    replays or publishes it, whatever the target.
    """
    return any(part.startswith(".") for part in relative.parts)


def _temp_prefix(kind: str, target: Path) -> str:
    """The prefix of a temporary entry for ``target``; mkdtemp/mkstemp add 8 random characters."""
    return f"{kind}{target.name}-"


def _locked_temp(prefix: str, parent: Path, *, folder: bool) -> tuple[Path, int]:
    """A new temporary folder (or file) in ``parent`` and a descriptor holding its lock.

    A sweep may take the lock between the creation and ours, and remove the
    entry: then we try again with a new name.
    """
    while True:
        if folder:
            path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        else:
            fd, name = tempfile.mkstemp(prefix=prefix, dir=parent)
            path = Path(name)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return path, fd
        except FileNotFoundError:
            pass
        os.close(fd)


class _Held:
    """Ctrl-C and SIGTERM held back while a temporary entry is made (main thread only).

    Python raises an interruption between any two instructions: one between a
    temporary folder's creation and the ``try`` that removes it would leave
    it behind. Signals that come meanwhile are delivered by ``release()``,
    which the caller runs inside that ``try``.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.pending: list[int] = []
        self.previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self.previous[sig] = signal.signal(sig, self._hold)

    def _hold(self, signum: int, frame: object) -> None:
        self.pending.append(signum)

    def release(self, *, deliver: bool = True) -> None:
        """Restore the handlers (idempotent), then deliver what came meanwhile."""
        previous, self.previous = self.previous, {}
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        pending, self.pending = self.pending, []
        for sig in pending if deliver else ():
            signal.raise_signal(sig)


def sweep_leftovers(parent: Path) -> list[Path]:
    """Remove the temporary entries of dead runs in ``parent``; returns what went.

    An entry is a leftover when its name is a temporary one and no process
    holds its lock (the lock dies with its process, ``kill -9`` included).
    """
    removed: list[Path] = []
    try:
        entries = [entry for entry in os.scandir(parent) if LEFTOVER.match(entry.name)]
    except OSError:
        return removed
    for entry in entries:
        try:
            folder = entry.is_dir(follow_symlinks=False)
            fd = os.open(entry.path, os.O_RDONLY | (os.O_DIRECTORY if folder else 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)  # a live run's
            continue
        try:
            if folder:
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


@contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield a hidden temporary folder that replaces ``target`` on success.

    On any failure (or Ctrl-C, or SIGTERM) the temporary folder is removed
    and ``target`` is left as it was. Leftovers of killed runs beside
    ``target`` are removed first.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(target.parent)
    held = _Held()
    partial, lock = _locked_temp(_temp_prefix(PARTIAL, target), target.parent, folder=True)
    try:
        held.release()
        os.chmod(partial, 0o777 & ~_umask())
        yield partial
        replace_directory(partial, target)
    except OSError as err:  # named as the file of the target it was for (the partial goes)
        shutil.rmtree(partial, ignore_errors=True)
        name = str(err.filename or "")
        if name.startswith(f"{partial}{os.sep}") and err.errno is not None:
            shown = target / os.path.relpath(name, partial)
            raise OSError(err.errno, err.strerror, str(shown)) from None
        raise
    except BaseException:
        held.release(deliver=False)
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        os.close(lock)


@contextmanager
def atomic_file(target: Path, *, sweep: bool = True) -> Iterator[BinaryIO]:
    """A file written under a hidden locked temporary name, renamed to ``target`` when complete.

    ``sweep``: remove dead runs' leftovers beside ``target`` first (a caller
    writing many files into one folder sweeps it once, itself).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if sweep:
        sweep_leftovers(target.parent)
    held = _Held()
    partial, lock = _locked_temp(_temp_prefix(PARTIAL, target), target.parent, folder=False)
    try:
        held.release()
        with naming(target), open(lock, "wb", closefd=False) as handle:
            yield handle
        os.chmod(partial, 0o666 & ~_umask())
        os.replace(partial, target)
    except BaseException:
        held.release(deliver=False)
        partial.unlink(missing_ok=True)
        raise
    finally:
        os.close(lock)


def replace_directory(source: Path, target: Path) -> None:
    """Move ``source`` to ``target``, removing what ``target`` held before."""
    if target.is_symlink() or target.is_file():
        target.unlink()
    if not target.exists():
        os.rename(source, target)
        return
    held = _Held()  # between the two renames ``target`` is missing: no interruption there
    old: Path | None = None
    lock = -1
    try:
        old, lock = _locked_temp(_temp_prefix(OLD, target), target.parent, folder=True)
        os.rename(target, old / "content")
        try:
            os.rename(source, target)
        except BaseException:
            os.rename(old / "content", target)  # the previous output back in place
            raise
    except BaseException:
        held.release(deliver=False)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
            os.close(lock)
        raise
    try:
        held.release()  # an interruption held meanwhile comes now, the new target in place
    finally:
        shutil.rmtree(old, ignore_errors=True)
        os.close(lock)


@contextmanager
def naming(path: Path | str) -> Iterator[None]:
    """An OSError raised inside without a file name (a ``write`` on a full disk) names ``path``."""
    try:
        yield
    except OSError as err:
        if err.filename is None and err.errno is not None:
            raise OSError(err.errno, err.strerror or os.strerror(err.errno), str(path)) from None
        raise


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
        with naming(path), os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
