"""Tests of every document provider: shape, enumerations, timestamps, seeds, references."""

import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any, Iterator

import pytest

from datagen.documents import get_provider, registry
from datagen.schema import Choice, Runtime, Weighted, walk_specs
from datagen.seeding import REFERENCE_DATE, entity_key

EXPECTED = {
    "org",
    "user",
    "engine",
    "pipeline",
    "job",
    "job_run",
    "starfleet_account",
    "starfleet_application",
}
NAMES = registry.names()
SEED = 20250101


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted path, value)`` of every leaf of a document (list items as ``path[]``)."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from leaves(item, f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item, f"{path}[]")
    else:
        yield path, value


def build_many(name: str, quantity: int, seed: int = SEED, **kwargs: Any) -> list[dict]:
    """``quantity`` documents of ``name`` as one shard of a run would build them."""
    runtime = Runtime(locale="en", run_seed=seed, **kwargs)
    build = get_provider(name).factory(runtime, quantity=quantity)
    runtime.reseed(seed)
    return [build(i) for i in range(quantity)]


@pytest.fixture(scope="module")
def samples() -> dict[str, list[dict]]:
    return {name: build_many(name, 300) for name in NAMES}


class TestRegistry:
    def test_expected_providers_are_registered(self):
        assert EXPECTED <= set(NAMES)

    @pytest.mark.parametrize("name", NAMES)
    def test_name_maps_to_its_class(self, name):
        cls = registry.get(name)
        assert cls.name == name
        assert cls.key == "id"
        assert cls.description()

    def test_references_point_to_registered_providers(self):
        for name in NAMES:
            for field, target in registry.get(name).references().items():
                assert target in NAMES, f"{name}.{field} -> {target}"


class TestDocumentProviders:
    @pytest.mark.parametrize("name", NAMES)
    def test_shape(self, name):
        provider = get_provider(name)
        cls = type(provider)
        document = provider.generate(seed=SEED, index=3)
        assert list(document) == list(cls.template())
        assert is_uuid(document[cls.key])
        assert document[cls.key] == entity_key(SEED, name, 3)
        for field in cls.references():
            assert is_uuid(document[field]), field

    @pytest.mark.parametrize("name", NAMES)
    def test_keys_follow_the_index(self, name, samples):
        keys = [document["id"] for document in samples[name]]
        assert keys == [entity_key(SEED, name, i) for i in range(len(keys))]

    @pytest.mark.parametrize("name", NAMES)
    def test_enumerations_take_declared_values(self, name, samples):
        enumerations = {
            path: set(spec.choices if isinstance(spec, Weighted) else spec.values)
            for path, spec in walk_specs(registry.get(name).template())
            if isinstance(spec, (Weighted, Choice))
        }
        for document in samples[name]:
            found = dict(leaves(document))
            for path, allowed in enumerations.items():
                assert found[path] in allowed, (path, found[path])

    def test_job_status_is_mostly_inactive(self):
        documents = build_many("job", 2000)
        counts = Counter(document["status"] for document in documents)
        assert set(counts) == {"INACTIVE", "ACTIVE", "ERROR"}
        assert abs(counts["ACTIVE"] / 2000 - 0.2) < 0.04
        assert abs(counts["INACTIVE"] / 2000 - 0.7) < 0.04
        assert counts["INACTIVE"] > counts["ACTIVE"] > counts["ERROR"]

    @pytest.mark.parametrize("name", NAMES)
    def test_timestamps_are_aware_and_before_the_reference_date(self, name, samples):
        seen = 0
        for document in samples[name]:
            for path, value in leaves(document):
                if isinstance(value, datetime):
                    assert value.tzinfo is not None, path
                    assert value.utcoffset() == timedelta(0), path
                    assert value < REFERENCE_DATE, path
                    seen += 1
        if name != "starfleet_account":
            assert seen, "no timestamp at all"

    def test_starfleet_birth_date_is_an_adult_iso_date(self, samples):
        for document in samples["starfleet_account"]:
            born = date.fromisoformat(document["stardate_of_birth"])
            age_days = (REFERENCE_DATE.date() - born).days
            assert 18 * 365 <= age_days <= 70 * 366

    def test_job_run_times_match_status(self, samples):
        for document in samples["job_run"]:
            if document["status"] == "RUNNING":
                assert document["finished_at"] is None
                assert document["duration_seconds"] is None
            elif document["status"] == "START_ERROR":  # it ended as it started
                assert document["finished_at"] == document["started_at"]
                assert document["duration_seconds"] is None
            else:
                assert document["finished_at"] > document["started_at"]
            metrics = document["metrics"]
            assert metrics["output_records"] <= metrics["input_records"]

    def test_user_email_follows_full_name(self, samples):
        for document in samples["user"]:
            local = document["email"].split("@")[0]
            assert local.split(".")[0] == document["full_name"].split()[0].lower()

    def test_pipeline_stages_run_from_origin_to_destination(self, samples):
        for document in samples["pipeline"]:
            kinds = [stage["type"] for stage in document["stages"]]
            assert kinds[0] == "ORIGIN" and kinds[-1] == "DESTINATION"
            assert set(kinds[1:-1]) <= {"PROCESSOR", "DESTINATION"}


