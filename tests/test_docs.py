"""Every command has help with an example, reachable with -h and --help."""

import click
import pytest

from datagen_cli import cli


def all_commands():
    return cli.list_commands(click.Context(cli))


def test_the_expected_commands_exist():
    assert {"document", "providers", "verify"} <= set(all_commands())


@pytest.mark.parametrize("name", all_commands())
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_every_command_has_help_with_an_example(run, name, flag):
    result = run(name, flag)
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert "python generate.py" in result.output


def test_top_level_help_lists_commands(run):
    result = run("--help")
    assert result.exit_code == 0
    for name in all_commands():
        assert name in result.output


def test_each_command_is_added_by_the_module_the_group_names():
    """``COMMANDS`` (what the group imports for a command) matches what the modules define."""
    import importlib
    import pkgutil

    import datagen_cli.commands
    from datagen_cli.app import COMMANDS

    modules = [m.name for m in pkgutil.iter_modules(datagen_cli.commands.__path__)]
    for module in modules:
        importlib.import_module(f"datagen_cli.commands.{module}")
    defined = {
        name: command.callback.__module__.rsplit(".", 1)[-1]
        for name, command in cli.commands.items()
    }
    assert defined == COMMANDS


def test_a_mistyped_command_gets_a_suggestion_among_commands_not_yet_loaded():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "generate.py"
    result = subprocess.run(
        [sys.executable, str(script), "docment"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert (
        result.stderr.splitlines()[-1]
        == "Error: No such command 'docment'. Did you mean 'document'?"
    )
