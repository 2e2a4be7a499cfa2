"""Journeys to replay, and a real local HTTP server that records what it receives."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from datagen.journey_generator import generate_journeys

SEED = 7


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each test in its own folder: a default checkpoint lands there, not in output/."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def journeys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of 12 job_lifecycle journeys (do not modify it)."""
    root = tmp_path_factory.mktemp("journeys")
    generate_journeys(journey="job_lifecycle", quantity=12, seed=SEED, to=root, workers=1)
    return root / "job_lifecycle"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: dict


@dataclass
class Recorder:
    """What the server received, and how it should answer the next requests."""

    url: str
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # statuses to answer first, in order
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keys(self) -> list[str]:
        return [r.headers["Idempotency-Key"] for r in self.received]


@pytest.fixture
def http_server() -> Iterator[Recorder]:
    """A ThreadingHTTPServer on 127.0.0.1 that records POSTs (answers 201 unless told)."""
    recorder = Recorder(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length))
            with recorder.lock:
                status = recorder.answers.pop(0) if recorder.answers else 201
                if status < 300:
                    recorder.received.append(
                        Received("POST", self.path, dict(self.headers.items()), body)
                    )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
