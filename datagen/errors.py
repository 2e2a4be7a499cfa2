"""Errors a person can act on: what went wrong, where, and how to fix it."""

from __future__ import annotations


class DataGenError(Exception):
    """Base error: a message, optionally where it happened and a hint."""

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return text


class InputError(DataGenError):
    """The user asked for something that cannot be done as asked (exit 2)."""


class SchemaError(DataGenError):
    """A provider's schema or a journey's step definition is invalid."""


class ManifestError(InputError):
    """A manifest is missing, malformed, of an unknown version, or out of bounds (exit 2)."""


class SinkError(DataGenError):
    """A target could not be reached or written (never carries a secret)."""
