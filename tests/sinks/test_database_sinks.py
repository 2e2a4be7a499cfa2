"""The database sinks: one contract, run against SQLite, PostgreSQL and MariaDB.

Foreign-key violations surface as SinkError (message says "foreign key");
its ``__cause__`` is the driver's IntegrityError.
"""

from __future__ import annotations

import itertools
import re
import sys
from datetime import date, datetime, timedelta, timezone
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Inspector

from datagen.documents import get_provider
from datagen.errors import InputError, SinkError
from datagen.schema import Runtime
from datagen.sinks.base import Column, TableSpec
from datagen.sinks.backends import open_database_sink
from datagen.sinks.database import DatabaseSink
from datagen.sinks.rows import in_key_order
from datagen.sinks.reading import count_rows, read_rows
from datagen.sinks.dialects import parse_database_url, to_utc
from datagen.tables import JOURNEY_COLUMNS, table_for

SEED = 7
ORG, USER = table_for("org"), table_for("user")
SAMPLE = TableSpec(
    name="sample",
    key="id",
    columns=(
        Column("id", "text", nullable=False),
        Column("label", "text"),
        Column("count", "integer"),
        Column("ratio", "float"),
        Column("flag", "boolean"),
        Column("at", "timestamp"),
        Column("day", "date"),
        Column("payload", "json"),
    ),
)
UTC = timezone.utc


def build(name: str, quantity: int, **ref_counts: int) -> list[dict[str, Any]]:
    runtime = Runtime(locale="en", run_seed=SEED)
    factory = get_provider(name).factory(runtime, quantity=quantity, ref_counts=ref_counts)
    runtime.reseed(SEED)
    return [factory(index) for index in range(quantity)]


def by_key(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda record: record["id"])


def opened(url: str, *tables: TableSpec, reset: bool = True, **options: Any) -> DatabaseSink:
    sink = open_database_sink(url, **options)
    sink.open(tables, reset=reset)
    return sink


@pytest.fixture
def inspector() -> Iterator[Any]:
    engines = []

    def make(url: str) -> Inspector:
        engine = create_engine(parse_database_url(url)[1])
        engines.append(engine)
        return inspect(engine)

    yield make
    for engine in engines:
        engine.dispose()


# Values every sink must keep: unicode, quotes, backslashes (no NUL), big ints, nested JSON
texts = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
) | st.sampled_from(["😀 🚀 ✨", 'it\'s "quoted"', "back\\slash\\", "tab\tnew\nline", "漢字 ß"])
big_ints = st.integers(-(2**63), 2**63 - 1)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | big_ints
    | st.floats(-1e15, 1e15, allow_nan=False)  # JSONB stores numbers as numeric
    | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
offsets = st.builds(timezone, st.timedeltas(timedelta(hours=-14), timedelta(hours=14)))
samples = st.fixed_dictionaries(
    {
        "label": st.none() | texts,
        "count": st.none() | big_ints,
        "ratio": st.none() | st.floats(allow_nan=False, allow_infinity=False),
        "flag": st.none() | st.booleans(),
        "at": st.none()
        | st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1), timezones=offsets),
        "day": st.none() | st.dates(date(1000, 1, 1), date(9999, 12, 31)),
        "payload": json_values,
    }
)


