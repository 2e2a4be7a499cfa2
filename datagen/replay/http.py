"""The HTTP target: each step's document POSTed as JSON to the staging environment.

``{type}`` in the URL is replaced by the step's document type. Each request
carries ``Idempotency-Key: <journey>:<step>`` so an endpoint can ignore a
repeat. Connection errors, timeouts, 408/425/429 and 5xx are transient;
any other non-2xx answer is a failure. Header values (tokens) are never
printed.
"""

from __future__ import annotations

import socket
from typing import Collection, Mapping, Sequence
from urllib.parse import quote

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, ProtocolError
from urllib3.exceptions import TimeoutError as HttpTimeout

from datagen.errors import SinkError
from datagen.replay.steps import TRANSIENT_HTTP, ReplayStep, StepTarget, WriteFailed
from datagen.sinks.urls import parse_http_url, url_path

CONNECT_TIMEOUT = 5.0
TIMEOUT = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=30.0)


class HttpTarget(StepTarget):
    """POSTs through one urllib3 pool (thread-safe; a kept-alive connection per writer).

    urllib3 rather than requests: a quarter of the CPU per request, which is
    what bounds the rate on a small machine.
    """

    def __init__(self, url: str, *, headers: Mapping[str, str]) -> None:
        super().__init__(url)
        self.address = parse_http_url(url)
        self.headers = {"Content-Type": "application/json", **headers}
        self.endpoint = self.address.shown
        self._pool: urllib3.PoolManager | None = None

    def open(self, document_types: Collection[str]) -> None:
        """Check that the endpoint's host accepts connections (so a typo fails at once)."""
        host, port = self.address.hostname, self.address.port
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
        except socket.gaierror:
            raise SinkError(f"unknown host {host!r} in {self.label}") from None
        except OSError as err:
            raise SinkError(
                f"cannot reach {self.endpoint}: {err.strerror or type(err).__name__}",
                hint="check that the staging service runs and the URL's host and port",
            ) from None
        self._pool = urllib3.PoolManager(num_pools=4, maxsize=64, block=False, retries=False)

    def write(self, steps: Sequence[ReplayStep]) -> None:
        assert self._pool is not None, "open() first"
        for step in steps:
            url = document_url(self.url, step.document_type)
            headers = {**self.headers, "Idempotency-Key": f"{step.journey}:{step.index}"}
            try:
                response = self._pool.request(
                    "POST", url, body=step.data, headers=headers, timeout=TIMEOUT
                )
            except (NewConnectionError, ProtocolError):  # (before: urllib3's is a timeout)
                raise WriteFailed(f"cannot reach {self.endpoint}", transient=True) from None
            except HttpTimeout:
                raise WriteFailed(f"{self.endpoint} timed out", transient=True) from None
            except HTTPError as err:
                raise WriteFailed(
                    f"request to {self.endpoint} failed: {type(err).__name__}", transient=False
                ) from None
            status = response.status
            if status >= 300:
                raise WriteFailed(
                    f"{self.endpoint} answered HTTP {status} for {url_path(url)}",
                    transient=status in TRANSIENT_HTTP,
                )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.clear()
            self._pool = None


def document_url(template: str, document_type: str) -> str:
    return template.replace("{type}", quote(document_type, safe=""))
