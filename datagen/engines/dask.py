"""The Dask engine: the same shard tasks on a Dask cluster (``--scheduler``).

The client (this process) submits one task per shard, at most a few per
worker thread ahead of the one it waits for, and takes the results in shard
order, so memory stays flat and the output is the bytes the local engine
makes. Dask reruns the tasks of a worker that dies on another one; a shard is
a pure function of its inputs, so a rerun gives the same result.

``distributed`` is imported here only: it is heavy, and only ``--scheduler`` needs it.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence, TypeVar

from datagen import __version__
from datagen.engines import Setup
from datagen.engines.tasks import call_items, call_shards, identity
from datagen.errors import DataGenError
from datagen.engines.processes import default_workers
from datagen.seeding import Shard

if TYPE_CHECKING:  # distributed is heavy: imported only for --scheduler (see the docstring)
    from distributed import Client, Future

J = TypeVar("J")
T = TypeVar("T")
R = TypeVar("R")

CONNECT_TIMEOUT = 5.0
"""Seconds to reach the scheduler before giving up (an unreachable one fails fast)."""
WORKERS_TIMEOUT = 10.0
"""Seconds to wait for a first worker, and for one to come back when all are lost."""
AHEAD = 4
"""Tasks in flight per worker thread: enough to hide a round trip to the cluster."""
SHARDS_PER_TASK = 8
"""At most this many shards per task (a document shard takes ~35 ms on a core here, a task
~10 ms of the cluster's time: see the README's figures)."""


class EngineError(DataGenError):
    """The Dask cluster can't run the work: unreachable, wrong workers, workers lost."""


