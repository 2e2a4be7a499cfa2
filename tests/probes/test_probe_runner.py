"""The probe's clients on a real PostgreSQL: Ctrl-C while they connect leaves none behind.

Review of issue 16: a Ctrl-C while the main thread waited for the clients to
connect (``ready.wait()``) left the clients that had connected waiting at the
barrier for ever, each holding its connection. The second client's connection
goes through a small TCP relay that holds it back until after the Ctrl-C, so
the first client is connected and waiting when the Ctrl-C comes.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import pytest
from sqlalchemy import create_engine

from datagen.probes.database import Database
from datagen.probes.runner import Control, run_clients
from datagen.replay.clock import SystemClock
from datagen.sinks.dialects import parse_database_url


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (sink, source):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@contextmanager
def relay(port: int, held: threading.Event) -> Iterator[int]:
    """A TCP relay to 127.0.0.1:``port``; connections after the first wait for ``held``."""
    listener = socket.create_server(("127.0.0.1", 0))
    sockets: list[socket.socket] = [listener]

    def serve() -> None:
        accepted = 0
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            accepted += 1
            sockets.append(client)
            threading.Thread(target=forward, args=(client, accepted > 1), daemon=True).start()

    def forward(client: socket.socket, wait: bool) -> None:
        if wait:
            held.wait()
        server = socket.create_connection(("127.0.0.1", port))
        sockets.append(server)
        threading.Thread(target=_pump, args=(server, client), daemon=True).start()
        _pump(client, server)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        held.set()
        for end in sockets:
            end.close()


def connections_to(url: str) -> int:
    """Sessions open on ``url``'s database, other than the one asking."""
    _, parsed = parse_database_url(url)
    engine = create_engine(parsed, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return int(
                conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_ctrl_c_while_clients_connect_leaves_no_client_waiting(postgres_db):
    _, parsed = parse_database_url(postgres_db)
    held = threading.Event()
    with relay(parsed.port or 5432, held) as port:
        database = Database(postgres_db.replace(f":{parsed.port or 5432}/", f":{port}/"))
        control = Control(SystemClock())

        def interrupt_then_let_the_second_connect() -> None:
            deadline = time.monotonic() + 30
            while connections_to(postgres_db) < 1:  # the first client is connected
                assert time.monotonic() < deadline
                time.sleep(0.05)
            time.sleep(0.2)  # and waiting at the barrier
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.5)
            held.set()

        before = set(threading.enumerate())
        helper = threading.Thread(target=interrupt_then_let_the_second_connect)
        helper.start()
        with pytest.raises(KeyboardInterrupt):
            run_clients(
                database, lambda *args: None, clients=2, repeat=10, seconds=None, control=control
            )
        helper.join()
        deadline = time.monotonic() + 10
        while connections_to(postgres_db) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert connections_to(postgres_db) == 0  # every client closed its connection
        clients = [t for t in set(threading.enumerate()) - before if "(client)" in t.name]
        assert clients == []  # every client thread ended
        assert control.interrupted and control.stop.is_set()