class SinkContract:
    """What every database sink does; subclasses say how to reach their database."""

    @pytest.fixture
    def url(self) -> str:
        raise NotImplementedError

    @pytest.fixture
    def unreachable(self, tmp_path: Path) -> tuple[str, str]:
        """A URL (with password s3cret) that can't be opened, and where it points."""
        raise NotImplementedError

    def test_creates_tables_with_the_key_as_primary_key(self, url: str, inspector: Any) -> None:
        opened(url, ORG, USER).close()
        found = inspector(url)
        for spec in (ORG, USER):
            assert found.get_pk_constraint(spec.name)["constrained_columns"] == [spec.key]
            assert [c["name"] for c in found.get_columns(spec.name)] == [
                c.name for c in spec.columns
            ]
        assert found.get_foreign_keys("user") == []

    def test_written_records_read_back_equal(self, url: str) -> None:
        orgs, users = build("org", 40), build("user", 120, org=40)
        with opened(url, ORG, USER) as sink:
            assert sink.write(ORG, orgs) == 40
            assert sink.write(USER, users) == 120
        assert read_rows(url, ORG) == by_key(orgs)
        rows = read_rows(url, "user")  # column types from the database
        assert rows == by_key(users)
        first = rows[0]
        assert first["created_at"].tzinfo == UTC and isinstance(first["groups"], list)
        assert isinstance(read_rows(url, "org")[0]["seats"], int)

    def test_writes_are_idempotent_and_updates_replace(self, url: str) -> None:
        orgs = build("org", 30)
        with opened(url, ORG, USER) as sink:
            sink.write(ORG, orgs)
            sink.write(ORG, orgs)
            assert count_rows(url, "org") == 30
            changed = {**orgs[3], "name": "Renamed Ltd", "settings": {"sso_enabled": None}}
            assert sink.write(ORG, [changed]) == 1
        rows = {row["id"]: row for row in read_rows(url, ORG)}
        assert len(rows) == 30
        assert rows[changed["id"]] == changed
        assert rows[orgs[4]["id"]] == orgs[4]

    def test_journey_columns_are_added_to_a_table_made_for_documents(self, url: str) -> None:
        orgs = build("org", 3)
        with opened(url, ORG) as sink:
            sink.write(ORG, orgs)
        steps = replace(ORG, columns=ORG.columns + JOURNEY_COLUMNS)
        step = {**build("org", 4)[3], "journey_id": "j1", "step_index": 2}
        with opened(url, steps, reset=False) as sink:
            assert sink.write(steps, [step]) == 1
        rows = {row["id"]: row for row in read_rows(url, "org")}
        assert rows[step["id"]] == step
        assert rows[orgs[0]["id"]] == {**orgs[0], "journey_id": None, "step_index": None}

    def test_a_table_made_for_other_data_is_refused(self, url: str) -> None:
        with opened(url, ORG) as sink:
            sink.write(ORG, build("org", 2))
        other = replace(ORG, columns=ORG.columns + (Column("colour", "text"),))
        with pytest.raises(SinkError, match=r"table 'org' .* has no column 'colour'.*reset"):
            opened(url, other, reset=False)
        assert count_rows(url, "org") == 2

    def test_a_refused_table_leaves_the_others_unaltered(self, url: str, inspector: Any) -> None:
        opened(url, ORG, USER).close()
        steps = replace(ORG, columns=ORG.columns + JOURNEY_COLUMNS)
        other = replace(USER, columns=USER.columns + (Column("colour", "text"),))
        with pytest.raises(SinkError, match="'colour'"):
            opened(url, steps, other, reset=False)  # MySQL would commit an ALTER at once
        assert "journey_id" not in [c["name"] for c in inspector(url).get_columns("org")]

    def test_missing_fields_are_null_and_the_last_duplicate_wins(self, url: str) -> None:
        records = [
            {"id": "a", "label": "first"},
            {"id": "b", "count": 2, "payload": "42"},  # a JSON string stays a string
            {"id": "a", "label": "second", "flag": True},
            {"id": "c", "payload": 2**63 - 1},  # JSON numbers stay exact
        ]
        with opened(url, SAMPLE) as sink:
            assert sink.write(SAMPLE, records) == 3
            summary = sink.close()
        assert summary.written == {"sample": 3}
        empty = {column.name: None for column in SAMPLE.columns}
        expected = [
            {**empty, "id": "a", "label": "second", "flag": True},
            {**empty, "id": "b", "count": 2, "payload": "42"},
            {**empty, "id": "c", "payload": 2**63 - 1},
        ]
        assert read_rows(url, SAMPLE) == expected
        assert read_rows(url, "sample") == expected

    def test_reset_empties_the_tables(self, url: str, inspector: Any) -> None:
        with opened(url, ORG, USER) as sink:
            sink.write(ORG, build("org", 10))
            sink.write(USER, build("user", 10, org=10))
        opened(url, ORG, USER, reset=False).close()
        assert count_rows(url, "org") == 10
        opened(url, ORG, USER, reset=True).close()
        assert count_rows(url, "org") == count_rows(url, "user") == 0
        assert {"org", "user"} <= set(inspector(url).get_table_names())

    def test_foreign_keys_are_enforced(self, url: str, inspector: Any) -> None:
        orgs, users = build("org", 5), build("user", 20, org=5)
        orphan = {**users[0], "id": "orphan", "org_id": "no-such-org"}
        orphan.update(email="orphan@example.com", username="orphan")  # unique fields: its own
        with opened(url, USER, ORG, foreign_keys=True) as sink:  # parents are created first
            sink.write(ORG, orgs)
            sink.write(USER, users)
            with pytest.raises(SinkError, match="(?i)foreign key") as caught:
                sink.write(USER, [users[1], orphan])
            assert "IntegrityError" in {cls.__name__ for cls in type(caught.value.__cause__).mro()}
            assert sink.summary.written == {"org": 5, "user": 20}
            assert sink.write(USER, users[:2]) == 2  # the sink still works after a failure
        assert count_rows(url, "user") == 20  # the failed batch left nothing
        assert inspector(url).get_foreign_keys("user")[0]["referred_table"] == "org"
        with opened(url, ORG, USER) as sink:  # reset drops the constraint with its table
            assert sink.write(USER, [orphan]) == 1

    def test_foreign_keys_to_tables_opened_earlier(self, url: str) -> None:
        opened(url, ORG, USER).close()
        with opened(url, USER, foreign_keys=True) as sink:  # a constraint to the existing org
            with pytest.raises(SinkError, match="(?i)foreign key"):
                sink.write(USER, build("user", 1, org=1))
        lost = TableSpec("lost", "id", (Column("id", "text"),), {"id": ("nowhere", "id")})
        with pytest.raises(SinkError, match="refers to table 'nowhere'"):
            opened(url, lost, foreign_keys=True)

    def test_summary_counts_what_was_written(self, url: str) -> None:
        orgs = build("org", 25)
        with opened(url, ORG, USER) as sink:
            sink.write(ORG, orgs[:10])
            sink.write(ORG, orgs[10:])
            sink.write(USER, build("user", 7, org=25))
            assert sink.write(ORG, []) == 0
        assert sink.summary.written == {"org": 25, "user": 7}
        assert sink.close() is sink.summary  # close is idempotent

    def test_values_survive(self, url: str) -> None:
        keys = itertools.count()
        sink = opened(url, SAMPLE)

        @settings(max_examples=30, deadline=None, database=None)
        @given(st.lists(samples, min_size=1, max_size=4))
        def check(records: list[dict[str, Any]]) -> None:
            records = [{"id": f"k{next(keys):05d}", **record} for record in records]
            assert sink.write(SAMPLE, records) == len(records)
            rows = {row["id"]: row for row in read_rows(url, SAMPLE)}
            for record in records:
                row = rows[record["id"]]
                assert row == record
                if record["at"] is not None:
                    assert row["at"].tzinfo == UTC
                assert type(row["count"]) is type(record["count"])

        try:
            check()
        finally:
            sink.close()

    def test_iso_text_is_stored_as_the_value_it_names(self, url: str) -> None:
        """Published JSON holds timestamps and dates as ISO text: stored typed, in UTC."""
        texts = {
            "a": ("2023-08-04T09:23:57+00:00", "2023-08-04"),
            "b": ("2023-08-04T09:23:57.123456+00:00", "1999-12-31"),
            "c": ("2023-08-04T11:23:57+02:00", None),  # other offsets, converted
            "d": ("2023-08-04T09:23:57", None),  # naive: UTC
        }
        with opened(url, SAMPLE) as sink:
            sink.write(SAMPLE, [{"id": k, "at": at, "day": day} for k, (at, day) in texts.items()])
        found = {row["id"]: (row["at"], row["day"]) for row in read_rows(url, SAMPLE)}
        expected = {
            k: (to_utc(datetime.fromisoformat(at)), day and date.fromisoformat(day))
            for k, (at, day) in texts.items()
        }
        assert found == expected
        assert found["b"][0].microsecond == 123456

    def test_a_stream_is_written_and_keys_met_again_are_upserted(self, url: str) -> None:
        orgs = build("org", 30)
        with opened(url, ORG) as sink:
            assert sink.write(ORG, iter(orgs[:10])) == 10  # an iterator, read once
            assert sink.write(ORG, iter([])) == 0
            renamed = [{**org, "name": f"again {i}"} for i, org in enumerate(orgs[5:15])]
            assert sink.write(ORG, (org for org in renamed + orgs[15:])) == 25  # new and old
            assert sink.write(ORG, iter(orgs[20:] + [renamed[0]])) == 11  # old keys from now on
            assert sink.summary.written == {"org": 46}
        rows = {row["id"]: row for row in read_rows(url, ORG)}
        assert len(rows) == 30
        assert rows[orgs[5]["id"]]["name"] == "again 0"
        assert rows[orgs[14]["id"]] == renamed[9] and rows[orgs[29]["id"]] == orgs[29]

    def test_a_record_without_its_key_fails_the_batch(self, url: str) -> None:
        with opened(url, SAMPLE) as sink:
            with pytest.raises(SinkError, match="a 'sample' record has no key 'id'"):
                sink.write(SAMPLE, iter([{"id": "a"}, {"label": "keyless"}]))
            assert sink.write(SAMPLE, [{"id": "b"}]) == 1
        assert [row["id"] for row in read_rows(url, SAMPLE)] == ["b"]

    def test_unreachable_errors_name_the_place_not_the_password(
        self, unreachable: tuple[str, str]
    ) -> None:
        url, where = unreachable
        sink = open_database_sink(url)
        assert "s3cret" not in sink.summary.target
        with pytest.raises(SinkError) as caught:
            sink.open([SAMPLE])
        assert where in str(caught.value)
        assert "s3cret" not in str(caught.value) and "s3cret" not in repr(caught.value)
        with pytest.raises(SinkError):
            read_rows(url, "sample")


