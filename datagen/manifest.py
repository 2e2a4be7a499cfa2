"""The manifest written beside every run: what was asked, and what came out."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

import orjson

from datagen import __version__
from datagen.documents import registry as document_providers
from datagen.errors import InputError, ManifestError
from datagen.formats import FORMATS
from datagen.limits import MAX_ROWS, QUANTITY, SEED, check_date
from datagen.seeding import SHARD_SIZE

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class Manifest:
    """Inputs of a run (enough to regenerate it) and a SHA-256 per output file."""

    kind: str
    provider: str
    seed: int
    quantity: int
    shard_size: int
    locale: str
    format: str
    reference_date: str
    generator_version: str
    counts: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    manifest_version: int = MANIFEST_VERSION

    def to_bytes(self) -> bytes:
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


def build_manifest(
    *,
    kind: str,  # documents, journeys or scenario
    provider: str,  # the document provider, journey or table
    seed: int,
    quantity: int,
    locale: str,
    format: str,
    reference_date: datetime,
    counts: Mapping[str, int],
    files: Mapping[str, str],  # name in the run -> SHA-256
    options: Mapping[str, Any],
) -> Manifest:
    """The manifest of a run this version made (the one way every run's is built)."""
    return Manifest(
        kind=kind,
        provider=provider,
        seed=seed,
        quantity=quantity,
        shard_size=SHARD_SIZE,
        locale=locale,
        format=format,
        reference_date=reference_date.isoformat(),
        generator_version=__version__,
        counts=dict(counts),
        files=dict(files),
        options=dict(options),
    )


def read_manifest(folder: Path) -> Manifest:
    """Load ``folder/manifest.json``; any problem is a one-line ManifestError."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(
            f"no {MANIFEST_NAME} in {folder}",
            hint="point at a folder written by 'generate.py document' or 'journey'",
        )
    raw = path.read_bytes()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise ManifestError(f"{path} is not valid JSON: {err}") from None
    if isinstance(data, dict) and any(isinstance(data.get(name), float) for name in WHOLE):
        data = _exact(raw, path)
    if not isinstance(data, dict):
        raise ManifestError(f"{path} is not a JSON object")
    version = data.get("manifest_version")
    if version != MANIFEST_VERSION:
        raise ManifestError(
            f"{path} has manifest_version {version!r}; this version reads {MANIFEST_VERSION}"
        )
    known = {f.name for f in fields(Manifest)}
    required = {f.name for f in fields(Manifest) if f.name not in ("counts", "files", "options")}
    missing = sorted(required - data.keys())
    if missing:
        raise ManifestError(f"{path} lacks {', '.join(missing)}")
    try:
        manifest = Manifest(**{k: v for k, v in data.items() if k in known})
    except TypeError as err:
        raise ManifestError(f"{path} is malformed: {err}") from None
    _check_types(manifest, path)
    _check_values(manifest, path)
    return manifest


WHOLE = ("seed", "quantity", "shard_size")


def _exact(raw: bytes, path: Path) -> Any:
    """The manifest with its integers exact: orjson reads one beyond 64 bits as a float.

    A seed of 2**64 is then refused by its bound ("is out of range: give …"), as
    written, rather than as "should be int, got 1.8446744073709552e+19".
    """
    try:
        return json.loads(raw)
    except ValueError as err:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise ManifestError(f"{path} is not valid JSON: {err}") from None


def _check_types(manifest: Manifest, path: Path) -> None:
    expected = {
        "kind": str,
        "provider": str,
        "seed": int,
        "quantity": int,
        "shard_size": int,
        "locale": str,
        "format": str,
        "reference_date": str,
        "generator_version": str,
        "counts": dict,
        "files": dict,
        "options": dict,
    }
    for name, kind in expected.items():
        value = getattr(manifest, name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ManifestError(f"{path}: {name!r} should be {kind.__name__}, got {value!r}")


KINDS = ("documents", "journeys", "scenario")
FORMATS_OF = {"documents": FORMATS, "journeys": ("zip",), "scenario": ("jsonl",)}
"""The formats a run of each kind is written in: a reader knows no other."""


def _check_values(manifest: Manifest, path: Path) -> None:
    """The run's inputs within the bounds a command would accept, its provider a known one."""
    if manifest.kind not in KINDS:
        raise ManifestError(f"{path}: unknown kind {manifest.kind!r}; known: {', '.join(KINDS)}")
    formats = FORMATS_OF[manifest.kind]
    if manifest.format not in formats:
        raise ManifestError(
            f"{path}: unknown format {manifest.format[:40]!r}; known for a {manifest.kind} "
            f"run: {', '.join(formats)}",
            hint="correct the manifest's format, or generate the run again",
        )
    try:
        SEED.check(manifest.seed, "seed")
        if manifest.kind == "scenario":  # a table of a population: planning's bound
            if not 0 <= manifest.quantity <= MAX_ROWS:
                raise InputError(f"quantity: {manifest.quantity} is more than {MAX_ROWS:,} rows")
        else:
            QUANTITY.check(manifest.quantity, "quantity")
        check_date(manifest.reference_date, "reference_date")
        _provider(manifest)
    except InputError as err:
        raise ManifestError(f"{path}: {err.message}", hint=err.hint) from None
    for name, digest in manifest.files.items():
        if not isinstance(digest, str) or len(digest) != 64 or _escapes(name):
            raise ManifestError(f"{path}: the entry {name[:60]!r} of 'files' is malformed")


def _provider(manifest: Manifest) -> None:
    """InputError if the run's provider is not one this datagen has (listing those it has)."""
    if manifest.kind == "journeys":
        from datagen.journeys import registry as journeys  # not loaded by a documents run

        journeys.get(manifest.provider)
    else:
        document_providers.get(manifest.provider)


def _escapes(name: str) -> bool:
    """Does a file name of a manifest point outside its run folder (or at nothing)?"""
    parts = name.replace("\\", "/").split("/")
    return not name or name.startswith("/") or ".." in parts or (len(name) > 1 and name[1] == ":")
