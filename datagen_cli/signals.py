"""Ctrl-C and SIGTERM for commands that stop cleanly: finish what is in flight, then report.

``replay`` and ``load`` take the first signal as "stop handing out work",
the second as "abandon what is in flight"; they exit 130 after Ctrl-C, 143
after SIGTERM, as every command does.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from types import FrameType
from typing import Iterator

from datagen_cli.app import EXIT_INTERRUPTED, EXIT_TERMINATED
from datagen_cli.options import say


@contextmanager
def interruptible(
    quiet: bool = False,
) -> Iterator[tuple[threading.Event, threading.Event, list[int]]]:
    """SIGINT/SIGTERM set ``stop`` (finish writes in flight); a second one ``abandon``.

    The third item lists the signals received (the exit code follows the first).
    """
    stop, abandon = threading.Event(), threading.Event()
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield stop, abandon, received
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        again = "Ctrl-C" if signum == signal.SIGINT else "a second SIGTERM"
        if stop.is_set():
            abandon.set()
            say("Abandoning the writes in flight.", quiet=quiet, err=True)
            return
        stop.set()
        what = "" if signum == signal.SIGINT else " (SIGTERM)"
        say(
            f"Stopping{what}: finishing the writes in flight ({again} again to abandon them).",
            quiet=quiet,
            err=True,
        )

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop, abandon, received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def exit_code(received: list[int]) -> int:
    """The exit code of a run stopped by ``received`` signals: the first one decides."""
    return EXIT_TERMINATED if received[:1] == [signal.SIGTERM] else EXIT_INTERRUPTED
