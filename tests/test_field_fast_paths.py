"""The fields' fast paths give what the plain per-value computation gives."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from datagen.fields import keys_of
from datagen.fields.times import MICROS, NULL_TIME, datetimes
from datagen.seeding import entity_key
from document_providers.user import local_part


def test_keys_are_the_entity_keys() -> None:
    indices = [0, 1, 9, 10, 999, 10**6, 2**40]
    assert keys_of(7, "job_run", indices) == [entity_key(7, "job_run", i) for i in indices]
    assert keys_of(7, "org", np.arange(3)) == [entity_key(7, "org", i) for i in range(3)]
    assert keys_of(7, "org", []) == []


@pytest.mark.parametrize("zone", [timezone.utc, timezone(timedelta(hours=-5)), None])
def test_time_columns_give_the_same_datetimes_whole_seconds_or_not(zone: timezone | None) -> None:
    seconds = [0, -1, 1_700_000_000, 4_000_000_000]
    whole = np.array([s * MICROS for s in seconds] + [NULL_TIME], dtype=np.int64)
    odd = np.where(whole == NULL_TIME, NULL_TIME, whole + 5)  # not whole seconds
    for values in (whole, whole[:-1], odd, np.array([NULL_TIME], dtype=np.int64)):
        expected = [None if v == NULL_TIME else _plain(v, zone) for v in values.tolist()]
        found = datetimes(values, zone)
        assert found == expected
        assert [d if d is None else d.tzinfo for d in found] == [
            d if d is None else d.tzinfo for d in expected
        ]


def _plain(micros: int, zone: timezone | None) -> datetime:
    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=micros)
    return moment.astimezone(zone) if zone is not None else moment.replace(tzinfo=None)


def test_local_parts_of_ascii_and_other_scripts() -> None:
    assert local_part("María López") == "maria.lopez"
    assert local_part("O'Brien-Smith Jr.") == "obriensmith.jr"
    assert local_part("ALAN Turing 2") == "alan.turing.2"
    assert local_part("佐藤 太郎") == "zuoteng.tailang"
    assert local_part("!! ??") == "user"
    assert local_part("") == "user"
