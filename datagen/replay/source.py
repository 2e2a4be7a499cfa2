"""Journeys to replay: journey zips read from a folder, one zip, or a blob prefix.

Every zip is validated before anything is written: it must be a zip, hold a
``metadata.json`` of a known version, list steps whose files are in the zip,
and have no entry whose path would escape an extraction folder (zip slip).
Sizes are bounded before anything is inflated (``datagen.limits``): the zip
itself, each entry and their sum, as the zip's directory declares them; an
entry is then read at most to its declared size, so a zip whose directory
lies cannot inflate more either (its CRC fails). A zip that fails raises
JourneyFormatError naming the file and the problem. ``publish`` reads journey
runs with the same functions.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import orjson

from datagen.atomic import hidden
from datagen.errors import InputError
from datagen.journey_generator import METADATA_NAME, METADATA_VERSION
from datagen.limits import MAX_ENTRY_BYTES, MAX_JOURNEY_BYTES
from datagen.replay.steps import ReplayStep
from datagen.sinks.urls import is_blob_url


class JourneyFormatError(InputError):
    """A file given as a journey is not a valid journey zip (bad input: exit 2)."""


@dataclass(frozen=True)
class ReplayJourney:
    id: str
    user_id: str
    steps: tuple[ReplayStep, ...]  # in the order they happen (offset, then index)


def is_blob_source(source: str) -> bool:
    return is_blob_url(source)


def load_journeys(source: str | Path) -> list[ReplayJourney]:
    """Read and validate every journey of ``source``, in order of their ids."""
    journeys = [read_journey(name, data) for name, data in _zips(str(source))]
    if not journeys:
        raise InputError(
            f"{source}: no journey zips found",
            hint="generate some first: python generate.py journey -p job_lifecycle -q 10",
        )
    seen: set[str] = set()
    for journey in journeys:
        if journey.id in seen:  # (zips of the same name in two folders)
            raise JourneyFormatError(f"two journeys are named {journey.id!r}", where=str(source))
        seen.add(journey.id)
    return sorted(journeys, key=lambda j: j.id)


def _zips(source: str) -> Iterator[tuple[str, bytes]]:
    if is_blob_source(source):
        from datagen.replay.blobs import download_zips  # the Azure SDK: heavy, for blobs only

        yield from download_zips(source, check_size=check_zip_size)
        return
    path = Path(source)
    if path.is_file():
        yield str(path), read_zip_file(path)
    elif path.is_dir():
        for file in sorted(path.rglob("*.zip")):
            if not hidden(file.relative_to(path)):
                yield str(file), read_zip_file(file)
    else:
        raise InputError(
            f"{source}: no such file or folder",
            hint="give a folder of journey zips, one zip, or an azure://CONTAINER/PREFIX",
        )


def read_zip_file(path: Path) -> bytes:
    """The bytes of the journey zip at ``path``, if it is not larger than a journey can be."""
    check_zip_size(str(path), path.stat().st_size)
    return path.read_bytes()


def check_zip_size(name: str, size: int) -> None:
    """Refuse a journey zip of ``size`` bytes if it is larger than ``MAX_JOURNEY_BYTES``."""
    if size > MAX_JOURNEY_BYTES:
        raise JourneyFormatError(
            f"the zip is {size:,} bytes, more than a journey may be ({MAX_JOURNEY_BYTES:,})",
            where=name,
        )


def read_journey(name: str, data: bytes) -> ReplayJourney:
    """Validate the journey zip ``name`` (its bytes ``data``) and read its steps."""
    check_zip_size(name, len(data))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise JourneyFormatError("not a zip file", where=name) from None
    with archive:
        _check_sizes(archive, name)
        entries = archive.namelist()
        for entry in entries:
            if _escapes(entry):
                raise JourneyFormatError(
                    f"zip entry {entry!r} escapes the extraction folder (zip slip); "
                    "the journey is refused",
                    where=name,
                )
        if METADATA_NAME not in entries:
            raise JourneyFormatError(
                f"not a journey: the zip has no {METADATA_NAME}",
                where=name,
                hint="journey zips are made by: python generate.py journey",
            )
        metadata = _metadata(name, _read(archive, METADATA_NAME, name))
        journey_id = posixpath.basename(name.replace("\\", "/")).removesuffix(".zip")
        user_id = str(metadata.get("user_id", ""))
        steps = []
        named: set[str] = set()
        for number, entry in enumerate(metadata["steps"]):
            step = _step(name, number, entry)
            if step["file"] not in entries:
                raise JourneyFormatError(
                    f"step {step['index']} names the file {step['file']!r}, "
                    "which is missing from the zip",
                    where=name,
                )
            if step["file"] in named or step["file"] == METADATA_NAME:
                raise JourneyFormatError(
                    f"step {step['index']} names the file {step['file']!r}, "
                    "which another step or the metadata has",
                    where=name,
                )
            named.add(step["file"])
            steps.append(
                ReplayStep(
                    journey=journey_id,
                    index=step["index"],
                    offset=float(step["offset_seconds"]),
                    document_type=step["document_type"],
                    file=step["file"],
                    data=_document(name, step, _read(archive, step["file"], name)),
                    user_id=user_id,
                )
            )
    if len({s.index for s in steps}) != len(steps):
        raise JourneyFormatError("two steps have the same index", where=name)
    steps.sort(key=lambda s: (s.offset, s.index))
    return ReplayJourney(id=journey_id, user_id=user_id, steps=tuple(steps))


def _check_sizes(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse a zip whose entries would inflate beyond the bounds (read from its directory)."""
    total = 0
    for info in archive.infolist():
        if info.file_size > MAX_ENTRY_BYTES:
            raise JourneyFormatError(
                f"zip entry {info.filename!r} would inflate to {info.file_size:,} bytes, more "
                f"than a journey's document may be ({MAX_ENTRY_BYTES:,}); refused unread "
                "(a zip bomb?)",
                where=name,
            )
        total += info.file_size
    if total > MAX_JOURNEY_BYTES:
        raise JourneyFormatError(
            f"the zip's entries would inflate to {total:,} bytes, more than a journey may be "
            f"({MAX_JOURNEY_BYTES:,}); refused unread (a zip bomb?)",
            where=name,
        )


