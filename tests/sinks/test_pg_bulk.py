"""Populate's way into PostgreSQL: COPY text made without a connection, one transaction,
foreign keys added after the rows (against the real server)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, inspect

from datagen.errors import SinkError
from datagen.sinks.base import Column, TableSpec
from datagen.sinks.copy_text import careful_line, copy_line_encoder
from datagen.sinks.database import count_rows, open_database_sink, read_rows
from datagen.sinks.dialects import POSTGRESQL, parse_database_url, row_builder
from datagen.sinks.pg_bulk import PostgresBulkLoad
from tests.sinks.test_database_sinks import SAMPLE, UTC, samples

PARENT = TableSpec("parent", "id", (Column("id", "text", nullable=False), Column("n", "integer")))
CHILD = TableSpec(
    "child",
    "id",
    (Column("id", "text", nullable=False), Column("parent_id", "text")),
    foreign_keys={"parent_id": ("parent", "id")},
)

pytestmark = pytest.mark.postgres


def loaded(url: str, *tables: TableSpec, reset: bool = True) -> PostgresBulkLoad:
    sink = PostgresBulkLoad(url)
    sink.open(tables, reset=reset)
    return sink


def test_lines_are_the_careful_encoding_when_nothing_needs_escaping() -> None:
    columns = (Column("a", "text"), Column("b", "integer"), Column("c", "json"))
    line = copy_line_encoder(columns)
    record = {"a": "plain", "b": 5, "c": {"k": [1, None]}}
    assert line(record) == 'plain\t5\t{"k":[1,null]}\n'
    assert line({"a": None}) == "\\N\t\\N\t\\N\n"
    for text in ("tab\there", "new\nline", "cr\rhere", "back\\slash", "\\N"):
        expected = careful_line(row_builder(columns, POSTGRESQL)({"a": text}))
        assert line({"a": text}) == expected
        assert expected.count("\t") == 2 and expected.count("\n") == 1 and "\r" not in expected


def test_values_survive_the_copy_text_encoding(postgres_db: str) -> None:
    keys = itertools.count()

    @settings(max_examples=25, deadline=None, database=None)
    @given(st.lists(samples, min_size=1, max_size=4))
    def check(records: list[dict[str, Any]]) -> None:
        records = [{"id": f"k{next(keys):05d}", **record} for record in records]
        sink = loaded(postgres_db, SAMPLE)
        try:
            assert sink.write(SAMPLE, records) == len(records)
            sink.commit()
        finally:
            sink.close()
        rows = {row["id"]: row for row in read_rows(postgres_db, SAMPLE)}
        assert len(rows) == len(records)
        for record in records:
            row = rows[record["id"]]
            assert row == record
            if record["at"] is not None:
                assert row["at"].tzinfo == UTC

    check()


def test_foreign_keys_come_after_the_rows_and_are_enforced(postgres_db: str) -> None:
    sink = loaded(postgres_db, CHILD, PARENT)  # any order: parents are created first
    try:
        # Children before their parents: fine until commit, when the keys are added.
        sink.write(CHILD, [{"id": "c1", "parent_id": "p1"}])
        sink.write(PARENT, [{"id": "p1", "n": 1}])
        sink.commit()
    finally:
        sink.close()
    engine = create_engine(parse_database_url(postgres_db)[1])
    try:
        keys = inspect(engine).get_foreign_keys("child")
    finally:
        engine.dispose()
    assert [(k["constrained_columns"], k["referred_table"]) for k in keys] == [
        (["parent_id"], "parent")
    ]
    # The constraint is there: the ordinary sink can't write an orphan any more.
    with open_database_sink(postgres_db, foreign_keys=True) as sink:
        sink.open([PARENT, CHILD])
        with pytest.raises(SinkError, match="foreign key"):
            sink.write(CHILD, [{"id": "c2", "parent_id": "nobody"}])


def test_an_orphan_row_fails_the_load_and_leaves_the_database_as_it_was(
    postgres_db: str,
) -> None:
    sink = loaded(postgres_db, PARENT, CHILD)
    sink.write(PARENT, [{"id": "p1", "n": 1}])
    sink.write(CHILD, [{"id": "c1", "parent_id": "p1"}])
    sink.commit()
    sink.close()

    sink = loaded(postgres_db, PARENT, CHILD)  # --reset: drops them, in the transaction
    try:
        sink.write(PARENT, [{"id": "p2", "n": 2}])
        sink.write(CHILD, [{"id": "c2", "parent_id": "nobody"}])
        with pytest.raises(SinkError) as caught:
            sink.commit()
    finally:
        sink.close()
    message = str(caught.value)
    assert "foreign key child.parent_id -> parent" in message
    assert "nothing was written" in message and "nobody" in message
    assert read_rows(postgres_db, PARENT) == [{"id": "p1", "n": 1}]
    assert read_rows(postgres_db, CHILD) == [{"id": "c1", "parent_id": "p1"}]


def test_closing_without_commit_writes_nothing(postgres_db: str) -> None:
    sink = loaded(postgres_db, PARENT)
    sink.write(PARENT, [{"id": "p1", "n": 1}])
    sink.close()
    engine = create_engine(parse_database_url(postgres_db)[1])
    try:
        assert not inspect(engine).has_table("parent")
    finally:
        engine.dispose()


def test_existing_tables_are_upserted(postgres_db: str) -> None:
    sink = loaded(postgres_db, PARENT, CHILD)
    sink.write(PARENT, [{"id": "p1", "n": 1}, {"id": "p2", "n": 2}])
    sink.commit()
    sink.close()

    sink = loaded(postgres_db, PARENT, CHILD, reset=False)
    try:
        assert sink.write(PARENT, [{"id": "p2", "n": 20}, {"id": "p3", "n": 3}]) == 2
        assert sink.write(CHILD, [{"id": "c1", "parent_id": "p3"}]) == 1
        assert sink.write(PARENT, [{"id": "p1", "n": 10}]) == 1  # the staging table again
        sink.commit()
    finally:
        sink.close()
    assert sorted((r["id"], r["n"]) for r in read_rows(postgres_db, PARENT)) == [
        ("p1", 10),
        ("p2", 20),
        ("p3", 3),
    ]
    assert count_rows(postgres_db, "child") == 1
    # existing tables kept their constraints: an orphan is refused at once
    sink = loaded(postgres_db, PARENT, CHILD, reset=False)
    try:
        with pytest.raises(SinkError, match="nothing was written"):
            sink.write(CHILD, [{"id": "c9", "parent_id": "nobody"}])
    finally:
        sink.close()
    assert count_rows(postgres_db, "child") == 1
