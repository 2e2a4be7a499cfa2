"""Ctrl-C in the middle of a populate: one line, exit 130, nothing half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_ctrl_c_during_populate_says_one_line_and_leaves_no_partial_folder(tmp_path: Path) -> None:
    command = [
        sys.executable, "generate.py", "populate", "scenarios/prod_like.yaml",
        "--to", str(tmp_path), "--scale", "5", "--seed", "7", "--workers", "2",
    ]  # fmt: skip
    # A terminal sends SIGINT to the whole process group: the workers get it too.
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        time.sleep(1.5)  # started, planned, its workers at work (the run takes seconds)
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert err.splitlines() == [
        "Interrupted: the target may hold part of the run, never a half-written file or batch; "
        "run the same command again to finish (writes are idempotent)."
    ]
    assert list(tmp_path.iterdir()) == []  # not even the hidden folder it was building
