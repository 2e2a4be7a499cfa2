"""Conditions of the schema language: when a :class:`datagen.specs.Cases` case applies.

A condition is ``((path, wanted), …)``: every path's value must match (see
:func:`matches`); ``share`` takes a random share of the rows and ``last`` /
``first`` a row's place among its parent's children (scenarios).
"""

from __future__ import annotations

from typing import Any, Mapping

from datagen.errors import SchemaError

Condition = tuple[tuple[str, Any], ...]
"""``((path, wanted), …)``: every path's value must match (see :func:`matches`)."""

POSITION_KEYS = ("last", "first")  # a row's place among its parent's children (scenarios)
SHARE_KEY = "share"  # a random share of the rows: {share: 0.85}


def condition_of(mapping: Mapping[str, Any]) -> Condition:
    """A condition from ``{"status": "ACTIVE", "org_id.status": ["A", "B"], "share": 0.8}``."""
    if not mapping:
        raise SchemaError("a case needs at least one condition")
    for key, wanted in mapping.items():
        if key == SHARE_KEY and not (isinstance(wanted, (int, float)) and 0 <= wanted <= 1):
            raise SchemaError(f"'share' takes a number from 0 to 1, not {wanted!r}")
        if key in POSITION_KEYS and not isinstance(wanted, bool):
            raise SchemaError(f"{key!r} takes true or false, not {wanted!r}")
    return tuple((str(k), tuple(v) if isinstance(v, list) else v) for k, v in mapping.items())


def matches(value: Any, wanted: Any) -> bool:
    """``value`` is ``wanted`` (of the same type: ``1`` is not ``True``), or one of a tuple."""
    options = wanted if isinstance(wanted, tuple) else (wanted,)
    return any(type(value) is type(w) and value == w for w in options)
