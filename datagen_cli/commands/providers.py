"""The ``providers`` command: what can be generated, with its fields."""

from __future__ import annotations

from typing import Any

import click
import orjson

from datagen.documents import registry as documents
from datagen_cli.app import cli


def describe_documents() -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "description": cls.description(),
            "key": cls.key,
            "references": {f: f"{p}.{documents.get(p).key}" for f, p in cls.references().items()},
            "fields": {f.path: f.generator for f in cls.fields()},
        }
        for name, cls in documents.all().items()
    ]


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def providers(as_json: bool) -> None:
    """List the document providers with their key, references and fields.

    \b
    Example:
        python generate.py providers
        python generate.py providers --json
    """
    listing = {"documents": describe_documents()}
    if as_json:
        click.echo(orjson.dumps(listing, option=orjson.OPT_INDENT_2).decode())
        return
    click.echo("Document providers (generate.py document -p NAME):")
    for item in listing["documents"]:
        refs = ", ".join(f"{f} -> {t}" for f, t in item["references"].items()) or "none"
        click.echo(f"\n  {item['name']}: {item['description']}")
        click.echo(f"    key: {item['key']}    references: {refs}")
        for path, generator in item["fields"].items():
            click.echo(f"      {path:<28} {generator}")
