"""Workload files written for a test, and the three databases every load test runs on."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.servers import scratch_mariadb, scratch_postgres

WriteYaml = Callable[[str], Path]


@pytest.fixture
def workload_file(tmp_path: Path) -> WriteYaml:
    """Write a workload (dedented YAML) to ``tmp_path/w.yaml``; returns its path."""

    def write(text: str, name: str = "w.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each kind: an SQLite file, a PostgreSQL and a MariaDB database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'load.db'}"
    elif request.param == "postgresql":
        with scratch_postgres() as url:
            yield url
    else:
        with scratch_mariadb() as url:
            yield url
