"""The workload file's syntax: its published JSON Schema, durations and rates.

``validate`` checks a document (parsed with line numbers) against
``workload.schema.json`` and names the first problem's file, line and key.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from datagen.scenarios.loader import Marked, _message, line_of
from datagen.scenarios.marked import unknown_key
from datagen.scenarios.model import Where

SCHEMA_PATH = Path(__file__).with_name("workload.schema.json")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?[smhd])+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_RATE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)\s*/\s*([smhd])\s*$")


def parse_duration(value: Any) -> float | None:
    """Seconds of ``90``, ``"90s"``, ``"2m"``, ``"1h30m"``; None if it is not a duration."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().lower()
    if not _DURATION.match(text):
        return None
    return sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(text))


def parse_rate(value: Any) -> float | None:
    """Per second of ``50``, ``"50/s"``, ``"4000/m"``, ``"200/h"``; None if not a rate."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _RATE.match(str(value))
    if match is None:
        return None
    return float(match.group(1)) / _UNITS[match.group(2)]


@lru_cache(maxsize=1)
def schema_validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def validate(document: Marked, shown: str) -> None:
    """Check ``document`` against the published JSON Schema; the first error names its line."""
    error = best_match(schema_validator().iter_errors(document))
    if error is None:
        return
    path = list(error.absolute_path)
    message = _message(error)
    writer_level = error.validator == "oneOf" and len(path) == 2 and path[0] == "writers"
    if writer_level:
        message = "a writer needs one of batch: or stream:, and one of upsert:, insert: or sql:"
    elif error.validator == "oneOf" and isinstance(error.instance, dict) and error.context:
        inner = best_match(e for e in error.context if e.validator not in ("type", "enum"))
        if inner is not None:  # the mapping's own problem, not "it is not a number"
            error, path = inner, list(inner.absolute_path)
            message = _message(inner)
    path, message = unknown_key(error, path, message)
    line, dotted = line_of(document, path)
    raise Where(shown, line, dotted or "(top)").error(message)
