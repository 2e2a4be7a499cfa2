"""The command line: thin click commands over the ``datagen`` library."""

from datagen_cli.app import cli, main
from datagen_cli import commands  # noqa: F401,E402  (registers the commands)

__all__ = ["cli", "main"]
