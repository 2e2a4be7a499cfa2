"""The local process pool: forked workers that leave Ctrl-C and SIGTERM to their parent."""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from typing import Iterator


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


HELD = {signal.SIGINT, signal.SIGTERM}
"""Held while the workers are forked: an interrupt then would be lost in a fork handler."""


@contextmanager
def forked_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` forked processes that leave Ctrl-C and SIGTERM to this one.

    The workers ignore SIGINT and SIGTERM (the terminal, or a ``kill`` of the
    process group, sends them to the workers too), so an interrupt is one
    KeyboardInterrupt here, not a traceback per worker; on any error the work
    not yet started is cancelled before the pool closes. The workers are forked
    at once with SIGINT and SIGTERM held: one arriving meanwhile would be
    raised inside a fork handler, where Python ignores it (the run went on and
    ended with exit 0), so it is raised here once they exist.
    """
    context = multiprocessing.get_context("fork")
    held = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker)
    try:
        try:
            pool.submit(int).result()  # forks every worker (the fork context starts them all)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a held interrupt is raised here
        yield pool
    except BaseException:
        with suppress(OSError):  # interrupted, CPython's pool may close its queue twice
            pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _worker() -> None:
    """Set up a forked worker: Ctrl-C and SIGTERM are the parent's; the collector runs less.

    What the worker inherits (modules, the plan) is frozen out of the collector's
    sight, and it collects after 50,000 allocations instead of 700: shards make
    hundreds of thousands of short-lived dicts that reference counting frees
    anyway (7 % less CPU per row building a population).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD)  # forked while the parent held them
    die_with_parent()
    gc.freeze()
    gc.set_threshold(*THRESHOLD)


THRESHOLD = (50_000, 20, 100)
"""The collector's thresholds while shards are made (Python's default: 700, 10, 10)."""


@contextmanager
def collector_tuned() -> Iterator[None]:
    """Shards made in this process, with the collector as a forked worker has it.

    What the process holds already (modules, the plan) is frozen out of the
    collector's sight and it collects after 50,000 allocations, as in
    :func:`_worker`: a shard's documents are short-lived dicts that reference
    counting frees (100,000 ``org`` documents on one worker: ~0.08 s, a tenth
    of the run). Restored afterwards: this process may go on with other work.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def die_with_parent() -> None:
    """On Linux, SIGKILL the worker when its parent dies (killed: it can't clean up).

    A worker ignoring Ctrl-C and SIGTERM would otherwise wait for work forever.
    """
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pool's own checks are all there is
        pass
