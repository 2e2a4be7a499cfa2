"""The ``generate.py`` command group and its error handling."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from errno import ENOSPC
from importlib import import_module
from pathlib import Path
from types import FrameType
from typing import Any, Callable

import click

from datagen import __version__
from datagen.errors import DataGenError, InputError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM
_AFTER = (
    "the target may hold part of the run, never a half-written file or batch; "
    "run the same command again to finish (writes are idempotent)."
)


AFTER_INTERRUPT = "datagen.after_interrupt"
"""``ctx.meta`` key: what holds after Ctrl-C or SIGTERM, set by a command that knows
better for its target than the general ``_AFTER`` (removed again once it no longer holds)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread as Ctrl-C is: every clean-up that Ctrl-C runs
    (a partial folder removed, a transaction rolled back) runs for it too."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up
    raise Terminated()


def handle_sigterm(ctx: click.Context) -> None:
    """Turn SIGTERM into ``Terminated`` while this command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    ctx.call_on_close(lambda: signal.signal(signal.SIGTERM, previous))


class BadInput(click.ClickException):
    """Bad input from the user: one line, exit 2 (like click's usage errors)."""

    exit_code = 2


def _translate(ctx: click.Context, invoke: Callable[[click.Context], Any]) -> Any:
    """Run ``invoke(ctx)``, turning library errors into one-line messages.

    Bad input (InputError) exits 2 like click's own usage errors; any other
    failure exits 1; Ctrl-C exits 130; ``--debug`` re-raises with the traceback.
    """
    debug = ctx.find_root().meta.get("datagen.debug", False)
    try:
        return invoke(ctx)
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except InputError as err:
        if debug:
            raise
        raise BadInput(str(err)) from None
    except KeyboardInterrupt as err:
        if debug:
            raise
        after = ctx.meta.get(AFTER_INTERRUPT) or _AFTER
        if isinstance(err, Terminated):
            click.echo(f"Terminated (SIGTERM): {after}", err=True)
            raise click.exceptions.Exit(EXIT_TERMINATED) from None
        click.echo(f"Interrupted: {after}", err=True)
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    except DataGenError as err:
        if debug:
            raise
        raise click.ClickException(str(err)) from None
    except OSError as err:
        if debug:
            raise
        where = f"{err.filename}: " if err.filename else ""
        hint = " (free some space and run the command again)" if err.errno == ENOSPC else ""
        raise click.ClickException(f"{where}{err.strerror or err}{hint}") from None


class DataGenCommand(click.Command):
    """A command whose library errors become one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        return _translate(ctx, super().invoke)


COMMANDS = {
    "document": "documents",
    "journey": "journeys",
    "load": "load",
    "populate": "scenarios",
    "probe": "probe",
    "providers": "providers",
    "publish": "publish",
    "replay": "replay",
    "report": "scenarios",
    "verify": "verify",
    "verify-target": "scenarios",
}
"""Each command and the module of ``datagen_cli.commands`` that adds it to the group."""


class DataGenGroup(click.Group):
    """The top-level group: every command it makes is a DataGenCommand.

    A command's module is imported when the command is asked for (click's
    "lazily loading subcommands"): ``document`` loads what documents need,
    not what ``replay`` or ``publish`` do (~0.1 s of start-up). ``--help``
    imports them all, for their short help.
    """

    command_class = DataGenCommand

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if cmd_name not in self.commands and module is not None:
            import_module(f"datagen_cli.commands.{module}")  # its @cli.command adds it
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as err:  # "Did you mean …?" among all commands
            raise click.exceptions.NoSuchCommand(
                err.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None


@click.group(cls=DataGenGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="datagen")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Generate reproducible synthetic documents and user journeys.

    \b
    Example:
        python generate.py document -p org -q 1000 --seed 7
        python generate.py providers
    """
    ctx.meta["datagen.debug"] = debug
    if not debug:
        # psycopg logs "error ignored in rollback of <Transaction … (host=…)>" when an
        # interrupt stops a COPY mid-stream: noise beside our one line saying what holds.
        logging.getLogger("psycopg").setLevel(logging.ERROR)
    handle_sigterm(ctx)


def main() -> None:
    """The console script (``datagen``) and ``generate.py``: usage lines name the one run."""
    # numpy's OpenBLAS starts a thread per core when numpy is imported; nothing here does
    # linear algebra, and on a busy machine those threads cost ~20-50 ms of start-up.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    cli(prog_name=name if name in ("generate.py", "datagen") else "datagen")
