"""Journeys: step timing rules, metadata, zips, determinism and id correlation."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from datagen.errors import SchemaError
from datagen.journey_generator import JourneyJob, build_journey, journey_metadata
from datagen.journeys import JourneyContext, JourneyProvider, registry
from datagen.schema import Runtime
from datagen.seeding import REFERENCE_DATE, SHARD_SIZE, entity_key
from tests.trees import digest_tree


def journeys(name: str, count: int, seed: int = 5) -> list[JourneyProvider]:
    job = JourneyJob(journey=name, quantity=count, seed=seed)
    from datagen.journey_generator import journey_context

    journey_context(job).runtime.reseed(seed)
    return [build_journey(job, i) for i in range(count)]


class Bounded(JourneyProvider):
    """A test journey with known delay bounds (not registered: no name in the class)."""

    def create_journey(self) -> None:
        doc = {"id": "x"}
        self.add_step("org", doc)
        self.add_step("org", doc, delay=(10, 20))
        self.add_step("org", doc, delay=(1.5, 2.5))
        self.add_step("org", doc, delay=(100, 200), delay_from_step_index=0)
        self.add_step("org", doc, delay=7)


Bounded.name = "bounded"


def make(cls: type[JourneyProvider], seed: int = 1) -> JourneyProvider:
    runtime = Runtime(locale="en", run_seed=seed)
    runtime.reseed(seed)
    journey = cls(JourneyContext(runtime, journey=cls.name), index=0, start=REFERENCE_DATE)
    journey.create_journey()
    return journey


def test_shipped_journeys_are_registered():
    assert {"starfleet", "job_lifecycle", "user_onboarding"} <= set(registry.names())
    assert "bounded" not in registry.names()


@pytest.mark.parametrize("seed", range(30))
def test_delays_are_within_bounds_and_offsets_follow_anchors(seed):
    steps = make(Bounded, seed).steps
    assert [s.anchor for s in steps] == [None, 0, 1, 0, 3]
    assert steps[0].delay == 0 and steps[0].offset == 0
    assert 10 <= steps[1].delay <= 20 and isinstance(steps[1].delay, int)
    assert 1.5 <= steps[2].delay <= 2.5
    assert 100 <= steps[3].delay <= 200
    assert steps[4].delay == 7
    for step in steps[1:]:
        anchor = steps[step.anchor]
        assert step.offset == pytest.approx(anchor.offset + step.delay)
        assert step.offset >= anchor.offset


@pytest.mark.parametrize("name", ["starfleet", "job_lifecycle", "user_onboarding"])
def test_shipped_journeys_offsets_never_precede_their_anchor(name):
    for journey in journeys(name, 50):
        steps = journey.steps
        assert steps and steps[0].offset == steps[0].delay
        for step in steps[1:]:
            assert step.anchor is not None and 0 <= step.anchor < step.index
            assert step.delay >= 0
            assert step.offset == pytest.approx(steps[step.anchor].offset + step.delay)


def bad_journey(**step):
    class Bad(JourneyProvider):
        def create_journey(self) -> None:
            self.add_step("org", {"id": 1})
            self.add_step("org", {"id": 2}, **step)

    Bad.name = "bad"
    return Bad


@pytest.mark.parametrize(
    "step, message",
    [
        (
            {"delay_from_step_index": 1},
            "journey 'bad' step 1: delay_from_step_index 1 is not an earlier step "
            "(use an index from 0 to 0)",
        ),
        (
            {"delay_from_step_index": 5},
            "journey 'bad' step 1: delay_from_step_index 5 is not an earlier step",
        ),
        (
            {"delay_from_step_index": -1},
            "journey 'bad' step 1: delay_from_step_index -1 is not an earlier step",
        ),
        ({"delay": (20, 10)}, "journey 'bad' step 1: delay (20, 10) has low > high"),
        ({"delay": (-5, 10)}, "journey 'bad' step 1: delay (-5, 10) is negative"),
        ({"delay": "soon"}, "journey 'bad' step 1: delay 'soon' should be [low, high] seconds"),
    ],
)
def test_invalid_steps_name_the_journey_and_step(step, message):
    with pytest.raises(SchemaError) as info:
        make(bad_journey(**step))
    assert str(info.value).startswith(message)


def test_overriding_an_unknown_field_is_an_error():
    class Typo(JourneyProvider):
        def create_journey(self) -> None:
            self.document("org", nmae="x")

    Typo.name = "typo"
    with pytest.raises(SchemaError, match="journey 'typo': org has no field nmae"):
        make(Typo)


def test_metadata_describes_every_step():
    journey = journeys("starfleet", 1)[0]
    metadata = journey_metadata(journey, seed=5, stem="s")
    assert metadata["metadata_version"] == 1
    assert metadata["journey"] == "starfleet"
    assert metadata["user_id"] == journey.user_id
    assert metadata["step_count"] == len(journey.steps) == len(metadata["steps"])
    assert metadata["duration_seconds"] == max(s.offset for s in journey.steps)
    files = [s["file"] for s in metadata["steps"]]
    assert files == sorted(files)
    for entry, step in zip(metadata["steps"], journey.steps):
        assert set(entry) == {
            "index",
            "document_type",
            "file",
            "delay_seconds",
            "anchor_step_index",
            "offset_seconds",
        }
        assert entry["index"] == step.index
        assert entry["file"] == f"{step.index:03d}-{step.document_type}.json"
        assert entry["delay_seconds"] == step.delay
        assert entry["anchor_step_index"] == step.anchor
        assert entry["offset_seconds"] == step.offset


def test_cli_writes_zips_with_documents_and_metadata_inside_and_beside(run, tmp_path):
    result = run("journey", "-p", "starfleet", "-q", "3", "--seed", "4", "--to", tmp_path)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "starfleet"
    zips = sorted(folder.glob("*.zip"))
    assert len(zips) == 3
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "journeys" and manifest["counts"]["journeys"] == 3
    total_steps = 0
    for path in zips:
        beside = json.loads(path.with_suffix(".metadata.json").read_text())
        assert path.name == beside["zip"]
        assert path.name.startswith(f"starfleet-{beside['journey_index'] + 1:06d}-")
        assert beside["user_id"] in path.name
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            assert names == [s["file"] for s in beside["steps"]] + ["metadata.json"]
            assert json.loads(archive.read("metadata.json")) == beside
            account = json.loads(archive.read(names[0]))
            assert account["id"] == beside["user_id"]
            for info in archive.infolist():
                assert info.date_time == (1980, 1, 1, 0, 0, 0)
        total_steps += beside["step_count"]
    assert manifest["counts"]["steps"] == total_steps
    assert run("verify", folder).exit_code == 0


def test_seed_spellings_and_default_quantity(run, tmp_path):
    result = run(
        "journey", "--output_path", tmp_path, "--journey_provider", "starfleet", "--seed", "1"
    )
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "starfleet").glob("*.zip"))) == 1


@pytest.mark.parametrize("name", ["job_lifecycle", "user_onboarding"])
def test_same_seed_same_bytes_across_runs_and_worker_counts(run, tmp_path, name):
    quantity = SHARD_SIZE + 3
    trees = []
    for n, workers in enumerate(["2", "1", "2"]):
        out = tmp_path / str(n)
        result = run(
            "journey",
            "-p",
            name,
            "-q",
            quantity,
            "--seed",
            "9",
            "--workers",
            workers,
            "--to",
            out,
            "--quiet",
        )
        assert result.exit_code == 0, result.output
        trees.append(digest_tree(out))
    assert trees[0] == trees[1] == trees[2]
    assert len(trees[0]) == 2 * quantity + 1


def test_verify_catches_a_changed_zip(run, tmp_path):
    run("journey", "-p", "starfleet", "-q", "2", "--seed", "4", "--to", tmp_path)
    path = sorted((tmp_path / "starfleet").glob("*.zip"))[1]
    data = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(data, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info).replace(b'"successful": true', b'"successful": 0'))
    path.write_bytes(data.getvalue())
    result = run("verify", tmp_path)
    assert result.exit_code == 1
    assert result.output.strip() == f"DIFFERS {tmp_path / 'starfleet'}: changed: {path.name}"


def by_type(journey: JourneyProvider) -> dict[str, list[dict]]:
    docs: dict[str, list[dict]] = {}
    for step in journey.steps:
        docs.setdefault(step.document_type, []).append(step.document)
    return docs


def test_job_lifecycle_correlates_ids_across_steps():
    outcomes = set()
    for journey in journeys("job_lifecycle", 60, seed=3):
        docs = by_type(journey)
        [user], [engine], [pipeline], [job] = (
            docs[t] for t in ("user", "engine", "pipeline", "job")
        )
        start, end = docs["job_run"]
        org_id = user["org_id"]
        assert org_id in {entity_key(3, "org", k) for k in range(1000)}
        assert user["id"] == journey.user_id
        assert engine["org_id"] == pipeline["org_id"] == job["org_id"] == org_id
        assert pipeline["created_by"] == user["id"]
        assert job["engine_id"] == engine["id"] and job["pipeline_id"] == pipeline["id"]
        assert start["id"] == end["id"] and start["job_id"] == end["job_id"] == job["id"]
        assert start["status"] == "RUNNING" and start["finished_at"] is None
        assert end["status"] in {"FINISHED", "RUN_ERROR", "STOPPED"}
        outcomes.add(end["status"])
        assert docs["job_status"]
        for status in docs["job_status"]:
            assert status["job_id"] == job["id"] and status["job_run_id"] == start["id"]
            assert status["engine_id"] == engine["id"]
        reported = [s["metrics"]["input_records"] for s in docs["job_status"]]
        assert reported == sorted(reported)
        assert end["metrics"]["input_records"] == reported[-1]
        times = [journey.time_of(s) for s in journey.steps]
        assert end["finished_at"] == times[-1] > start["started_at"] == times[4]
        assert [s.document_type for s in journey.steps[:5]] == [
            "user",
            "engine",
            "pipeline",
            "job",
            "job_run",
        ]
    assert outcomes == {"FINISHED", "RUN_ERROR", "STOPPED"}


def test_starfleet_claim_is_anchored_to_the_first_login():
    for journey in journeys("starfleet", 40):
        steps = journey.steps
        assert steps[0].document_type == "starfleet_account"
        assert steps[0].document["id"] == journey.user_id
        logins = [s for s in steps if s.document_type == "starfleet_login"]
        assert 1 <= len(logins) <= 3 and logins[0].index == 1
        assert all(s.document["account_id"] == journey.user_id for s in steps[1:])
        claim = steps[-1]
        assert claim.document_type == "starfleet_claim" and claim.anchor == 1
        assert 3600 <= claim.offset - steps[1].offset <= 7200
        assert claim.document["submitted_at"] == journey.time_of(claim)


def test_user_onboarding_members_join_the_org_of_the_admin():
    for journey in journeys("user_onboarding", 40):
        docs = by_type(journey)
        [org] = docs["org"]
        users = docs["user"]
        assert users[0]["id"] == journey.user_id and users[0]["role"] == "ADMIN"
        assert all(u["org_id"] == org["id"] for u in users)
        assert len(users) - 1 in {1, 3, 5, 12}
        assert {e["user_id"] for e in docs["login_event"]} == {u["id"] for u in users}
        assert all(e["org_id"] == org["id"] for e in docs["login_event"])


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["-p", "nope"],
            "Error: Invalid value for '-p' / '--provider' / '--journey_provider': "
            "'nope' is not one of 'job_lifecycle', 'starfleet', 'user_onboarding'.",
        ),
        (
            ["-p", "starfleet", "-q", "0"],
            "Error: Invalid value for '-q' / '--quantity': '0' is out of range: "
            "give a whole number from 1 to 1,000,000,000, e.g. 1000",
        ),
        (
            ["-p", "starfleet", "-q", "x"],
            "Error: Invalid value for '-q' / '--quantity': 'x' is not a whole number "
            "from 1 to 1,000,000,000, e.g. 1000",
        ),
    ],
)
def test_bad_input_is_a_one_line_usage_error(run, tmp_path, args, message):
    result = run("journey", *args, "--to", tmp_path)
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == message
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_path(run, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("journey", "-p", "starfleet", "--to", blocker)
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "Error: Invalid value for '--to' / '-o' / '--output_path': "
        f"'{blocker}' is a file, not a folder"
    )
    result = run("journey", "-p", "starfleet", "--to", blocker / "sub")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: cannot write to '{blocker / 'sub'}': Not a directory "
        "(choose a writable folder with --to)"
    )
    assert blocker.read_text() == "x"