class TestSQLiteSink(SinkContract):
    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path}/sink.db"

    @pytest.fixture
    def unreachable(self, tmp_path: Path) -> tuple[str, str]:
        (tmp_path / "a-file").write_text("not a folder")
        path = f"{tmp_path}/a-file/sink.db"
        return f"sqlite:///{path}", str(tmp_path / "a-file")


@pytest.mark.postgres
class TestPostgresSink(SinkContract):
    @pytest.fixture
    def url(self, postgres_url: str) -> str:
        return postgres_url

    @pytest.fixture
    def unreachable(self) -> tuple[str, str]:
        return "postgresql://u:s3cret@127.0.0.1:1/db", "PostgreSQL at 127.0.0.1:1"


@pytest.mark.mariadb
class TestMariaDBSink(SinkContract):
    @pytest.fixture
    def url(self, mariadb_url: str) -> str:
        return mariadb_url

    @pytest.fixture
    def unreachable(self) -> tuple[str, str]:
        return "mariadb://u:s3cret@127.0.0.1:1/db", "MariaDB at 127.0.0.1:1"


class TestDatabaseUrls:
    @pytest.mark.parametrize(
        "url, driver",
        [
            ("sqlite:///out/x.db", "sqlite"),
            ("postgresql://u:p@h/db", "postgresql+psycopg"),
            ("postgres://u:p@h:5433/db", "postgresql+psycopg"),
            ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
            ("mysql://u@h/db", "mysql+pymysql"),
            ("mysql+pymysql://u@h/db", "mysql+pymysql"),
            ("mariadb://u@h/db", "mysql+pymysql"),
        ],
    )
    def test_schemes_choose_the_driver(self, url: str, driver: str) -> None:
        assert parse_database_url(url)[1].drivername == driver
        assert type(open_database_sink(url)).backend.drivername == driver

    @pytest.mark.parametrize(
        "url",
        [
            "redis://h/0",
            "postgresql+psycopg2://u@h/db",
            "mysql+mysqldb://u@h/db",
            "postgresql://u:s3cret@h:port/db",
            "mysql://u:s3cret@h",
            "sqlite://host/x.db",
        ],
    )
    def test_bad_urls_are_input_errors(self, url: str) -> None:
        with pytest.raises(InputError) as caught:
            open_database_sink(url)
        assert "s3cret" not in str(caught.value)

    @pytest.mark.parametrize(
        "url, module, package",
        [
            ("postgresql://u:s3cret@127.0.0.1/db", "psycopg", "psycopg[binary]"),
            ("mariadb://u:s3cret@127.0.0.1/db", "pymysql", "PyMySQL"),
        ],
    )
    def test_a_missing_driver_names_its_package(
        self, url: str, module: str, package: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setitem(sys.modules, module, None)  # import fails
        with pytest.raises(SinkError, match=re.escape(f"pip install '{package}'")) as caught:
            open_database_sink(url).open([SAMPLE])
        assert "s3cret" not in str(caught.value)


def test_batches_in_key_order_keep_the_last_of_a_key_last() -> None:
    rows = [("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5)]
    assert in_key_order(rows, 0) == [("a", 2), ("a", 5), ("b", 1), ("b", 3), ("c", 4)]
    mixed = [(2, "x"), ("1", "y")]  # keys that can't be compared stay as they came
    assert in_key_order(mixed, 0) == [(2, "x"), ("1", "y")]
