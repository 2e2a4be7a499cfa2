"""Each module adds its commands to the group."""

from datagen_cli.commands import documents, journeys, providers, publish, replay, verify  # noqa: F401
