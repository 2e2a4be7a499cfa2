"""A zip of stored entries built in memory, in one pass: the bytes ``zipfile`` writes.

``zipfile.ZipFile.writestr`` costs ~35 µs an entry in Python bookkeeping (a
``ZipInfo``, a writer object, a seek back to rewrite each local header);
a journey of ten steps spent more on its zip than on building its documents.
Here each entry is two ``struct`` packs and a CRC. The bytes are those
``zipfile`` (CPython 3.11) writes for ``ZipInfo(name, date_time)`` with
``create_system`` 3, ``external_attr`` ``0o644 << 16``, ``ZIP_STORED``, into
a seekable file: local headers without data descriptors, no extra fields, no
comments, version 2.0. ``tests/journeys/test_stored_zip.py`` compares them
with ``zipfile``'s. Names are stored as ``ZipInfo`` stores them (cut at a NUL,
UTF-8 with flag bit 11 when not ASCII); an archive that would need ZIP64 (an
entry or offset past 2 GiB) is left to ``zipfile``.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from typing import Sequence

_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_VERSION = 20  # zipfile.DEFAULT_VERSION: what a stored entry needs
_UTF8_NAME = 0x800
_LIMIT = zipfile.ZIP64_LIMIT
_UNIX = 3
_MODE = 0o644 << 16


def _dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    return (year - 1980) << 9 | month << 5 | day, hour << 11 | minute << 5 | second // 2


def _name(name: str) -> tuple[bytes, int]:
    """The stored name and its flag bits, as ``ZipInfo`` makes them."""
    name = name.partition("\x00")[0]
    if os.sep != "/":
        name = name.replace(os.sep, "/")
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), _UTF8_NAME


def build_stored_zip(
    entries: Sequence[tuple[str, bytes]], date_time: tuple[int, int, int, int, int, int]
) -> bytes:
    """A zip of ``entries`` in order (stored, fixed time stamp ``date_time``, mode 0644)."""
    dosdate, dostime = _dos_time(date_time)
    parts: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, data in entries:
        encoded, flags = _name(name)
        size = len(data)
        if size * 1.05 > _LIMIT or offset > _LIMIT:
            return _zipfile_zip(entries, date_time)
        crc = zlib.crc32(data)
        # version needed 2.0, flags, stored, time, date, CRC, sizes, name length, no extra
        fields = (_VERSION, 0, flags, 0, dostime, dosdate, crc, size, size, len(encoded), 0)
        header = _LOCAL.pack(b"PK\x03\x04", *fields)
        parts += (header, encoded, data)
        # made by 2.0 on Unix, the same fields, no comment, disk 0, attributes, offset
        record = _CENTRAL.pack(b"PK\x01\x02", _VERSION, _UNIX, *fields, 0, 0, 0, _MODE, offset)
        central += (record, encoded)
        offset += len(header) + len(encoded) + size
    directory = b"".join(central)
    if offset > _LIMIT or len(entries) >= 0xFFFF:
        return _zipfile_zip(entries, date_time)
    count = len(entries)
    parts += (directory, _END.pack(b"PK\x05\x06", 0, 0, count, count, len(directory), offset, 0))
    return b"".join(parts)


def _zipfile_zip(
    entries: Sequence[tuple[str, bytes]], date_time: tuple[int, int, int, int, int, int]
) -> bytes:
    """The same archive through ``zipfile`` (which writes ZIP64 records where needed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.create_system = _UNIX
            info.external_attr = _MODE
            archive.writestr(info, data)
    return buffer.getvalue()
