"""Options shared by several commands, declared once."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import click
from tqdm import tqdm

from datagen.atomic import ensure_writable_folder
from datagen.sinks.base import DATABASE_SCHEMES, redact
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
def progress_bar(total: int | None, unit: str, *, quiet: bool) -> Iterator[Progress]:
    """A progress bar on a terminal; nothing when piped or ``--quiet``."""
    disable = quiet or not sys.stderr.isatty()
    with tqdm(total=total, unit=unit, disable=disable, file=sys.stderr, leave=False) as bar:
        yield bar.update


def say(message: str, *, quiet: bool, err: bool = False) -> None:
    if not quiet:
        click.echo(message, err=err)


TARGET_SCHEMES = (*DATABASE_SCHEMES, "azure", "http", "https")


class Target(click.ParamType):
    """A folder path, ``NAME.zip``, or a target URL (database, blob container)."""

    name = "TARGET"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        if "://" in text:
            scheme = text.split("://", 1)[0].split("+")[0].lower()
            if scheme not in TARGET_SCHEMES:
                self.fail(
                    f"unsupported target {redact(text)!r}: use a folder, NAME.zip, "
                    "sqlite:///FILE.db, postgresql://…, mysql+pymysql://…, "
                    "azure://CONTAINER/PREFIX or a container URL",
                    param,
                    ctx,
                )
            return text
        if text.endswith(".zip"):
            return text
        path = Path(text)
        if path.is_file():
            self.fail(f"{text!r} is a file, not a folder", param, ctx)
        return path


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
