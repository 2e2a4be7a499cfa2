"""Reading and validating journey zips; building the schedule."""

from __future__ import annotations

import zipfile
from pathlib import Path

import orjson
import pytest

from datagen.journey_generator import build_zip
from datagen.replay.schedule import build_schedule
from datagen.replay.source import JourneyFormatError, load_journeys, read_journey


def journey_zip(steps: list[tuple[int, float, str]], **metadata: object) -> bytes:
    """A journey zip whose steps are (index, offset, document type)."""
    entries = [(f"{i:03d}-{kind}.json", orjson.dumps({"id": f"d{i}"})) for i, _, kind in steps]
    meta = {
        "metadata_version": 1,
        "user_id": "u1",
        "steps": [
            {"index": i, "document_type": kind, "file": f"{i:03d}-{kind}.json", "offset_seconds": o}
            for i, o, kind in steps
        ],
        **metadata,
    }
    return build_zip(entries + [("metadata.json", orjson.dumps(meta))])


def test_reads_generated_journeys_in_order(journeys: Path) -> None:
    loaded = load_journeys(journeys)
    zips = sorted(journeys.glob("*.zip"))
    assert [j.id for j in loaded] == [z.stem for z in zips]
    with zipfile.ZipFile(zips[0]) as archive:
        metadata = orjson.loads(archive.read("metadata.json"))
        first = loaded[0]
        assert first.user_id == metadata["user_id"]
        assert [s.index for s in first.steps] == [s["index"] for s in metadata["steps"]]
        assert [s.offset for s in first.steps] == [s["offset_seconds"] for s in metadata["steps"]]
        assert first.steps[3].data == archive.read(metadata["steps"][3]["file"])


def test_one_zip_is_a_source(journeys: Path) -> None:
    one = sorted(journeys.glob("*.zip"))[2]
    assert [j.id for j in load_journeys(one)] == [one.stem]


def test_steps_are_ordered_by_offset_then_index() -> None:
    journey = read_journey("j.zip", journey_zip([(0, 0, "a"), (1, 50, "b"), (2, 20, "c")]))
    assert [s.index for s in journey.steps] == [0, 2, 1]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"not a zip at all", "j.zip: not a zip file"),
        (build_zip([("x.json", b"{}")]), "j.zip: not a journey: the zip has no metadata.json"),
        (
            journey_zip([(0, 0, "a")], metadata_version=2),
            "j.zip: metadata version 2 is not supported (this datagen reads version 1)",
        ),
        (
            build_zip([("metadata.json", b"{]")]),
            "j.zip: metadata.json is not valid JSON",
        ),
        (
            build_zip([("metadata.json", b'{"steps": []}')]),
            "j.zip: not a journey: metadata.json has no metadata_version",
        ),
    ],
)
def test_bad_zips_are_refused_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(JourneyFormatError) as error:
        read_journey("j.zip", data)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("entry", ["../../etc/evil.json", "/tmp/evil.json", "a/../../b.json"])
def test_zip_slip_is_refused(entry: str) -> None:
    good = journey_zip([(0, 0, "a")])
    with zipfile.ZipFile(__import__("io").BytesIO(good)) as archive:
        entries = [(n, archive.read(n)) for n in archive.namelist()]
    with pytest.raises(JourneyFormatError, match="escapes the extraction folder"):
        read_journey("j.zip", build_zip(entries + [(entry, b"{}")]))


def test_a_missing_step_file_is_named() -> None:
    data = journey_zip([(0, 0, "a"), (1, 5, "b")])
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as archive:
        entries = [(n, archive.read(n)) for n in archive.namelist() if n != "001-b.json"]
    with pytest.raises(JourneyFormatError, match="step 1 names the file '001-b.json'"):
        read_journey("j.zip", build_zip(entries))


def test_empty_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no journey zips found"):
        load_journeys(tmp_path)


def two_journeys():
    return [
        read_journey("a.zip", journey_zip([(0, 0, "x"), (1, 10, "y"), (2, 30, "x")])),
        read_journey("b.zip", journey_zip([(0, 0, "x"), (1, 5, "y")])),
    ]


def test_schedule_is_start_plus_offset_in_order() -> None:
    schedule = build_schedule(two_journeys())
    assert [(p.step.journey, p.step.index, p.due) for p in schedule.planned] == [
        ("a", 0, 0.0),
        ("b", 0, 0.0),
        ("b", 1, 5.0),
        ("a", 1, 10.0),
        ("a", 2, 30.0),
    ]
    assert [p.after for p in schedule.planned] == [None, None, ("b", 0), ("a", 0), ("a", 1)]
    assert schedule.span == 30.0


def test_ramp_up_spreads_starts_evenly() -> None:
    journeys = two_journeys() * 2  # four journeys: starts at 0, 25, 50, 75
    schedule = build_schedule(journeys, ramp_up=100)
    starts = sorted({p.due for p in schedule.planned if p.step.index == 0})
    assert starts == [0.0, 25.0, 50.0, 75.0]


def test_duration_and_done_steps_are_left_out() -> None:
    schedule = build_schedule(two_journeys(), duration=10, done={("a", 0)})
    assert [(p.step.journey, p.step.index) for p in schedule.planned] == [
        ("b", 0),
        ("b", 1),
        ("a", 1),
    ]
    assert schedule.planned[-1].after is None  # its predecessor was done before
    assert (schedule.total, schedule.beyond_duration, schedule.already_done) == (5, 1, 1)


def test_a_step_file_that_is_not_a_json_object_is_named() -> None:
    data = journey_zip([(0, 0, "a")])
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as archive:
        entries = [
            (n, b"[1, 2]" if n == "000-a.json" else archive.read(n)) for n in archive.namelist()
        ]
    with pytest.raises(JourneyFormatError, match="step 0's file '000-a.json' is not a JSON object"):
        read_journey("j.zip", build_zip(entries))


def test_a_damaged_entry_is_named() -> None:
    data = bytearray(journey_zip([(0, 0, "a")]))
    at = bytes(data).index(b'{"id":"d0"}')
    data[at + 2] ^= 0xFF  # the stored bytes no longer match their CRC
    with pytest.raises(JourneyFormatError, match="j.zip: zip entry '000-a.json' is damaged"):
        read_journey("j.zip", bytes(data))
