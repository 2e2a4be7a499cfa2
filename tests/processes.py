"""Running the CLI as a real process, with its exit code, output, time and peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mib: float  # the process's own peak resident memory (wait4's ru_maxrss)


def run_measured(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path = REPO,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Measured:
    """Run ``python generate.py ARGS`` and measure it (killed after ``timeout`` seconds)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, str(REPO / "generate.py"), *map(str, args)],
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
            stdout=out,
            stderr=err,
        )
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)  # so Popen won't wait again
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return Measured(
            process.returncode,
            out.read().decode(),
            err.read().decode(),
            seconds,
            usage.ru_maxrss / 1024,
        )
