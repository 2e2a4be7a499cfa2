"""Populate's way into PostgreSQL: COPY text made without a connection, one transaction,
foreign keys added after the rows (against the real server)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, inspect

from datagen.errors import SinkError
from datagen.sinks.base import Column, TableSpec
from datagen.sinks.copy_text import NULL, copy_text_encoder, field
from datagen.sinks.backends import open_database_sink
from datagen.sinks.reading import count_rows, read_rows
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


def careful_line_of(columns: tuple[Column, ...]) -> Callable[[dict[str, Any]], str]:
    """The reference: the row builder's values, every field escaped, one at a time."""
    row = row_builder(columns, POSTGRESQL)

    def line(record: dict[str, Any]) -> str:
        return "\t".join(NULL if v is None else field(v) for v in row(record)) + "\n"

    return line


def test_copy_text_is_the_careful_encoding_column_by_column() -> None:
    columns = (
        Column("a", "text"),
        Column("b", "integer"),
        Column("c", "json"),
        Column("d", "boolean"),
        Column("e", "float"),
    )
    text, careful = copy_text_encoder(columns), careful_line_of(columns)
    plain = {"a": "plain", "b": 5, "c": {"k": [1, None]}, "d": True, "e": 0.5}
    assert text([plain]) == 'plain\t5\t{"k":[1,null]}\tt\t0.5\n'
    tricky = ["tab\there", "new\nline", "cr\rhere", "back\\slash", "\\N", "é 🙂"]
    records = [
        plain,
        {"a": None},  # missing fields are NULL
        {"a": 7, "b": 2**70, "c": {1: "one"}, "d": False, "e": 3},  # other types, carefully
        *({"a": t, "b": None, "c": {"t": t}, "d": None, "e": None} for t in tricky),
    ]
    assert text(records) == "".join(map(careful, records))
    for record in records:  # alone, a column takes the fast way when it can
        assert text([record]) == careful(record)
    assert text(records).count("\n") == len(records) and "\r" not in text(records)
    assert text([]) == ""


def test_columns_with_nulls_and_odd_types_take_the_careful_way_or_agree_with_it() -> None:
    columns = (
        Column("a", "text"),
        Column("b", "integer"),
        Column("e", "float"),
        Column("t", "timestamp"),
    )
    text, careful = copy_text_encoder(columns), careful_line_of(columns)
    paris = timezone(timedelta(hours=1))
    cases = [
        [{"a": "x", "b": 1, "e": 1.5, "t": None}, {"a": None, "b": None, "e": None, "t": None}],
        [{"a": "tab\there", "b": True, "e": 2}, {"a": None, "b": 3, "e": False}],
        [{"a": "\\N"}, {"a": None}],
        [{"t": datetime(2024, 1, 2, 1, tzinfo=paris)}, {"t": datetime(2024, 1, 2, tzinfo=UTC)}],
        [{"t": datetime(2024, 1, 2)}, {"t": None}, {"a": 5}],
    ]
    for records in cases:
        assert text(records) == "".join(map(careful, records))


def test_timestamps_are_iso_8601_with_their_offset() -> None:
    at = [datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC), None, datetime(2024, 1, 2, tzinfo=UTC)]
    lines = copy_text_encoder((Column("t", "timestamp"),))([{"t": t} for t in at]).splitlines()
    assert lines[1] == "\\N"
    assert [None if line == "\\N" else datetime.fromisoformat(line) for line in lines] == at


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


def test_a_duplicate_key_fails_the_load_naming_the_key(postgres_db: str) -> None:
    sink = loaded(postgres_db, PARENT)
    try:
        # No primary key while the rows come in: the duplicate is found when it is added.
        sink.write(PARENT, [{"id": "p1", "n": 1}, {"id": "p2", "n": 2}])
        sink.write(PARENT, [{"id": "p1", "n": 3}])
        with pytest.raises(SinkError) as caught:
            sink.commit()
    finally:
        sink.close()
    message = str(caught.value)
    assert "cannot add the primary key parent.id" in message and "'p1' is in more than" in message
    assert "nothing was written" in message
    engine = create_engine(parse_database_url(postgres_db)[1])
    try:
        assert not inspect(engine).has_table("parent")
    finally:
        engine.dispose()


def test_finishing_a_table_adds_its_keys_before_the_commit(postgres_db: str) -> None:
    sink = loaded(postgres_db, PARENT, CHILD)
    try:
        sink.write(PARENT, [{"id": "p1", "n": 1}])
        sink.write(CHILD, [{"id": "c1", "parent_id": "nobody"}])
        sink.finish(CHILD)  # its foreign key waits for the parent's primary key
        with pytest.raises(SinkError, match="foreign key child.parent_id -> parent"):
            sink.finish(PARENT)  # both done: the orphan is found now, not at commit
    finally:
        sink.close()


def test_keys_are_compared_byte_by_byte(postgres_db: str) -> None:
    sink = loaded(postgres_db, PARENT, CHILD)
    try:
        sink.commit()
    finally:
        sink.close()
    engine = create_engine(parse_database_url(postgres_db)[1])
    try:
        with engine.connect() as conn:
            collations = conn.exec_driver_sql(
                "SELECT table_name, column_name, collation_name FROM information_schema.columns"
                " WHERE table_name IN ('parent', 'child') AND data_type = 'text'"
                " ORDER BY table_name, column_name"
            ).fetchall()
    finally:
        engine.dispose()
    # keys and references in the "C" collation (as MySQL's keys are binary): the key
    # index is built and searched by bytes, not by the locale's rules
    assert collations == [("child", "id", "C"), ("child", "parent_id", "C"), ("parent", "id", "C")]


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
