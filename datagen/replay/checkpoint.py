"""Checkpoints: which steps an interrupted replay finished, so a resume skips them.

A checkpoint belongs to one replay: its journeys (a digest of their ids,
steps and documents) and its target (named without secrets). A resume with
other journeys or into another target is refused; the default file name is
derived from both, so two replays never share a checkpoint.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import orjson

from datagen.atomic import atomic_write_bytes
from datagen.errors import InputError
from datagen.replay.schedule import StepKey
from datagen.replay.source import ReplayJourney

CHECKPOINT_VERSION = 2
CHECKPOINT_DIR = Path("output")


def default_checkpoint(digest: str, target: str) -> Path:
    """``output/replay-<id>.checkpoint.json``, ``id`` derived from the journeys and the target."""
    ident = hashlib.sha256(f"{digest}\0{target}".encode()).hexdigest()[:12]
    return CHECKPOINT_DIR / f"replay-{ident}.checkpoint.json"


def journeys_digest(journeys: Sequence[ReplayJourney]) -> str:
    """Identifies a source's journeys (ids, steps and documents), to refuse a wrong resume."""
    digest = hashlib.sha256()
    for journey in journeys:
        for step in journey.steps:
            digest.update(f"{journey.id}\0{step.index}\0{step.offset}\0".encode())
            digest.update(hashlib.sha256(step.data).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    digest: str
    target: str  # the target's identity (see datagen.replay.api.target_identity): no secrets
    done: frozenset[StepKey]
    schedule_elapsed: float  # schedule seconds reached when it stopped
    ramp_up: float

    def to_bytes(self) -> bytes:
        done: dict[str, list[int]] = {}
        for journey, index in sorted(self.done):
            done.setdefault(journey, []).append(index)
        document: dict[str, Any] = {
            "checkpoint_version": CHECKPOINT_VERSION,
            "journeys_digest": self.digest,
            "target": self.target,
            "schedule_elapsed_seconds": self.schedule_elapsed,
            "ramp_up_seconds": self.ramp_up,
            "done": done,
        }
        return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)

    def save(self, path: Path) -> None:
        atomic_write_bytes(path, self.to_bytes())


def done_keys(done: dict[str, Iterable[int]]) -> frozenset[StepKey]:
    return frozenset((journey, int(i)) for journey, indexes in done.items() for i in indexes)


def read_checkpoint(path: Path, digest: str, target: str) -> Checkpoint:
    """Read ``path`` and check it belongs to these journeys and target (InputError otherwise)."""
    try:
        raw = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"{path}: no such checkpoint") from None
    except orjson.JSONDecodeError:
        raise InputError(f"{path}: not a replay checkpoint (not JSON)") from None
    if isinstance(raw, dict) and raw.get("checkpoint_version") == 1:
        raise InputError(
            f"{path}: a checkpoint of an older datagen, which did not record its target",
            hint="replay again without --resume (writes are idempotent)",
        )
    if not isinstance(raw, dict) or raw.get("checkpoint_version") != CHECKPOINT_VERSION:
        raise InputError(
            f"{path}: not a replay checkpoint of version {CHECKPOINT_VERSION}",
            hint="use the file a replay wrote when it was interrupted",
        )
    if raw.get("journeys_digest") != digest:
        raise InputError(
            f"{path}: this checkpoint is for other journeys than the SOURCE given",
            hint="resume with the same SOURCE as the interrupted replay",
        )
    if raw.get("target") != target:
        raise InputError(
            f"{path}: this checkpoint is of a replay into {raw.get('target')!s}, not {target}",
            hint="resume into the same --to as the interrupted replay, or replay into this "
            "target without --resume",
        )
    try:
        return Checkpoint(
            digest=raw["journeys_digest"],
            target=raw["target"],
            done=done_keys(raw["done"]),
            schedule_elapsed=float(raw["schedule_elapsed_seconds"]),
            ramp_up=float(raw["ramp_up_seconds"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InputError(f"{path}: the checkpoint is damaged") from None


def belongs(path: Path, digest: str, target: str) -> bool:
    """Is ``path`` a checkpoint of these journeys into this target? (False if unreadable.)"""
    try:
        raw = orjson.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(raw, dict) and (raw.get("journeys_digest"), raw.get("target")) == (
        digest,
        target,
    )
