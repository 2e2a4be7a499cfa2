"""Start-up stays light: the CLI imports its heavy machinery only in the commands that use it.

``generate.py --help`` (and every command's parsing) runs in about 0.3 s
because SQLAlchemy, numpy, matplotlib, Dask and the Azure SDK are imported by the
code that draws, writes or plots, not when the command group is built.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "sqlalchemy",
    "numpy",
    "matplotlib",
    "azure.storage.blob",
    "psycopg",
    "pymysql",
    "distributed",
    "dask",
)


def test_building_the_cli_imports_no_heavy_library() -> None:
    code = "import sys, datagen_cli\n" f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == "", f"imported when the CLI starts: {found}"


def test_a_command_imports_only_its_own_module() -> None:
    """The group loads a command's module when the command is run (click's lazy loading)."""
    code = (
        "import sys, click\n"
        "from datagen_cli import cli\n"
        "cli.get_command(click.Context(cli), 'document')\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('datagen_cli.commands.'))))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == "datagen_cli.commands.documents"
