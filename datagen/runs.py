"""A run on its way out: a producer's files and their manifests, into a file target.

A run is a set of files and a ``manifest.json`` per folder of them listing
each file's SHA-256 (what ``verify`` regenerates and ``publish`` checks).
:func:`write_run` sends a producer's files through the driver
(:func:`datagen.driver.write`) into the target ``--to`` names, then the
manifests, computed from the digests of what went:

- a folder gets ``TO/NAME/``, built under a hidden temporary name and renamed
  when complete (:func:`datagen.atomic.atomic_directory`);
- a blob container gets the files as they are made, an earlier run's
  manifests deleted first and the new ones uploaded last, once every file is
  uploaded and committed (a run cut short leaves no manifest, so no run);
- ``NAME.zip`` gets each manifest, then the files it lists, sorted (as
  ``publish`` writes a zip): the files are made first into one anonymous
  temporary file (:class:`Spill`, gone with the process) and then stored.

Every kind of target holds the same bytes for the same producer.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Mapping, Sequence, cast

from datagen.atomic import atomic_directory, ensure_writable_folder
from datagen.driver import Batch, Done, Files, Producer, Rows, write
from datagen.formats import Chunk
from datagen.manifest import MANIFEST_NAME, Manifest
from datagen.sinks.base import Summary, Target
from datagen.sinks.files import ChunkSink, FolderWriter, check_zip_target
from datagen.sinks.open import open_target
from datagen.sinks.urls import BLOB, ZIP, target_kind
from datagen.types import Progress

if TYPE_CHECKING:  # the Azure SDK: heavy, loaded only when a run goes to blobs
    from datagen.sinks.azure import AzureBlobWriter

Manifests = Callable[[Mapping[str, int], Mapping[str, str]], Mapping[str, Manifest]]
"""``manifests(counts, digests)``: each manifest's path in the run, from the producer's
summed counts and the SHA-256 of every file it made (by path in the run)."""


@dataclass
class ShardResult:
    """A shard's encoded output and what it counted (documents, steps…)."""

    chunks: list[Chunk]
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class RunResult:
    """What a document or journey run wrote: its folder or target, seed, counts, digests."""

    path: Path | str
    seed: int
    counts: dict[str, int]
    files: dict[str, str] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)  # per table or container


@dataclass
class RunWritten:
    """Where :func:`write_run` put a run, its counts, digests, and the target's summary."""

    path: Path | str
    counts: dict[str, int]
    files: dict[str, str]
    summary: Summary


class _WithManifests:
    """A producer's batches, then its manifests (made from the digests ``sink`` kept)."""

    def __init__(
        self,
        producer: Producer,
        sink: ChunkSink,
        manifests: Manifests,
        before_manifests: Callable[[], None] = lambda: None,
    ) -> None:
        self.producer = producer
        self.sink = sink
        self.manifests = manifests
        self.before_manifests = before_manifests  # e.g. wait until every file has landed
        self.counts: dict[str, int] = {}
        self.files: dict[str, str] = {}
        self.made: dict[str, Manifest] = {}

    def batches(self, *, workers: int | None) -> Iterator[Batch]:
        counts: Counter[str] = Counter()
        for batch in self.producer.batches(workers=workers):
            if isinstance(batch, (Files, Rows, Done)):
                counts.update(batch.counts)
            yield batch
        self.counts = dict(sorted(counts.items()))
        self.files = self.sink.digests()
        self.made = dict(self.manifests(self.counts, self.files))
        self.before_manifests()
        yield Files(
            [Chunk(path, manifest.to_bytes(), whole=True) for path, manifest in self.made.items()]
        )


def write_run(
    producer: Producer,
    to: str | Path,
    *,
    name: str,  # the run's folder under a folder target
    manifests: Manifests,
    manifest_paths: Sequence[str] = (MANIFEST_NAME,),  # where ``manifests`` puts them
    folders: Sequence[str] = (),  # folders the files go in (a folder target makes them first)
    workers: int | None = None,
    progress: Progress | None = None,
) -> RunWritten:
    """Write ``producer``'s files and their manifests to the file target ``to``."""
    kind = target_kind(to)
    if kind == ZIP:
        return _to_zip(producer, Path(to), manifests, workers=workers, progress=progress)
    if kind == BLOB:
        with open_target(str(to)) as target:
            blobs = cast("AzureBlobWriter", target)  # what open_target gives a container URL
            blobs.prepare()  # the container is checked before any work
            for path in manifest_paths:
                blobs.remove(path)  # an earlier run's: this run is not complete yet
            run = _WithManifests(producer, blobs, manifests, before_manifests=blobs.flush)
            written = write(run, blobs, workers=workers, progress=progress)
        return RunWritten(str(to), run.counts, run.files, written.summary)
    ensure_writable_folder(Path(to))
    folder = Path(to) / name
    with atomic_directory(folder) as partial:
        for sub in folders:
            (partial / sub).mkdir(parents=True, exist_ok=True)
        with FolderWriter(partial) as writer:
            run = _WithManifests(producer, writer, manifests)
            write(run, writer, workers=workers, progress=progress)
    return RunWritten(folder, run.counts, run.files, Summary(str(folder)))


def _to_zip(
    producer: Producer,
    path: Path,
    manifests: Manifests,
    *,
    workers: int | None,
    progress: Progress | None,
) -> RunWritten:
    """The run into ``path``: each manifest, then the files it lists (sorted), stored."""
    check_zip_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with Spill(path.parent) as spill:
        run = _WithManifests(producer, spill, manifests)
        write(run, spill, workers=workers, progress=progress)
        with open_target(path) as target:
            target.prepare()
            spill.send(target, zip_order(run.made))
            target.commit()
    return RunWritten(str(path), run.counts, run.files, target.summary)


def zip_order(manifests: Mapping[str, Manifest]) -> list[str]:
    """The names in a zip of runs: runs by folder, each its manifest then its files sorted."""
    names: list[str] = []
    for path in sorted(manifests, key=lambda p: Path(p).parent):
        folder = Path(path).parent
        names.append(path)
        names.extend((folder / file).as_posix() for file in sorted(manifests[path].files))
    return names


class Spill(ChunkSink):
    """Files kept in one anonymous temporary file (no name: nothing left if killed), in order.

    ``send`` gives them to a target in another order; ``digests`` as every ChunkSink.
    """

    BLOCK = 1 << 20

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self._file = tempfile.TemporaryFile(dir=folder)
        self._parts: dict[str, list[tuple[int, int]]] = {}
        self._end = 0

    def add(self, chunk: Chunk) -> None:
        super().add(chunk)
        self._file.write(chunk.data)
        self._parts.setdefault(chunk.path, []).append((self._end, len(chunk.data)))
        self._end += len(chunk.data)

    def send(self, target: Target, names: Sequence[str]) -> None:
        """Each file of ``names`` to ``target``, in that order, ``BLOCK`` bytes at a time."""
        self._file.flush()
        for name in names:
            parts = self._parts[name]
            if len(parts) == 1 and parts[0][1] <= self.BLOCK:
                self._file.seek(parts[0][0])
                target.add(Chunk(name, self._file.read(parts[0][1]), whole=True))
                continue
            for offset, size in parts:
                self._file.seek(offset)
                while size > 0:
                    data = self._file.read(min(size, self.BLOCK))
                    target.add(Chunk(name, data))
                    size -= len(data)
            target.add(Chunk(name, b"", whole=True))

    def close(self) -> Summary:
        self._file.close()
        return super().close()
