"""Type aliases shared across the core."""

from __future__ import annotations

from typing import Any, Callable

Document = dict[str, Any]
"""One generated record: JSON-like values, plus ``datetime`` for timestamps."""

DocumentFactory = Callable[[int], Document]
"""Builds the document at a global index."""

Progress = Callable[[int], None]
"""Called with how many more items are done."""
