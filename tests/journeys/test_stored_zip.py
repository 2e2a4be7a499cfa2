"""The one-pass zip writer gives the bytes zipfile gives, and zipfile reads them back."""

from __future__ import annotations

import io
import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st

from datagen.formats import ZIP_EPOCH
from datagen.journey_generator import build_zip
from datagen.stored_zip import _zipfile_zip, build_stored_zip

names = st.text(min_size=1, max_size=40).filter(lambda name: name.partition("\x00")[0] != "")
entries = st.lists(
    st.tuples(names, st.binary(max_size=3000)),
    max_size=12,
    unique_by=lambda entry: entry[0].partition("\x00")[0],
)


def zipfile_bytes(items: list[tuple[str, bytes]], date_time: tuple = ZIP_EPOCH) -> bytes:
    """What journeys' zips were built with before (zipfile, entry by entry)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


@settings(max_examples=300, deadline=None)
@given(entries)
def test_same_bytes_as_zipfile(items: list[tuple[str, bytes]]) -> None:
    built = build_zip(items)
    assert built == zipfile_bytes(items)
    with zipfile.ZipFile(io.BytesIO(built)) as archive:
        assert archive.testzip() is None
        assert [info.filename for info in archive.infolist()] == [
            name.partition("\x00")[0] for name, _ in items
        ]
        assert [archive.read(info) for info in archive.infolist()] == [data for _, data in items]


def test_journey_like_entries_and_other_times() -> None:
    items = [
        ("000-user.json", b'{\n  "id": "x"\n}\n'),
        ("001-café.json", b"{}"),  # not ASCII: UTF-8 name, flag bit 11
        ("../evil.json", b""),
        ("metadata.json", b'{"steps": []}'),
    ]
    assert build_zip(items) == zipfile_bytes(items)
    assert build_zip([]) == zipfile_bytes([])
    moment = (2024, 12, 31, 23, 59, 58)
    assert build_stored_zip(items, moment) == zipfile_bytes(items, moment)


def test_fallback_is_zipfile() -> None:
    """Archives past the plain format's limits are zipfile's own (ZIP64 records)."""
    items = [("a.json", b"{}"), ("b.json", b"[]")]
    assert _zipfile_zip(items, ZIP_EPOCH) == zipfile_bytes(items)
