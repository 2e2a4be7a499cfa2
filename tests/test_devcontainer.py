"""The devcontainer, checked as far as this machine can (it has no Docker engine to build it).

Issue 13: Debian's Node.js 18 could not run the pinned Azurite (>= 22), azcopy
was claimed but missing, requirements were installed twice, and there was no
PostgreSQL or MariaDB, so those tests skipped there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
FOLDER = REPO / ".devcontainer"


def devcontainer() -> dict:
    return json.loads((FOLDER / "devcontainer.json").read_text())  # plain JSON, no comments


def compose() -> dict:
    return yaml.safe_load((FOLDER / "docker-compose.yml").read_text())


def dockerfile_commands() -> str:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    lines = [line for line in (FOLDER / "Dockerfile").read_text().splitlines()]
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    return text.replace("\\\n", " ")


def test_the_servers_run_beside_the_dev_container():
    config = devcontainer()
    services = compose()["services"]
    assert config["dockerComposeFile"] == "docker-compose.yml"
    assert config["service"] == "dev" and "dev" in services
    assert services["postgres"]["image"] == "postgres:15"
    assert services["mariadb"]["image"] == "mariadb:10.11"
    azurite_pin = json.loads((REPO / "package.json").read_text())["devDependencies"]["azurite"]
    assert services["azurite"]["image"] == f"mcr.microsoft.com/azure-storage/azurite:{azurite_pin}"
    dev = services["dev"]
    assert set(dev["depends_on"]) == {"postgres", "mariadb", "azurite"}
    # The test fixtures (tests/servers.py) read these; the host names are the services'.
    env = dev["environment"]
    assert env["DATAGEN_TEST_POSTGRES"] == "postgresql://postgres@postgres:5432/test"
    assert env["DATAGEN_TEST_MARIADB"] == "mysql+pymysql://root@mariadb:3306/test"
    assert services["postgres"]["environment"]["POSTGRES_DB"] == "test"
    assert services["mariadb"]["environment"]["MARIADB_DATABASE"] == "test"


def test_node_is_new_enough_for_the_pinned_azurite():
    lock = json.loads((REPO / "package-lock.json").read_text())
    needed = lock["packages"]["node_modules/azurite"]["engines"]["node"]
    minimum = int(re.fullmatch(r">=(\d+)(\.\d+)*", needed).group(1))
    node = devcontainer()["features"]["ghcr.io/devcontainers/features/node:1"]["version"]
    assert int(node) >= minimum
    assert "nodejs" not in dockerfile_commands()  # not Debian's 18


def test_requirements_are_installed_once_and_azcopy_is_there():
    commands = dockerfile_commands()
    assert "pip install" not in commands and "requirements" not in commands
    assert devcontainer()["postCreateCommand"] == "make .venv/.installed node_modules/.installed"
    assert "/usr/local/bin/azcopy" in commands and "azcopy --version" in commands
    script = (REPO / "scripts" / "azcopy_output.sh").read_text()
    assert "the devcontainer installs it" in script


def test_the_readme_says_it_was_not_built_here():
    readme = (REPO / "README.md").read_text()
    assert "could not be built on the machine where it was written" in readme
