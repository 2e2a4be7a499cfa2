"""The devcontainer, checked as far as this machine can (it has no Docker engine to build it).

Issue 13: Debian's Node.js 18 could not run the pinned Azurite (>= 22), and
there was no PostgreSQL or MariaDB, so those tests skipped there. What is
checked here can go wrong as the project changes: a newer Azurite pin that
needs a newer Node.js, a server image or a test URL that no longer matches
its service.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from datagen.sinks.dialects import parse_database_url

REPO = Path(__file__).resolve().parents[1]
FOLDER = REPO / ".devcontainer"


def devcontainer() -> dict:
    return json.loads((FOLDER / "devcontainer.json").read_text())  # plain JSON, no comments


def compose() -> dict:
    return yaml.safe_load((FOLDER / "docker-compose.yml").read_text())


def test_node_is_new_enough_for_the_pinned_azurite():
    """the `node` feature's version is at least the pinned Azurite's `engines`"""
    lock = json.loads((REPO / "package-lock.json").read_text())
    needed = lock["packages"]["node_modules/azurite"]["engines"]["node"]
    minimum = int(re.fullmatch(r">=(\d+)(\.\d+)*", needed).group(1))
    node = devcontainer()["features"]["ghcr.io/devcontainers/features/node:1"]["version"]
    assert int(node) >= minimum


def test_the_test_servers_run_beside_the_dev_container():
    """the compose file runs postgres:15, mariadb:10.11 and the pinned Azurite's image beside
    the dev container, which depends on them and whose test URLs name their services and
    databases"""
    services = compose()["services"]
    assert services["postgres"]["image"] == "postgres:15"
    assert services["mariadb"]["image"] == "mariadb:10.11"
    azurite_pin = json.loads((REPO / "package.json").read_text())["devDependencies"]["azurite"]
    assert services["azurite"]["image"] == f"mcr.microsoft.com/azure-storage/azurite:{azurite_pin}"
    dev = services[devcontainer()["service"]]
    assert set(dev["depends_on"]) == {"postgres", "mariadb", "azurite"}
    # tests/servers.py reads these URLs: each names its service and the database it creates.
    for variable, service, database in [
        ("DATAGEN_TEST_POSTGRES", "postgres", "POSTGRES_DB"),
        ("DATAGEN_TEST_MARIADB", "mariadb", "MARIADB_DATABASE"),
    ]:
        _, url = parse_database_url(dev["environment"][variable])
        assert url.host == service, variable
        assert url.database == services[service]["environment"][database], variable


def test_the_readme_says_what_is_checked_here():
    """The README lists these tests' checks, and no other (it once added azcopy and more)."""
    readme = " ".join((REPO / "README.md").read_text().split())
    checked = re.search(r"checked by `tests/test_devcontainer\.py` \(([^)]*)\)", readme)
    assert checked, "the README no longer says what tests/test_devcontainer.py checks"
    checks = [
        " ".join(test.__doc__.split())
        for name, test in sorted(globals().items())
        if name.startswith("test_") and name != "test_the_readme_says_what_is_checked_here"
    ]
    assert checked.group(1) == "; ".join(checks)
