"""Clocks for the replay: the system's monotonic clock, and a manual one for tests."""

from __future__ import annotations

import threading
import time
from typing import Callable, Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale."""

    def sleep_until(self, deadline: float, stop: threading.Event) -> bool:
        """Wait until ``deadline``; False if ``stop`` was set first."""

    def bind(self, settle: Callable[[], None]) -> None:
        """Called by the replay with a function that waits until all due work is done."""


MAX_WAIT = 3600.0  # seconds waited at once (a slow replay may wait for months)


class SystemClock:
    """Real time (``time.monotonic``)."""

    def now(self) -> float:
        return time.monotonic()

    def sleep_until(self, deadline: float, stop: threading.Event) -> bool:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return not stop.is_set()
            if stop.wait(min(remaining, MAX_WAIT)):  # a wait may not exceed TIMEOUT_MAX
                return False

    def bind(self, settle: Callable[[], None]) -> None:
        pass


class ManualClock:
    """Virtual time for tests: sleeping jumps ahead, once the work due so far is done.

    So a test replays hours of schedule in milliseconds, and a target that
    records ``now()`` sees exactly when each step was due, as with an
    infinitely fast target.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.time = start
        self._settle: Callable[[], None] = lambda: None

    def now(self) -> float:
        return self.time

    def sleep_until(self, deadline: float, stop: threading.Event) -> bool:
        if deadline > self.time:
            self._settle()
            self.time = max(self.time, deadline)
        return not stop.is_set()

    def bind(self, settle: Callable[[], None]) -> None:
        self._settle = settle
