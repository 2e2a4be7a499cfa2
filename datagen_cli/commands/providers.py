"""The ``providers`` command: what can be generated, with its fields."""

from __future__ import annotations

from typing import Any

import click
import orjson

from datagen.documents import registry as documents
from datagen.journey_generator import JourneyJob, build_journey, journey_context
from datagen.journeys import registry as journeys
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


def describe_journeys() -> list[dict[str, Any]]:
    """Each journey with the steps of a sample (seed 0, journey 0)."""
    listing = []
    for name, cls in journeys.all().items():
        job = JourneyJob(journey=name, quantity=1, seed=0)
        journey_context(job).runtime.reseed(0)
        sample = build_journey(job, 0)
        listing.append(
            {
                "name": name,
                "description": cls.description(),
                "sample_steps": [
                    {
                        "document_type": s.document_type,
                        "anchor_step_index": s.anchor,
                        "delay_seconds": s.delay,
                        "offset_seconds": s.offset,
                    }
                    for s in sample.steps
                ],
            }
        )
    return listing


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def providers(as_json: bool) -> None:
    """List document providers (key, references, fields) and journeys (steps).

    \b
    Example:
        python generate.py providers
        python generate.py providers --json
    """
    listing = {"documents": describe_documents(), "journeys": describe_journeys()}
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
    click.echo("\nJourney providers (generate.py journey -p NAME), steps of a sample:")
    for item in listing["journeys"]:
        click.echo(f"\n  {item['name']}: {item['description']}")
        for n, step in enumerate(item["sample_steps"]):
            anchor = step["anchor_step_index"]
            after = "start" if anchor is None else f"step {anchor}"
            click.echo(
                f"      {n:>3} {step['document_type']:<22} +{step['delay_seconds']}s after {after}"
            )
