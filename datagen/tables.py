"""Tables for document types: columns and keys derived from providers."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from datagen.documents import get_provider
from datagen.schema import Runtime
from datagen.tablespec import Column, References, TableSpec

SAMPLES = 50
# A journey step's own columns: added to a document type's table made before without them.
JOURNEY_COLUMNS = (
    Column("journey_id", "text", addable=True),
    Column("step_index", "integer", addable=True),
)


def column_type(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, date):
        return "date"
    if isinstance(value, (dict, list)):
        return "json"
    return "text"


@lru_cache(maxsize=None)
def table_for(provider: str, *, journeys: bool = False) -> TableSpec:
    """The table of ``provider``'s documents (plus journey columns if asked).

    Column types come from sample documents (seed 0): the first non-null value
    of each top-level field decides; a field null in every sample is text.
    Integers mixed with floats are floats.
    """
    instance = get_provider(provider)
    runtime = Runtime(locale="en", run_seed=0)
    build = instance.factory(runtime, quantity=SAMPLES)
    runtime.reseed(0)
    samples = [build(i) for i in range(SAMPLES)]
    columns = []
    for name in instance.template():
        kinds = {kind for doc in samples if (kind := column_type(doc.get(name))) is not None}
        if kinds == {"integer", "float"}:
            kinds = {"float"}
        kind = kinds.pop() if len(kinds) == 1 else ("json" if kinds else "text")
        columns.append(Column(name, kind, nullable=name != instance.key))
    if journeys:
        columns.extend(JOURNEY_COLUMNS)
    foreign = References(
        (field, (target, get_provider(target).key))
        for field, target in instance.references().items()
    )
    return TableSpec(
        name=provider,
        key=instance.key,
        columns=tuple(columns),
        foreign_keys=foreign,
        unique=tuple(instance.unique),
    )
