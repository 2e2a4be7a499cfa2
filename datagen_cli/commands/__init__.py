"""Each module adds its commands to the group."""

from datagen_cli.commands import documents, journeys, providers, verify  # noqa: F401
