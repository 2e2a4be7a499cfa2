"""Time columns: ``int64`` microseconds since the epoch (:data:`NULL_TIME` for none)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from itertools import repeat
from typing import Any

import numpy as np

NULL_TIME = np.iinfo(np.int64).min
"""A time column's value for "no time" (None in the documents)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROS = 1_000_000  # microseconds in a second


def to_micros(value: datetime | date) -> int:
    """Microseconds since the epoch (a naive time is UTC; a date is its midnight, UTC)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - _EPOCH
    return (delta.days * 86400 + delta.seconds) * MICROS + delta.microseconds


def to_times(values: np.ndarray) -> np.ndarray:
    """``values`` as a time column (datetimes, dates or None in an object array, or times)."""
    if values.dtype == np.int64:
        return values
    result = np.full(len(values), NULL_TIME, dtype=np.int64)
    for n, value in enumerate(values.tolist()):
        if isinstance(value, (datetime, date)):
            result[n] = to_micros(value)
    return result


def datetimes(values: np.ndarray, zone: Any) -> list[datetime | None]:
    """A time column as the datetimes of the documents (in ``zone``; None where none)."""
    fixed = zone if isinstance(zone, timezone) else None
    if fixed is not None and len(values):
        found = _whole_seconds(values, fixed)
        if found is not None:
            return found
    result: list[datetime | None] = []
    at = datetime.fromtimestamp
    for micros in values.tolist():
        if micros == NULL_TIME:
            result.append(None)
            continue
        seconds, rest = divmod(micros, MICROS)
        if fixed is not None and not rest:
            result.append(at(seconds, fixed))
            continue
        moment = _EPOCH + timedelta(microseconds=micros)
        result.append(moment.astimezone(zone) if zone is not None else moment.replace(tzinfo=None))
    return result


def _whole_seconds(values: np.ndarray, zone: timezone) -> list[datetime | None] | None:
    """:func:`datetimes` in a fixed zone at once, if every time is a whole second (else None)."""
    missing = values == NULL_TIME
    times = np.where(missing, 0, values) if missing.any() else values
    if (times % MICROS).any():
        return None
    result: list[datetime | None] = list(
        map(datetime.fromtimestamp, (times // MICROS).tolist(), repeat(zone))
    )
    for place in np.flatnonzero(missing).tolist():
        result[place] = None
    return result
