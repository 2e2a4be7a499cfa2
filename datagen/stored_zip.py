"""A zip of stored entries built in memory, in one pass: the bytes ``zipfile`` writes.

``zipfile.ZipFile.writestr`` costs ~35 µs an entry in Python bookkeeping (a
``ZipInfo``, a writer object, a seek back to rewrite each local header);
a journey of ten steps spent more on its zip than on building its documents.
Here each entry is a CRC, one ``struct`` pack and fixed bytes. The bytes are those
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

_VERSION = 20  # zipfile.DEFAULT_VERSION: what a stored entry needs
_UTF8_NAME = 0x800
_LIMIT = zipfile.ZIP64_LIMIT
_UNIX = 3
_MODE = 0o644 << 16
_SLASH = os.sep == "/"  # no separator to replace in names
_SIZES = struct.Struct("<3LH")  # CRC-32, stored size, size, name length: in both headers
_END = struct.Struct("<4s4H2LH")


def _dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    return (year - 1980) << 9 | month << 5 | day, hour << 11 | minute << 5 | second // 2


def _name(name: str) -> tuple[bytes, int]:
    """The stored name and its flag bits, as ``ZipInfo`` makes them."""
    name = name.partition("\x00")[0]
    if os.sep != "/":
        name = name.replace(os.sep, "/")
    encoded = name.encode("utf-8")
    return encoded, 0 if len(encoded) == len(name) else _UTF8_NAME  # ASCII or not


def _heads(flags: int, dosdate: int, dostime: int) -> tuple[bytes, bytes]:
    """The fixed start of an entry's local header and of its central directory record."""
    fixed = struct.pack("<2B4H", _VERSION, 0, flags, 0, dostime, dosdate)  # 0: stored
    return b"PK\x03\x04" + fixed, b"PK\x01\x02" + bytes((_VERSION, _UNIX)) + fixed


_AFTER_LOCAL = bytes(2)  # no extra field
_AFTER_CENTRAL = struct.pack("<4HL", 0, 0, 0, 0, _MODE)  # no extra, comment; disk 0; attributes


def build_stored_zip(
    entries: Sequence[tuple[str, bytes]], date_time: tuple[int, int, int, int, int, int]
) -> bytes:
    """A zip of ``entries`` in order (stored, fixed time stamp ``date_time``, mode 0644)."""
    dosdate, dostime = _dos_time(date_time)
    heads = {0: _heads(0, dosdate, dostime)}
    parts: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, data in entries:
        if _SLASH and name.isascii() and "\x00" not in name:
            encoded, flags = name.encode(), 0  # as _name() gives for a plain name
        else:
            encoded, flags = _name(name)
        size = len(data)
        if size * 1.05 > _LIMIT or offset > _LIMIT:
            return _zipfile_zip(entries, date_time)
        local, record = heads.get(flags) or heads.setdefault(flags, _heads(flags, dosdate, dostime))
        sizes = _SIZES.pack(zlib.crc32(data), size, size, len(encoded))
        parts += (local, sizes, _AFTER_LOCAL, encoded, data)
        central += (record, sizes, _AFTER_CENTRAL, offset.to_bytes(4, "little"), encoded)
        offset += 30 + len(encoded) + size  # the local header is 30 bytes and the name
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
