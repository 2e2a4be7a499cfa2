"""Where shards run: local processes (the default) or a Dask cluster (``--scheduler``).

An engine runs a shard function over a run's shards and yields the results in
shard order. A shard's result is a pure function of the job and the shard, so
the bytes a run writes are the same whatever the engine and however many
workers it has. :mod:`datagen.parallel` and :mod:`datagen.scenarios.ordered`
hand their work to the engine current in this context; :func:`using` makes a
Dask cluster current for the length of a run.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterable, Iterator, Protocol, Sequence, TypeVar

from datagen.errors import InputError
from datagen.seeding import Shard

J = TypeVar("J")
T = TypeVar("T")
R = TypeVar("R")

Setup = tuple[Callable[[Any], None], Any]
"""``(install, state)``: called as ``install(state)`` once in each process before its tasks."""

SCHEDULER_ENV = "DATAGEN_SCHEDULER"
SCHEMES = ("tcp", "tls")


class Engine(Protocol):
    """Runs shard tasks and yields their results in order."""

    name: str

    def map_shards(
        self, task: Callable[[J, Shard], R], job: J, shards: Sequence[Shard], *, workers: int | None
    ) -> Iterator[R]: ...

    def run_ordered(
        self,
        task: Callable[[T], R],
        items: Iterable[T],
        *,
        workers: int | None,
        ahead: int,
        setup: Setup | None,
    ) -> Iterator[R]: ...

    def everywhere(self, function: Callable[[], None]) -> None:
        """Call ``function()`` in every process that ran tasks and is still there."""


_current: ContextVar[Engine | None] = ContextVar("datagen_engine", default=None)


def current() -> Engine:
    """The engine of the run in progress: local processes unless :func:`using` said otherwise."""
    from datagen.engines.local import LOCAL  # local imports Setup from here: a cycle at load

    return _current.get() or LOCAL


def check_scheduler(scheduler: str | None) -> str | None:
    """``scheduler`` (``tcp://HOST:PORT``, ``tls://…`` or ``local``), checked; None: no cluster."""
    if scheduler is None or not scheduler.strip():
        return None
    text = scheduler.strip()
    if text.lower() == "local":
        return "local"
    scheme, sep, rest = text.partition("://")
    host, colon, port = rest.rpartition(":")
    if not sep or scheme.lower() not in SCHEMES or not colon or not host or not port.isdigit():
        raise InputError(
            f"--scheduler {text[:80]!r} is not a Dask scheduler address",
            hint="use tcp://HOST:PORT (the port 'dask scheduler' prints, 8786 by default) "
            "or 'local' for a cluster on this machine",
        )
    return text


def check_target(scheduler: str | None, to: object) -> None:
    """Check, before any work, that a run on ``scheduler``'s cluster can write to ``to``.

    Every target can: databases and blob containers are written by the workers
    (:mod:`datagen.cluster_documents`, :mod:`datagen.cluster_files`, the
    scenarios' ``cluster_load`` and ``cluster_blobs``), folders, zips and
    SQLite by the client. What remains to check is the scheduler's address.
    """
    check_scheduler(scheduler)


def scheduler_from_env() -> str | None:
    """``DATAGEN_SCHEDULER``, as ``--scheduler`` reads it."""
    return os.environ.get(SCHEDULER_ENV) or None


@contextmanager
def using(scheduler: str | None, *, workers: int | None = None) -> Iterator[Engine]:
    """Run the shards of the code inside on ``scheduler``'s cluster (None: as before).

    The client connects (or starts a ``LocalCluster`` for ``local``), checks
    that every worker runs this version of the project, and closes on the way out;
    work still running is cancelled first.
    """
    address = check_scheduler(scheduler)
    if address is None or _current.get() is not None:
        yield current()
        return
    from datagen.engines.dask import connect  # distributed is heavy: only for --scheduler

    with connect(address, workers=workers) as engine:
        token = _current.set(engine)
        try:
            yield engine
        finally:
            _current.reset(token)
