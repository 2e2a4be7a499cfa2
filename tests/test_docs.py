"""Every command has help with an example, reachable with -h and --help."""

import pytest

from datagen_cli import cli


def all_commands():
    return sorted(cli.commands)


def test_the_expected_commands_exist():
    assert {"document", "providers", "verify"} <= set(cli.commands)


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
