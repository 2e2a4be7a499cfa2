"""A small real file system that fills up: a tmpfs mounted for one test (a plugin module).

Mounting needs root (or CAP_SYS_ADMIN), which this project's machines and CI
have; elsewhere the tests that need a full disk skip, except under CI=true.
"""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, ContextManager, Iterator

import pytest


@contextmanager
def mounted_tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mount.returncode != 0:
        reason = f"cannot mount a tmpfs to fill up: {mount.stderr.strip() or mount.returncode}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Callable[[str], ContextManager[Path]]:
    """``with small_disk("1m") as folder:`` a folder on a file system of that size."""
    count = iter(range(1000))

    def make(size: str) -> ContextManager[Path]:
        return mounted_tmpfs(tmp_path / f"disk{next(count)}", size)

    return make
