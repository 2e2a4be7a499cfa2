"""Running the CLI as a real process, with its exit code, output, time and peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
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
    peak_mib: float  # the command's own peak resident memory (its ru_maxrss)


# Linux keeps a process's peak memory across exec, and a child spawned by vfork
# starts with its parent's (pytest's, hundreds of MB): so a small Python process
# runs the command and reports the peak of that grandchild alone.
_WRAPPER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def run_measured(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path = REPO,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Measured:
    """Run ``python generate.py ARGS`` and measure it (killed after ``timeout`` seconds)."""
    with tempfile.TemporaryDirectory() as folder:
        peak = Path(folder) / "peak"
        command = [sys.executable, str(REPO / "generate.py"), *map(str, args)]
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", _WRAPPER, str(peak), *command],
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        seconds = time.monotonic() - started
        return Measured(
            done.returncode, done.stdout, done.stderr, seconds, int(peak.read_text()) / 1024
        )
