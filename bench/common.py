"""Helpers for benchmarks: time a command or a callable, print ratios."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent


def time_command(*args: str) -> float:
    """Seconds taken by ``python generate.py ARGS`` (end to end, start-up included)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "generate.py"), *args], check=True, cwd=ROOT)
    return time.perf_counter() - start


def time_call(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def report(
    label: str, value: float, unit: str, *, baseline: float | None = None, goal: str = ""
) -> None:
    ratio = f"   ratio {value / baseline:5.2f}" if baseline else ""
    goal = f"   (goal {goal})" if goal else ""
    print(f"{label:<58} {value:>12,.0f} {unit}{ratio}{goal}", flush=True)
