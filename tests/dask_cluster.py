"""A real Dask cluster for tests: ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1.

Each process is started from the repository with this virtualenv's ``dask``
(``PYTHONPATH`` names the repository, so the workers import this project),
on a free port, and stopped by its PID. Workers run without a nanny and with
one thread, so killing a worker's PID kills the worker for good.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from datagen import generator
from datagen.scenarios import cluster_blobs, cluster_load
from datagen.seeding import Shard

REPO = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    address: str
    logs: Path
    pythonpath: str
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    stack: ExitStack = field(default_factory=ExitStack)

    def add_worker(
        self,
        name: str,
        *,
        pythonpath: str | None = None,
        nanny: bool = False,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start ``dask worker NAME`` and wait until the scheduler has it.

        ``nanny``: under a nanny process, which starts the worker again when it dies.
        """
        log = open(self.logs / f"{name}.log", "wb")
        self.stack.callback(log.close)
        process = subprocess.Popen(
            [
                str(DASK),
                "worker",
                self.address,
                "--host",
                "127.0.0.1",
                "--nthreads",
                "1",
                "--nanny" if nanny else "--no-nanny",
                "--no-dashboard",
                "--name",
                name,
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": pythonpath or self.pythonpath, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.stack.callback(stop, process)
        self.workers.append(process)
        self.wait_for(name)
        return process

    def run_killing_a_worker(
        self, name: str, run: Callable[[Callable[[int], None], int], None], attempts: int = 3
    ) -> int:
        """``run(progress, attempt)`` while a new worker ``NAME-ATTEMPT`` is SIGKILLed the
        first time a shard comes back while it holds shards in flight.

        On a busy machine the other workers may take every task before the new one
        holds any when a shard comes back: the run is then tried again with a new
        worker, up to ``attempts`` runs. Returns the attempt that killed its worker.
        """
        from distributed import Client

        killed: list[int] = []
        for attempt in range(attempts):
            victim = self.add_worker(f"{name}-{attempt}")
            address = self.worker_address(f"{name}-{attempt}")
            with Client(self.address, timeout=10) as watcher:

                def progress(count: int) -> None:
                    if not killed and watcher.processing(workers=[address]).get(address):
                        os.kill(victim.pid, signal.SIGKILL)
                        victim.wait()
                        killed.append(count)

                run(progress, attempt)
            if killed:
                return attempt
        raise AssertionError(f"the victim never held a shard in flight ({attempts} runs)")

    def worker_address(self, name: str) -> str | None:
        from distributed import Client

        with Client(self.address, timeout=10) as client:
            for address, info in client.scheduler_info(n_workers=-1)["workers"].items():
                if info.get("name") == name:
                    return str(address)
        return None

    def wait_for(self, name: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while self.worker_address(name) is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"dask worker {name} did not join {self.address}")
            time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process by its PID, SIGKILL it if it lingers."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def dask_cluster(
    logs: Path,
    *,
    workers: int = 2,
    pythonpath: str = str(REPO),
    allowed_failures: int | None = None,
    nanny: bool = False,
    worker_env: dict[str, str] | None = None,
) -> Iterator[Cluster]:
    """A scheduler and ``workers`` workers, stopped by PID on the way out.

    ``allowed_failures``: how many times the scheduler runs a task again whose
    worker died (Dask's default is 3); ``nanny`` and ``worker_env``: as
    :meth:`Cluster.add_worker`.
    """
    port = free_port()
    cluster = Cluster(f"tcp://127.0.0.1:{port}", logs, pythonpath)
    failures = {}
    if allowed_failures is not None:
        failures["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = str(allowed_failures)
    with cluster.stack:
        log = open(logs / "scheduler.log", "wb")
        cluster.stack.callback(log.close)
        scheduler = subprocess.Popen(
            [
                str(DASK),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--dashboard-address",
                "127.0.0.1:0",
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": pythonpath, **failures},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        cluster.stack.callback(stop, scheduler)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if scheduler.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"dask scheduler did not start: see {logs}/scheduler.log")
                time.sleep(0.2)
        for index in range(workers):
            cluster.add_worker(f"worker-{index + 1}", nanny=nanny, env=worker_env)
        yield cluster


# -- shard tasks that kill their worker (sent to the workers by reference: this module) ---

KILLER = 3
"""The index of the shard that kills its worker, each time it runs."""

_document_shard = generator.document_shard
_write_shard = cluster_load.write_shard
_upload_shard = cluster_blobs.upload_shard


def kill_documents(job: generator.DocumentJob, shard: Shard) -> Any:
    """``generator.document_shard``, but shard KILLER kills its process (put in its place)."""
    if shard.index == KILLER:
        os._exit(1)
    return _document_shard(job, shard)


def kill_writes(task: tuple[str, Shard]) -> tuple[str, int]:
    """``cluster_load.write_shard``, but an entity's shard KILLER kills its process."""
    if task[1].index == KILLER:
        os._exit(1)
    return _write_shard(task)


def kill_uploads(task: tuple[str, Shard]) -> tuple[str, int, str, bytes]:
    """``cluster_blobs.upload_shard``, but an entity's shard KILLER kills its process."""
    if task[1].index == KILLER:
        os._exit(1)
    return _upload_shard(task)
