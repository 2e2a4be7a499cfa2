"""Regenerate a run from its manifest and compare it with what is on disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from datagen import __version__, generator, journey_generator
from datagen.atomic import hidden, sha256_file
from datagen.engines import using
from datagen.errors import ManifestError
from datagen.manifest import MANIFEST_NAME, Manifest, read_manifest
from datagen.scenarios import populate
from datagen.types import Progress


class Regenerator(Protocol):
    """Recomputes the file digests a run of a manifest's inputs has (without writing)."""

    def __call__(
        self, manifest: Manifest, workers: int | None, progress: Progress | None = None
    ) -> dict[str, str]: ...


REGENERATORS: dict[str, Regenerator] = {
    "documents": generator.regenerate_run,
    "journeys": journey_generator.regenerate_run,
    "scenario": populate.regenerate_digests,
}
"""How to recompute the file digests of a run, by its manifest's ``kind``."""


@dataclass
class VerifyResult:
    """How a folder compares with what its manifest's inputs produce."""

    path: Path
    manifest: Manifest
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.extra)

    @property
    def version_note(self) -> str:
        if self.manifest.generator_version == __version__:
            return ""
        return (
            f"written by version {self.manifest.generator_version}, " f"checked with {__version__}"
        )


def verify_run(
    path: Path,
    *,
    workers: int | None = None,  # same as --workers
    scheduler: str | None = None,  # same as --scheduler: a Dask cluster; None = local processes
    progress: Progress | None = None,
) -> VerifyResult:
    """Compare the run at ``path`` with what its manifest's inputs produce.

    ``progress`` is told of the items (documents, journeys, rows) regenerated.
    """
    manifest = read_manifest(path)
    regenerate = _load_regenerator(manifest.kind, path)
    with using(scheduler, workers=workers):
        expected = regenerate(manifest, workers, progress)
    actual = {
        str(p.relative_to(path)): p
        for p in path.rglob("*")
        if p.is_file() and p.name != MANIFEST_NAME and not hidden(p.relative_to(path))
    }
    result = VerifyResult(path=path, manifest=manifest)
    for name, digest in expected.items():
        if name not in actual:
            result.missing.append(name)
        elif sha256_file(actual[name]) != digest:
            result.changed.append(name)
    result.extra = sorted(set(actual) - set(expected))
    return result


def _load_regenerator(kind: str, path: Path) -> Regenerator:
    try:
        return REGENERATORS[kind]
    except KeyError:
        raise ManifestError(f"{path / MANIFEST_NAME}: unknown kind {kind!r}") from None