class TestSeededDocumentProviders:
    @pytest.mark.parametrize("name", NAMES)
    def test_same_seed_same_documents(self, name):
        provider = get_provider(name)
        for index in (0, 7):
            first = provider.generate(seed=SEED, index=index)
            assert first == provider.generate(seed=SEED, index=index)
        assert build_many(name, 50) == build_many(name, 50)

    @pytest.mark.parametrize("name", NAMES)
    def test_different_seed_different_documents(self, name):
        provider = get_provider(name)
        assert provider.generate(seed=SEED, index=7) != provider.generate(seed=SEED + 1, index=7)
        assert build_many(name, 20) != build_many(name, 20, seed=SEED + 1)

    @pytest.mark.parametrize("name", NAMES)
    def test_reference_date_moves_timestamps(self, name):
        shift = timedelta(days=1000)
        earlier = REFERENCE_DATE - shift
        before = build_many(name, 30)
        after = build_many(name, 30, reference_date=earlier)
        moved = 0
        for doc_before, doc_after in zip(before, after):
            pairs = zip(leaves(doc_before), leaves(doc_after))
            for (path, old), (path_after, new) in pairs:
                assert path == path_after
                if isinstance(old, datetime):
                    assert old - new == shift, path
                    assert new < earlier
                    moved += 1
                elif path == "stardate_of_birth":
                    assert date.fromisoformat(old) - date.fromisoformat(new) == shift
                    moved += 1
                else:
                    assert old == new, path
        assert moved

    def test_user_org_ids_are_org_keys(self):
        runtime = Runtime(locale="en", run_seed=SEED)
        build = get_provider("user").factory(runtime, quantity=500, ref_counts={"org": 5})
        runtime.reseed(SEED)
        org_keys = [entity_key(SEED, "org", k) for k in range(5)]
        org_ids = {build(i)["org_id"] for i in range(500)}
        assert org_ids == set(org_keys)

    @pytest.mark.parametrize("name", NAMES)
    def test_references_are_keys_of_the_referenced_provider(self, name):
        references = registry.get(name).references()
        if not references:
            pytest.skip("no references")
        runtime = Runtime(locale="en", run_seed=SEED)
        counts = {target: 3 for target in references.values()}
        build = get_provider(name).factory(runtime, quantity=100, ref_counts=counts)
        runtime.reseed(SEED)
        documents = [build(i) for i in range(100)]
        for field, target in references.items():
            keys = {entity_key(SEED, target, k) for k in range(3)}
            assert {document[field] for document in documents} <= keys, field
