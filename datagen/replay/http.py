"""The HTTP target: each step's document POSTed as JSON to the staging environment.

``{type}`` in the URL is replaced by the step's document type. Each request
carries ``Idempotency-Key: <journey>:<step>`` so an endpoint can ignore a
repeat. Connection errors, timeouts, 408/425/429 and 5xx are transient;
any other non-2xx answer is a failure. Header values (tokens) are never
printed.
"""

from __future__ import annotations

import threading
from typing import Collection, Mapping, Sequence
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from datagen.errors import InputError
from datagen.replay.source import ReplayStep
from datagen.replay.targets import TRANSIENT_HTTP, StepTarget, WriteFailed, document_url
from datagen.replay.targets import endpoint_of

TIMEOUT = (5.0, 30.0)  # connect, read (seconds)


class HttpTarget(StepTarget):
    def __init__(self, url: str, *, headers: Mapping[str, str]) -> None:
        super().__init__(url)
        parts = urlsplit(url)
        if not parts.hostname:
            raise InputError(
                f"{self.label!r} has no host", hint="e.g. http://127.0.0.1:8080/{type}"
            )
        self.headers = {"Content-Type": "application/json", **headers}
        self.endpoint = endpoint_of(url)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def open(self, document_types: Collection[str]) -> None:
        pass  # an endpoint may only accept POSTs: the first write tells

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=1))
            session.mount("https://", HTTPAdapter(pool_connections=1, pool_maxsize=1))
            session.headers.update(self.headers)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def write(self, steps: Sequence[ReplayStep]) -> None:
        session = self._session()
        for step in steps:
            url = document_url(self.url, step.document_type)
            key = f"{step.journey}:{step.index}"
            try:
                response = session.post(
                    url, data=step.data, headers={"Idempotency-Key": key}, timeout=TIMEOUT
                )
            except requests.Timeout:
                raise WriteFailed(f"{self.endpoint} timed out", transient=True) from None
            except requests.ConnectionError:
                raise WriteFailed(f"cannot reach {self.endpoint}", transient=True) from None
            except requests.RequestException as err:
                raise WriteFailed(
                    f"request to {self.endpoint} failed: {type(err).__name__}", transient=False
                ) from None
            status = response.status_code
            response.close()
            if status >= 300:
                raise WriteFailed(
                    f"{self.endpoint} answered HTTP {status} for {urlsplit(url).path}",
                    transient=status in TRANSIENT_HTTP,
                )

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
