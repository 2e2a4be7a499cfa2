"""The local process pool keeps a Ctrl-C that arrives while its workers are forked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# A real SIGINT, sent by the process to itself from a fork handler: the moment of a
# Ctrl-C pressed as the pool starts. Python ignores an exception raised in a fork
# handler ("Exception ignored in: <function _releaseLock …>"): before the signals
# were held while forking, this run printed "finished 50" and exited 0.
SCRIPT = """
import os, signal, sys
sys.path.insert(0, sys.argv[1])
from datagen.engines.processes import forked_pool

fired = []
def interrupt_while_forking():
    if not fired:
        fired.append(1)
        os.kill(os.getpid(), signal.SIGINT)
os.register_at_fork(before=interrupt_while_forking)
try:
    with forked_pool(2) as pool:
        results = list(pool.map(abs, range(-50, 0)))
    print("finished", len(results))
except KeyboardInterrupt:
    print("interrupted")
"""


def test_a_ctrl_c_while_the_workers_are_forked_interrupts_the_run() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(REPO)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "interrupted", (done.stdout, done.stderr)
    assert "Exception ignored" not in done.stderr
