"""Documents as production keeps them: unique fields, time along references, one set of roles.

Every provider that declares ``unique`` fields gets 100,000 documents from 2
workers: no value repeats, and the files are those of 1 worker. Documents
made with ``--refs`` are created after the documents they point to, as the
``document`` runs of those providers (same seed) make them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from datagen.documents import get_provider, registry
from datagen.generator import generate_documents
from datagen.journey_generator import JourneyJob, build_journey, journey_context
from datagen.lineage import DocumentsLineage, values_at
from datagen.seeding import entity_key, plan_shards
from document_providers.user import ROLES, local_part

UNIQUE = sorted(name for name, cls in registry.all().items() if cls.unique)
REFS = {
    "org": 300,
    "user": 2000,
    "engine": 600,
    "pipeline": 2500,
    "job": 3000,
    "job_run": 3000,
    "starfleet_account": 500,
    "partition": 5,
    "provider_group": 40,
    "resource_provider": 400,
    "resource_type": 5,
    "capability": 5,
}


def documents(folder: Path, provider: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in (folder / provider / f"{provider}.jsonl").open("rb")]


def test_the_expected_fields_are_declared_unique() -> None:
    declared = {name: registry.get(name).unique for name in UNIQUE}
    assert declared == {
        "engine": ("url",),
        "org": ("name", "domain"),
        "starfleet_account": ("subspace_address", "federation_citizen_id"),
        "user": ("username", "email"),
    }


@pytest.mark.parametrize("provider", UNIQUE)
def test_unique_fields_never_repeat_in_100000_documents_from_2_workers(
    provider: str, tmp_path: Path
) -> None:
    options = dict(provider=provider, quantity=100_000, seed=3, fmt="jsonl", ref_counts=REFS)
    two = generate_documents(to=tmp_path / "two", workers=2, **options)
    one = generate_documents(to=tmp_path / "one", workers=1, **options)
    assert two.files == one.files  # byte-identical, whatever the number of workers
    rows = documents(tmp_path / "two", provider)
    assert len(rows) == 100_000
    for field in get_provider(provider).unique:
        values = [row[field] for row in rows]
        assert len(set(values)) == len(values), f"{provider}.{field} repeats"


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every provider's documents, their references among the others' (same seed)."""
    folder = tmp_path_factory.mktemp("linked")
    for provider in registry.names():
        quantity = REFS.get(provider, 1000)
        generate_documents(
            provider=provider, quantity=quantity, seed=9, to=folder, fmt="jsonl", ref_counts=REFS
        )
    return folder


def created(provider: str, document: dict[str, Any]) -> datetime | None:
    field = get_provider(provider).created_field()
    value = document.get(field) if field else None
    return datetime.fromisoformat(value) if value else None


@pytest.mark.parametrize("provider", sorted(registry.names()))
def test_documents_are_created_after_what_they_refer_to(provider: str, linked: Path) -> None:
    rows = documents(linked, provider)
    checked = 0
    for field, target in get_provider(provider).references().items():
        parents = {row["id"]: row for row in documents(linked, target)}
        for row in rows:
            parent = parents[row[field]]  # --refs: the key of a document of that run
            mine, theirs = created(provider, row), created(target, parent)
            if mine is not None and theirs is not None:
                assert mine >= theirs, f"{provider} {row['id']} before its {field}"
                checked += 1
    if get_provider(provider).created_field() and get_provider(provider).references():
        assert checked > 0


def test_users_mail_mostly_at_their_orgs_domain_in_ascii(linked: Path) -> None:
    orgs = {row["id"]: row for row in documents(linked, "org")}
    users = documents(linked, "user")
    at_org = sum(u["email"].endswith("@" + orgs[u["org_id"]]["domain"]) for u in users)
    assert 0.8 < at_org / len(users) < 0.9
    assert all(u["username"] == u["email"].partition("@")[0] for u in users)


@pytest.mark.parametrize("locale", ["ja", "ru", "el", "zh"])
def test_email_local_parts_are_ascii_in_every_script(locale: str, tmp_path: Path) -> None:
    generate_documents(
        provider="user", quantity=200, seed=1, to=tmp_path, fmt="jsonl", locale=locale
    )
    for user in documents(tmp_path, "user"):
        assert user["email"].isascii() and user["username"].isascii()
    assert local_part("Zoë O'Brien-Smith") == "zoe.obriensmith"


def journey_documents(journey: str, quantity: int) -> list[list[tuple[str, dict[str, Any]]]]:
    """The steps' documents of ``quantity`` journeys (seed 9), as the journey command makes them."""
    job = JourneyJob(journey=journey, quantity=quantity, seed=9)
    runtime = journey_context(job).runtime
    journeys = []
    for shard in plan_shards(quantity=quantity, seed=9, name=journey):
        runtime.reseed(shard.seed)
        for index in range(shard.start, shard.stop):
            built = build_journey(job, index)
            journeys.append([(step.document_type, step.document) for step in built.steps])
    return journeys


@pytest.mark.parametrize("journey", ["job_lifecycle", "user_onboarding"])
def test_journeys_keep_time_along_references_and_roles_of_one_set(journey: str) -> None:
    orgs = DocumentsLineage(run_seed=9, counts={}, providers=get_provider)
    checked = 0
    for steps in journey_documents(journey, 150):
        by_id = {document["id"]: (kind, document) for kind, document in steps}
        for kind, document in steps:
            if kind == "user":
                assert document["role"] in ROLES
            for field, target in get_provider(kind).references().items():
                found = by_id.get(document[field])
                if found is None and target == "org":  # an org of 'document -p org --seed 9'
                    index = next(
                        i for i in range(1000) if entity_key(9, "org", i) == document[field]
                    )
                    parent = {"created_at": values_at(orgs, "org", "created_at", [index])[0]}
                    parent["domain"] = values_at(orgs, "org", "domain", [index])[0]
                elif found is None:
                    continue
                else:
                    parent = found[1]
                mine = document.get(get_provider(kind).created_field() or "")
                theirs = parent.get(get_provider(target).created_field() or "")
                if mine is not None and theirs is not None:
                    assert mine >= theirs, f"{journey}: a {kind} before its {field}"
                    checked += 1
                if kind == "user" and target == "org":
                    assert document["email"].endswith("@" + parent["domain"])
    assert checked > 300
