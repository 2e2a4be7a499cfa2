"""The command line: thin click commands over the ``datagen`` library."""

from datagen_cli.app import cli, main

__all__ = ["cli", "main"]
