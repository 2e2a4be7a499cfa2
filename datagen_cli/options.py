"""Options shared by several commands, declared once."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, TypeVar

import click
from tqdm import tqdm

from datagen.types import Progress

F = TypeVar("F", bound=Callable[..., Any])


def seed_option(fn: F) -> F:
    return click.option(
        "--seed",
        type=click.IntRange(min=0),
        default=None,
        help="Random seed; the same seed gives byte-identical output. "
        "Default: chosen at random, printed and recorded in the manifest.",
    )(fn)


def quantity_option(noun: str) -> Callable[[F], F]:
    return click.option(
        "-q",
        "--quantity",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help=f"Number of {noun} to create.",
    )


def workers_option(fn: F) -> F:
    return click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=None,
        help="Local processes to use (default: all cores). Output does not depend on it.",
    )(fn)


def locale_option(fn: F) -> F:
    return click.option(
        "--locale", default="en", show_default=True, help="Mimesis locale, e.g. en, de, fr, ja."
    )(fn)


def quiet_option(fn: F) -> F:
    return click.option("--quiet", is_flag=True, help="Print nothing but errors.")(fn)


class IsoDate(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO date such as 2025-01-01", param, ctx)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def reference_date_option(fn: F) -> F:
    return click.option(
        "--reference-date",
        type=IsoDate(),
        default="2025-01-01",
        show_default=True,
        help="Timestamps are drawn before this date (never from the clock).",
    )(fn)


@contextmanager
def progress_bar(total: int, unit: str, *, quiet: bool) -> Iterator[Progress]:
    """A progress bar on a terminal; nothing when piped or ``--quiet``."""
    disable = quiet or not sys.stderr.isatty()
    with tqdm(total=total, unit=unit, disable=disable, file=sys.stderr, leave=False) as bar:
        yield bar.update


def say(message: str, *, quiet: bool, err: bool = False) -> None:
    if not quiet:
        click.echo(message, err=err)
