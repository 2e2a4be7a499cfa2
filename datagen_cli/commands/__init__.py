"""One module a concern; each adds its commands to the group when the group asks for them
(``datagen_cli.app.COMMANDS``), so that a command imports only what it runs."""