class DaskEngine:
    """Shard tasks on the cluster behind ``client``."""

    name = "dask"

    def __init__(self, client: Client, address: str) -> None:
        self.client = client
        self.address = address

    def threads(self) -> int:
        return max(1, int(sum(self.client.nthreads().values())))

    def map_shards(
        self, task: Callable[[J, Shard], R], job: J, shards: Sequence[Shard], *, workers: int | None
    ) -> Iterator[R]:
        """Yield ``task(job, shard)`` for every shard, in order."""
        return self._ordered(
            lambda batch: self.client.submit(call_shards, task, job, batch, pure=False),
            list(shards),
            AHEAD,
        )

    def run_ordered(
        self,
        task: Callable[[T], R],
        items: Iterable[T],
        *,
        workers: int | None,
        ahead: int,
        setup: Setup | None,
    ) -> Iterator[R]:
        """Yield ``task(item)`` in order; ``setup``'s state is sent once to every worker.

        The state is the result of a task, not scattered data: when every worker that
        held it has died, Dask makes it again (scattered data would be lost for good,
        and every task after it cancelled).
        """
        install, state = setup if setup is not None else (None, None)
        if setup is not None:
            state = self.client.submit(identity, state, pure=False)
        return self._ordered(
            lambda batch: self.client.submit(call_items, install, state, task, batch, pure=False),
            list(items),
            max(ahead, AHEAD),
        )

    def _ordered(
        self, submit: Callable[[list[Any]], Future], items: list[Any], ahead: int
    ) -> Iterator[Any]:
        """Submit ``items`` in batches, at most ``ahead`` per thread in flight; yield in order.

        A task takes up to SHARDS_PER_TASK shards (fewer when that would leave
        threads idle): Dask's cost is per task, a shard's result is its own.
        """
        threads = self.threads()
        size = max(1, min(SHARDS_PER_TASK, len(items) // (threads * ahead)))
        batches = iter([items[i : i + size] for i in range(0, len(items), size)])
        pending: deque[Future] = deque()
        try:
            for batch in batches:
                pending.append(submit(batch))
                if len(pending) >= ahead * threads:
                    break
            while pending:
                results = self._result(pending[0])
                pending.popleft()
                following = next(batches, None)
                if following is not None:
                    pending.append(submit(following))
                yield from results
        finally:
            if pending:  # an error, Ctrl-C or a consumer that stopped: drop the rest
                with suppress(Exception):
                    self.client.cancel(list(pending))

    def everywhere(self, function: Callable[[], None]) -> None:
        """Call ``function()`` on every worker (best effort: a lost worker has nothing left)."""
        with suppress(Exception):
            self.client.run(function)

    def _result(self, future: Future) -> Any:
        """The future's result; a one-line error if its worker died or none is left."""
        from distributed import KilledWorker  # heavy: see the module's docstring

        alone_since: float | None = None
        while True:
            try:
                return future.result(timeout=1)
            except TimeoutError:
                pass
            except DataGenError:
                raise
            except KilledWorker as err:
                last = getattr(err.last_worker, "address", err.last_worker)
                raise EngineError(
                    f"Dask workers died running one shard again and again (last: {last})",
                    hint="see the workers' logs (memory?); nothing was completed",
                ) from None
            except Exception as err:  # the cluster's own failure, or a bug in a shard
                raise EngineError(
                    f"the Dask cluster at {self.address} failed a task: "
                    f"{type(err).__name__}: {_first_line(err)}",
                    hint="--debug shows its traceback; the scheduler and the workers must run "
                    "this version of the project",
                ) from err
            if self.client.nthreads():
                alone_since = None
            elif alone_since is None:
                alone_since = time.monotonic()
            elif time.monotonic() - alone_since > WORKERS_TIMEOUT:
                raise EngineError(
                    f"the Dask cluster at {self.address} lost all its workers",
                    hint="start workers again and run the same command; nothing was completed",
                )


@contextmanager
def connect(address: str, *, workers: int | None) -> Iterator[DaskEngine]:
    """A client on ``address`` (``local``: a new LocalCluster), its workers checked."""
    from distributed import Client, LocalCluster  # heavy: see the module's docstring

    logging.getLogger("distributed").setLevel(logging.CRITICAL)  # our errors are one line
    cluster = None
    if address == "local":
        cluster = LocalCluster(
            n_workers=workers or default_workers(),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # its HTTP server, on a free port
            silence_logs=logging.CRITICAL,  # its workers' warnings too: our errors are one line
        )
        client = Client(cluster, direct_to_workers=True)
    else:
        try:
            # Results come straight from the workers, not through the scheduler (half the copies)
            client = Client(address, timeout=CONNECT_TIMEOUT, direct_to_workers=True)
        except (OSError, TimeoutError) as err:
            raise EngineError(
                f"cannot reach the Dask scheduler at {address} in {CONNECT_TIMEOUT:g} s "
                f"({type(err).__name__})",
                hint="start it with 'dask scheduler', or check --scheduler / DATAGEN_SCHEDULER",
            ) from None
    try:
        check_workers(client, address)
        yield DaskEngine(client, address)
    finally:
        with suppress(Exception):
            client.close()
        if cluster is not None:
            with suppress(Exception):
                cluster.close()


def check_workers(client: Client, address: str) -> None:
    """Refuse a cluster without workers, or whose workers lack this version of the project."""
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
    except TimeoutError:
        raise EngineError(
            f"the Dask scheduler at {address} has no workers",
            hint=f"start some: dask worker {address} --nthreads 1",
        ) from None

    def probe() -> str | None:  # defined here so that it is sent by value, not imported
        try:
            import datagen  # on the worker: is the package installed there?
        except ImportError:
            return None
        return str(getattr(datagen, "__version__", None))

    versions = {f"worker {worker}": v for worker, v in client.run(probe).items()}
    versions["the scheduler"] = client.run_on_scheduler(probe)  # it unpickles the tasks too
    missing = sorted(name for name, version in versions.items() if version is None)
    if missing:
        raise EngineError(
            f"Dask processes without the project (cannot import datagen): {', '.join(missing)}",
            hint="install it where the scheduler and every worker run (pip install .)",
        )
    other = {name: version for name, version in versions.items() if version != __version__}
    if other:
        name, version = sorted(other.items())[0]
        raise EngineError(
            f"Dask {name} runs generator_version {version}, this is {__version__}: "
            f"{len(other)} of {len(versions)} Dask processes differ",
            hint="install the same version on every worker; shards must be made by one version",
        )


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [""])[0][:200]
