"""Pytest fixtures for the Azurite blob emulator (a plugin module).

The ``azurite`` fixture (session scope; the function is ``azurite_server``)
starts ``node_modules/.bin/azurite-blob`` on a free port with its data in a
temporary folder, and stops that process (by its own PID) at the end. Without
the binary the tests are skipped, except in CI (``CI=true``) where that is a
failure: run ``npm install`` in the repo.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
from azure.storage.blob import (
    BlobServiceClient,
    ContainerClient,
    ContainerSasPermissions,
    generate_container_sas,
)

REPO = Path(__file__).resolve().parents[1]
AZURITE_BIN = REPO / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT = "devstoreaccount1"
# The emulator's well-known key (public, documented by Microsoft).
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
START_TIMEOUT = 20.0
STOP_TIMEOUT = 3.0


@dataclass(frozen=True)
class Azurite:
    """A running Azurite blob service."""

    host: str
    port: int
    location: Path
    pid: int

    @property
    def blob_endpoint(self) -> str:
        return f"http://{self.host}:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def container_url(self, container: str, prefix: str = "") -> str:
        url = f"{self.blob_endpoint}/{container}"
        return f"{url}/{prefix}" if prefix else url

    def service(self) -> BlobServiceClient:
        return BlobServiceClient.from_connection_string(self.connection_string)

    def container(self, name: str) -> ContainerClient:
        return ContainerClient.from_connection_string(self.connection_string, name)

    def sas_token(self, container: str, *, hours: float = 1.0) -> str:
        """A container SAS (write, create, list) like the portal's, with a leading '?'."""
        token = generate_container_sas(
            ACCOUNT,
            container,
            account_key=ACCOUNT_KEY,
            permission=ContainerSasPermissions(write=True, create=True, list=True),
            expiry=datetime.now(timezone.utc) + timedelta(hours=hours),
        )
        return f"?{token}"

    def new_container_name(self, stem: str = "test") -> str:
        return f"{stem}-{uuid.uuid4().hex[:12]}"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required in CI)", pytrace=False)
    pytest.skip(reason)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate Azurite; kill it if it lingers (it waits for idle keep-alive clients)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session", name="azurite")
def azurite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """``azurite``: a fresh Azurite blob service for the test session.

    Import ``azurite_server`` into a test module (or list this module in
    ``pytest_plugins``) to use it; the fixture's name is ``azurite``.
    """
    if not AZURITE_BIN.exists():
        _missing(f"Azurite is not installed ({AZURITE_BIN} is missing): run `npm install`")
    host, port = "127.0.0.1", free_port()
    location = tmp_path_factory.mktemp("azurite")
    log_path = location.parent / f"{location.name}.log"
    command = [
        str(AZURITE_BIN),
        "--blobHost",
        host,
        "--blobPort",
        str(port),
        "--location",
        str(location),
        "--skipApiVersionCheck",
        "--silent",
        "--loose",
    ]
    with open(log_path, "wb") as log:
        try:
            process = subprocess.Popen(
                command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        except OSError as err:  # e.g. node is not installed
            _missing(f"cannot start Azurite: {err}")
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _accepts(host, port):
            if process.poll() is not None:
                output = log_path.read_text(errors="replace")[-2000:]
                pytest.fail(f"Azurite exited with {process.returncode}:\n{output}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"Azurite did not listen on {host}:{port} within {START_TIMEOUT:.0f} s")
            time.sleep(0.1)
        yield Azurite(host=host, port=port, location=location, pid=process.pid)
    finally:
        _stop(process)
