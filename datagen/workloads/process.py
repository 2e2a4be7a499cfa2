"""A writer's own process: connect, say ready, start with the others, run, send the stats.

Each writer runs in a process of its own (forked), so its latency never
includes another writer's CPU work. It ignores Ctrl-C (the parent's to
handle: it sets ``stop``), dies with its parent, and talks to the parent
through one queue: ``("ready" | "status" | "done" | "error", "writer#part", data)``.
"""

from __future__ import annotations

import gc
import signal
import sys
import threading
import time
from typing import Any, Callable

from datagen.engines.processes import die_with_parent  # the workers' PR_SET_PDEATHSIG
from datagen.errors import DataGenError
from datagen.workloads.database import Database
from datagen.workloads.metrics import Stats
from datagen.workloads.schedule import WriterPlan
from datagen.workloads.multiplex import run_writer
from datagen.workloads.writer import Writer

SWITCH_INTERVAL = 0.0002  # seconds


def run_in_process(
    plan: WriterPlan,
    url: str,
    *,
    speed: float | None,
    retries: int,
    start: Any,  # multiprocessing.Event: set when t0 is known
    t0: Any,  # multiprocessing.Value('d')
    stop: Any,  # multiprocessing.Event
    messages: Any,  # multiprocessing.Queue: ("ready"|"status"|"done"|"error", name, data)
) -> None:
    """A writer process: connect, say ready, wait for the start, run, send the stats."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    die_with_parent()
    if plan.writer.affinity and plan.writer.connections > 1:
        # A connection whose answer came back takes the GIL from the scheduler thread
        # within 0.2 ms, not the default 5 ms: the wait would count in the latency.
        sys.setswitchinterval(SWITCH_INTERVAL)
    name = f"{plan.name}#{plan.part}"  # the writer, and which of its processes
    database = Database(url)
    try:
        writer = Writer(plan, database, speed=speed, retries=retries, stop=stop)
        writer.connect()
    except DataGenError as err:
        messages.put(("error", name, str(err)))
        return
    messages.put(("ready", name, None))
    while not start.wait(0.1):
        if stop.is_set():
            writer.close()
            messages.put(("done", name, writer.stats.to_wire()))
            return
    gc.freeze()  # what the process holds is out of the collector's way while it writes
    wait_until(t0.value)
    status = _reporter(writer.stats, name, messages)
    try:
        stats = run_writer(writer, t0.value)
    except Exception as err:  # a bug: say it rather than die silently
        messages.put(("error", name, f"writer {plan.name!r} failed: {type(err).__name__}: {err}"))
        return
    finally:
        status()
        database.dispose()
    messages.put(("done", name, stats.to_wire()))


def _reporter(stats: Stats, name: str, messages: Any) -> Callable[[], None]:
    """Send a status snapshot twice a second; returns the function that stops it."""
    finished = threading.Event()

    def report() -> None:
        while not finished.wait(0.5):
            messages.put(("status", name, stats.snapshot()))

    thread = threading.Thread(target=report, daemon=True)
    thread.start()

    def stop() -> None:
        finished.set()
        thread.join()

    return stop


def wait_until(deadline: float) -> None:
    """Sleep until ``deadline`` on the monotonic clock (the writers' shared start)."""
    remaining = deadline - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
