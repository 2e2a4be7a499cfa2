"""Options shared by several commands, declared once."""

from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

import click

from datagen.atomic import ensure_writable_folder
from datagen.engines import SCHEDULER_ENV, check_scheduler
from datagen.errors import InputError
from datagen.limits import DURATION, EARLIEST_DATE, LATEST_DATE, QUANTITY, SEED, SPEED, WORKERS
from datagen.limits import Bound, parse_date
from datagen.sinks.urls import check_target
from datagen.types import Progress

if TYPE_CHECKING:  # tqdm (~7 ms to import): only when a bar is shown
    from tqdm import tqdm

F = TypeVar("F", bound=Callable[..., Any])


class Bounded(click.ParamType):
    """A number within one of ``datagen.limits``' bounds: the one rule for every such option.

    Out of range, not a number, ``nan`` or ``inf``: one line naming the option
    and the range (exit 2), never a traceback further on.
    """

    def __init__(self, bound: Bound, name: str = "INTEGER") -> None:
        self.bound = bound
        self.name = name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return self.bound.parse(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)


class Speed(Bounded):
    """Schedule seconds per real second (``limits.SPEED``), or ``max`` (None)."""

    def __init__(self) -> None:
        super().__init__(SPEED, "SPEED")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or str(value).strip().lower() == "max":
            return None
        return super().convert(value, param, ctx)


class Duration(Bounded):
    """Seconds, or a duration such as ``90s``, ``5m``, ``1h30m``, ``2d`` (``limits.DURATION``)."""

    def __init__(self) -> None:
        super().__init__(DURATION, "DURATION")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None:
            return value
        text = str(value).strip().lower()
        seconds: Any = text
        if _DURATION.match(text):
            seconds = sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(text))
        try:
            return self.bound.parse(seconds, shown=str(value))
        except ValueError as err:
            self.fail(str(err), param, ctx)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)([smhd]))+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


class IsoDate(click.ParamType):
    """An ISO date or time within ``limits``' range of reference dates (UTC by default)."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return parse_date(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)


def seed_option(fn: F) -> F:
    return click.option(
        "--seed",
        type=Bounded(SEED),
        default=None,
        help="Random seed; the same seed gives byte-identical output. "
        "Default: chosen at random, printed and recorded in the manifest.",
    )(fn)


def quantity_option(noun: str) -> Callable[[F], F]:
    return click.option(
        "-q",
        "--quantity",
        type=Bounded(QUANTITY),
        default=1,
        show_default=True,
        help=f"Number of {noun} to create (at most {int(QUANTITY.high):,}).",
    )


def workers_option(fn: F) -> F:
    return click.option(
        "--workers",
        type=Bounded(WORKERS),
        default=None,
        help="Local processes to use (default: all cores). Output does not depend on it.",
    )(fn)


class Scheduler(click.ParamType):
    """A Dask scheduler address (``tcp://HOST:PORT``) or ``local``."""

    name = "ADDRESS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return check_scheduler(None if value is None else str(value))
        except InputError as err:
            self.fail(str(err), param, ctx)


def scheduler_option(fn: F) -> F:
    return click.option(
        "--scheduler",
        type=Scheduler(),
        envvar=SCHEDULER_ENV,
        default=None,
        help="Run the shards on a Dask cluster: tcp://HOST:PORT of its scheduler, or 'local' "
        f"for one on this machine (env {SCHEDULER_ENV}). Same output as local processes.",
    )(fn)


def locale_option(fn: F) -> F:
    return click.option(
        "--locale", default="en", show_default=True, help="Mimesis locale, e.g. en, de, fr, ja."
    )(fn)


def quiet_option(fn: F) -> F:
    return click.option("--quiet", is_flag=True, help="Print nothing but errors.")(fn)


def reference_date_option(fn: F) -> F:
    return click.option(
        "--reference-date",
        type=IsoDate(),
        default="2025-01-01",
        show_default=True,
        help="Timestamps are drawn before this date (never from the clock); "
        f"from {EARLIEST_DATE:%Y-%m-%d} to {LATEST_DATE:%Y-%m-%d}.",
    )(fn)


MIN_COLUMNS = 20
"""A terminal narrower than this (some report 0 columns) gets an 80-column bar."""


def bar_columns() -> int | None:
    """The width for a bar on stderr: the terminal's, or 80 if it reports (next to) none."""
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return None
    return None if columns >= MIN_COLUMNS else 80


def shows_bar(*, quiet: bool) -> bool:
    """Whether a progress bar is drawn: on a terminal's stderr, without ``--quiet``."""
    return not quiet and sys.stderr.isatty()


def make_bar(total: int | None, unit: str, *, quiet: bool) -> tqdm:  # type: ignore[type-arg]
    """A tqdm bar on stderr when it is a terminal (disabled when piped or ``quiet``)."""
    from tqdm import tqdm  # (see above)

    disable = not shows_bar(quiet=quiet)
    return tqdm(
        total=total,
        unit=unit,
        disable=disable,
        file=sys.stderr,
        leave=False,
        ncols=None if disable else bar_columns(),
    )


@contextmanager
def progress_bar(total: int | None, unit: str, *, quiet: bool) -> Iterator[Progress]:
    """A progress bar on a terminal; nothing when piped or ``--quiet``."""
    if not shows_bar(quiet=quiet):
        yield _no_progress
        return
    with make_bar(total, unit, quiet=quiet) as bar:
        yield bar.update


def _no_progress(done: int) -> None:
    """Progress where no bar is shown."""


def say(message: str, *, quiet: bool, err: bool = False) -> None:
    if not quiet:
        click.echo(message, err=err)


class Target(click.ParamType):
    """A folder path, ``NAME.zip``, or a target URL (database, blob container)."""

    name = "TARGET"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return check_target(str(value))  # datagen.sinks.urls: the one reader of --to
        except ValueError as err:
            self.fail(str(err), param, ctx)


def to_option(default: Path, what: str) -> Callable[[F], F]:
    """``--to`` (with the seed README's ``-o/--output_path``): one name for one place."""
    return click.option(
        "--to",
        "-o",
        "--output_path",
        "to",
        type=Target(),
        default=default,
        show_default=True,
        help=f"Where to write: a folder (the run goes to TO/{what}/), NAME.zip, "
        "sqlite:///FILE.db, postgresql://…, mysql+pymysql://…, azure://CONTAINER/PREFIX.",
    )


def database_options(fn: F) -> F:
    fn = click.option(
        "--foreign-keys",
        is_flag=True,
        help="Databases: create declared references as FOREIGN KEY constraints.",
    )(fn)
    return click.option(
        "--reset",
        is_flag=True,
        help="Databases: drop and recreate the tables this run writes (an empty schema).",
    )(fn)


def check_folder_target(to: Path | str) -> None:
    """Before any work: a folder target must be writable."""
    if isinstance(to, Path):
        ensure_writable_folder(to)


def describe_written(written: dict[str, int]) -> str:
    return ", ".join(f"{name}: {count}" for name, count in written.items()) or "nothing"
