"""Shared fixtures: a CLI runner that runs commands the way users do."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import settings

from datagen_cli import cli

# Property tests check what is drawn, not how fast: hypothesis' 200 ms deadline per example
# failed them on a machine busy with other work (test_schema: 272 ms once).
settings.register_profile("datagen", deadline=None)
settings.load_profile("datagen")

# Fixtures for the real servers: postgres_url, mariadb_url (fresh databases) and azurite.
pytest_plugins = ["tests.servers", "tests.azurite", "tests.disks"]


@pytest.fixture
def run():
    """Invoke the CLI; returns click's Result (exit_code, output, stdout, stderr)."""
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, [str(a) for a in args], prog_name="generate.py")

    return invoke
