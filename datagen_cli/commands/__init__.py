"""Each module adds its commands to the group."""

from datagen_cli.commands import (  # noqa: F401
    documents,
    journeys,
    load,
    probe,
    providers,
    publish,
    replay,
    scenarios,
    verify,
)
