"""``replay()``: the ``replay`` command as a function (keyword arguments = its options)."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Callable, Mapping

import orjson

from datagen.atomic import atomic_write_bytes
from datagen.errors import InputError
from datagen.limits import CONCURRENCY, DURATION, RETRIES, SPEED
from datagen.replay.checkpoint import Checkpoint, belongs, default_checkpoint, journeys_digest
from datagen.replay.checkpoint import read_checkpoint
from datagen.replay.clock import Clock
from datagen.replay.engine import Replayer, ReplayOptions
from datagen.replay.report import ReplayReport
from datagen.replay.schedule import Schedule, build_schedule
from datagen.replay.source import load_journeys
from datagen.replay.steps import StepTarget
from datagen.replay.targets import UnknownDocumentType, open_target
from datagen.sinks.urls import is_database_url, is_url, redact, sqlite_identity

Monitor = Callable[[Replayer], AbstractContextManager[None]]


def replay(
    source: str | Path,
    *,
    to: str | StepTarget,  # same as --to (or a target object)
    speed: float | None = 1.0,  # same as --speed; None is "max"
    ramp_up: float | None = None,  # same as --ramp-up, in schedule seconds (None: 0)
    duration: float | None = None,  # same as --duration, in schedule seconds
    concurrency: int = 4,  # same as --concurrency
    headers: Mapping[str, str] | None = None,  # same as --header
    retries: int = 5,  # same as --retries
    report: Path | None = None,  # same as --report
    checkpoint: Path | None = None,  # same as --checkpoint (None: derived, see below)
    resume: Path | None = None,  # same as --resume
    clock: Clock | None = None,
    stop: threading.Event | None = None,  # set it to stop as Ctrl-C does
    abandon: threading.Event | None = None,  # set it to give up writes in flight too
    monitor: Monitor | None = None,  # e.g. a live status line, while it runs
    backoff: float = 0.1,
) -> ReplayReport:
    """Perform the steps of the journeys in ``source`` against ``to`` on their clock.

    Returns the report. When the replay is interrupted or a step failed, a
    checkpoint of the steps done is written to ``checkpoint`` (give it to
    ``resume`` to continue without repeating them; by default
    ``output/replay-<id>.checkpoint.json``, ``id`` derived from the journeys
    and the target). A checkpoint is refused for other journeys or another
    target. A complete replay removes the checkpoints of its journeys and
    target at ``checkpoint`` and ``resume``. A checkpoint or report that
    cannot be written (a full disk) is recorded in the report's
    ``file_errors`` instead of raised: the replay's outcome comes first.
    """
    if speed is not None:
        SPEED.check(speed, "speed")
    CONCURRENCY.check(concurrency, "concurrency")
    RETRIES.check(retries, "retries")
    for name, value in (("ramp_up", ramp_up), ("duration", duration)):
        if value is not None:
            DURATION.check(value, name)
    journeys = load_journeys(source)
    digest = journeys_digest(journeys)
    identity = target_identity(to)
    if checkpoint is None:
        checkpoint = default_checkpoint(digest, identity)
    done: frozenset[tuple[str, int]] = frozenset()
    start_at = 0.0
    if resume is not None:
        previous = read_checkpoint(resume, digest, identity)
        if ramp_up is not None and ramp_up != previous.ramp_up:
            raise InputError(
                f"--ramp-up {ramp_up:g} differs from the interrupted replay's "
                f"{previous.ramp_up:g} seconds",
                hint="leave --ramp-up out when resuming: the checkpoint keeps it",
            )
        done, start_at, ramp_up = previous.done, previous.schedule_elapsed, previous.ramp_up
    ramp_up = ramp_up or 0.0
    schedule = build_schedule(journeys, ramp_up=ramp_up, duration=duration, done=done)
    first_due = max(schedule.planned[0].due, start_at) if schedule.planned else 0.0
    result = ReplayReport(
        source=redact(str(source)),
        target=redact(to) if isinstance(to, str) else to.label,
        speed=speed,
        journeys=len(journeys),
        steps_total=schedule.total,
        steps_planned=len(schedule.planned),
        beyond_duration=schedule.beyond_duration,
        already_done=schedule.already_done,
        schedule_span=schedule.planned[-1].due - first_due if schedule.planned else 0.0,
    )
    target = open_target(to, headers=headers) if isinstance(to, str) else to
    try:
        _open(target, schedule)
        replayer = Replayer(
            schedule,
            target,
            result,
            options=ReplayOptions(
                speed=speed,
                ramp_up=ramp_up,
                duration=duration,
                concurrency=concurrency,
                retries=retries,
                backoff=backoff,
            ),
            clock=clock,
            start_at=start_at,
            stop=stop,
            abandon=abandon,
        )
        with monitor(replayer) if monitor else nullcontext():
            replayer.run()
    finally:
        target.close()
    if not result.ok:
        state = Checkpoint(
            digest=digest,
            target=identity,
            done=frozenset(done | replayer.done_steps()),
            schedule_elapsed=replayer.schedule_elapsed(),
            ramp_up=ramp_up,
        )
        if _saved(result, checkpoint, state.to_bytes(), "checkpoint"):
            result.checkpoint = str(checkpoint)
    else:
        for path in (checkpoint, resume):  # complete: nothing of this replay to resume
            if path is not None and belongs(path, digest, identity):
                path.unlink(missing_ok=True)
    if report is not None:
        data = orjson.dumps(
            result.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
        )
        if _saved(result, report, data, "report"):
            result.report_file = str(report)
    return result


def target_identity(to: str | StepTarget) -> str:
    """The target as a checkpoint records it: no secrets, and one name for one place.

    Folders and SQLite files are absolute paths (the same file from another
    folder is the same target); other URLs are redacted (a new password or
    SAS token still names the same target).
    """
    if not isinstance(to, str):
        return to.label
    if is_database_url(to):
        return sqlite_identity(to) or redact(to)
    if is_url(to):
        return redact(to)
    return str(Path(to).resolve())


def _saved(result: ReplayReport, path: Path, data: bytes, what: str) -> bool:
    """Write ``data`` to ``path``; a failure (a full disk) is noted in ``result``, not raised.

    The replay's outcome (its summary, its failed steps) is worth more than
    the file: it is printed whether or not the file could be written.
    """
    try:
        atomic_write_bytes(path, data)
        return True
    except OSError as err:
        problem = f"cannot write the {what} {path}: {err.strerror or err}"
        result.file_errors.append(problem)
        return False


def _open(target: StepTarget, schedule: Schedule) -> None:
    """Open ``target`` for the schedule's document types; an unknown type names its zip."""
    first: dict[str, str] = {}
    for planned in schedule.planned:
        first.setdefault(planned.step.document_type, planned.step.journey)
    try:
        target.open(set(first))
    except UnknownDocumentType as err:
        raise UnknownDocumentType(
            err.document_type,
            err.message,
            where=f"{first.get(err.document_type, '?')}.zip",
            hint=err.hint,
        ) from None