def _read(archive: zipfile.ZipFile, entry: str, name: str) -> bytes:
    """The entry, read at most to its declared size (so never more than MAX_ENTRY_BYTES)."""
    try:
        info = archive.getinfo(entry)
        with archive.open(info) as handle:
            data = handle.read(info.file_size + 1)  # bounded: inflates no more than asked
            if len(data) != info.file_size or handle.read(1):
                raise zipfile.BadZipFile(f"{len(data):,} bytes, not {info.file_size:,}")
        return data
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as err:
        raise JourneyFormatError(f"zip entry {entry!r} is damaged ({err})", where=name) from None


def _document(name: str, step: dict[str, Any], data: bytes) -> bytes:
    """``data`` if it is a JSON object (the document of ``step``)."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        document = None
    if not isinstance(document, dict):
        raise JourneyFormatError(
            f"step {step['index']}'s file {step['file']!r} is not a JSON object", where=name
        )
    return data


def _escapes(entry: str) -> bool:
    """Would extracting ``entry`` write outside the folder it is extracted into?"""
    path = entry.replace("\\", "/")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return True
    return ".." in path.split("/")


def _metadata(name: str, raw: bytes) -> dict[str, Any]:
    try:
        metadata = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise JourneyFormatError(f"{METADATA_NAME} is not valid JSON", where=name) from None
    if not isinstance(metadata, dict) or "metadata_version" not in metadata:
        raise JourneyFormatError(
            f"not a journey: {METADATA_NAME} has no metadata_version", where=name
        )
    version = metadata["metadata_version"]
    if version != METADATA_VERSION:
        raise JourneyFormatError(
            f"metadata version {version!r} is not supported "
            f"(this datagen reads version {METADATA_VERSION})",
            where=name,
            hint="replay it with the datagen version that generated it",
        )
    if not isinstance(metadata.get("steps"), list):
        raise JourneyFormatError(f"{METADATA_NAME} has no list of steps", where=name)
    return metadata


def _step(name: str, number: int, entry: Any) -> dict[str, Any]:
    required: dict[str, type | tuple[type, ...]] = {
        "index": int,
        "document_type": str,
        "file": str,
        "offset_seconds": (int, float),
    }
    if not isinstance(entry, dict):
        raise JourneyFormatError(f"step #{number} of {METADATA_NAME} is not an object", where=name)
    for key, kind in required.items():
        value = entry.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise JourneyFormatError(
                f"step #{number} of {METADATA_NAME} has no valid {key!r}", where=name
            )
    if entry["offset_seconds"] < 0:
        raise JourneyFormatError(f"step {entry['index']} has a negative offset", where=name)
    return entry
