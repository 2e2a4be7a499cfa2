"""The shortcuts of journey building give what the plain computations give."""

from __future__ import annotations

import random
import uuid

import pytest

from datagen.errors import SchemaError
from datagen.journeys import FIELD_BLOCK, JourneyContext, JourneyProvider, uuid4_text
from datagen.lineage import values_at
from datagen.schema import Runtime
from datagen.seeding import REFERENCE_DATE


def context(seed: int = 3) -> JourneyContext:
    runtime = Runtime(locale="en", run_seed=seed, reference_date=REFERENCE_DATE)
    return JourneyContext(runtime, journey="test")


def test_uuid4_text_is_str_of_a_version_4_uuid() -> None:
    draws = random.Random(7)
    for bits in [0, 2**128 - 1, *(draws.getrandbits(128) for _ in range(5000))]:
        assert uuid4_text(bits) == str(uuid.UUID(int=bits, version=4))


@pytest.mark.parametrize("provider, path", [("org", "domain"), ("org", "created_at")])
def test_document_field_blocks_give_each_rows_own_value(provider: str, path: str) -> None:
    """A block of rows computed at once holds what each row alone gives (columns are per row)."""
    shared = context()
    indices = [5, 0, FIELD_BLOCK - 1, FIELD_BLOCK, 3 * FIELD_BLOCK + 7, 5, 999, 123_456]
    for index in indices:
        alone = values_at(context().lineage, provider, path, [index])[0]
        assert shared.field_value(provider, index, path) == alone


def test_document_field_of_an_unknown_field_is_an_error() -> None:
    with pytest.raises(SchemaError, match="'org' has no field 'nmae'"):
        context().field_value("org", 0, "nmae")


class Steps(JourneyProvider):
    """Delays of every accepted form (not registered: no name in the class)."""

    def create_journey(self) -> None:
        doc = {"id": "x"}
        self.add_step("org", doc)
        self.add_step("org", doc, delay=(10, 20))
        self.add_step("org", doc, delay=[10, 20])
        self.add_step("org", doc, delay=(1.5, 2.5))
        self.add_step("org", doc, delay=(10, 10.5))
        self.add_step("org", doc, delay=7)


Steps.name = "steps"


def test_tuples_of_whole_seconds_draw_as_lists_do() -> None:
    """The shortcut for (int, int) tuples draws as the general path does, from the same state."""
    ctx = context()
    ctx.runtime.reseed(1)
    journey = Steps(ctx, index=0, start=REFERENCE_DATE)
    journey.create_journey()
    delays = [step.delay for step in journey.steps]
    assert [type(delay) for delay in delays] == [int, int, int, float, float, int]
    ctx.runtime.reseed(1)
    draws = ctx.runtime.rnd
    draws.getrandbits(128)  # the user id
    expected = [
        draws.randint(0, 0),
        draws.randint(10, 20),
        draws.randint(10, 20),
        round(draws.uniform(1.5, 2.5), 3),
        round(draws.uniform(10, 10.5), 3),
        draws.randint(7, 7),
    ]
    assert delays == expected


def test_boolean_bounds_are_refused() -> None:
    class Flags(JourneyProvider):
        def create_journey(self) -> None:
            self.add_step("org", {"id": 1}, delay=(True, 5))

    Flags.name = "flags"
    journey = Flags(context(), index=0, start=REFERENCE_DATE)
    with pytest.raises(SchemaError, match="journey 'flags' step 0: .* should be numbers"):
        journey.create_journey()
