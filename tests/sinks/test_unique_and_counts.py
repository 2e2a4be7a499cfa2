"""UNIQUE constraints, violations reported as what they are, and counts read back.

One contract run against SQLite, PostgreSQL and MariaDB (the real servers):
a TableSpec's ``unique`` columns become UNIQUE constraints; a record that
meets another row on a unique key fails (never merges into it), with a
message naming the table, the constraint, the column and (for declared
columns only) the value, and saying what is committed; the counts a sink
reports are the database's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import orjson
import pytest
from sqlalchemy import create_engine, inspect

from datagen.errors import SinkError
from datagen.sinks.base import Column, TableSpec
from datagen.sinks.backends import open_database_sink
from datagen.sinks.database import DatabaseSink
from datagen.sinks.reading import count_rows, read_rows
from datagen.sinks.dialects import parse_database_url

PEOPLE = TableSpec(
    name="people",
    key="id",
    columns=(
        Column("id", "text", nullable=False),
        Column("email", "text"),
        Column("handle", "text"),
        Column("token", "text"),
        Column("n", "integer"),
    ),
    unique=("email", "handle"),
)


def person(key: str, email: str, n: int = 0, token: str | None = None) -> dict[str, Any]:
    return {"id": key, "email": email, "handle": f"h-{key}", "token": token, "n": n}


FIRST = [person("a", "ann@example.org", 1), person("b", "bob@example.org", 2)]


def opened(url: str, *tables: TableSpec, reset: bool = True) -> DatabaseSink:
    sink = open_database_sink(url)
    sink.open(tables, reset=reset)
    return sink


def execute(url: str, *statements: str) -> None:
    """Run SQL as another client would, committed."""
    engine = create_engine(parse_database_url(url)[1])
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.fixture
def inspector() -> Iterator[Any]:
    engines = []

    def make(url: str) -> Any:
        engine = create_engine(parse_database_url(url)[1])
        engines.append(engine)
        return inspect(engine)

    yield make
    for engine in engines:
        engine.dispose()


class UniqueContract:
    """What every database sink does with unique keys and counts."""

    label = ""  # the database's name in messages
    values_named = True  # the database names the duplicated value (SQLite does not)

    @pytest.fixture
    def url(self) -> str:
        raise NotImplementedError

    def test_declared_unique_columns_become_named_unique_constraints(
        self, url: str, inspector: Any
    ) -> None:
        opened(url, PEOPLE).close()
        found = inspector(url).get_unique_constraints("people")
        assert {(c["name"], tuple(c["column_names"])) for c in found} == {
            ("people_email_key", ("email",)),
            ("people_handle_key", ("handle",)),
        }

    @pytest.mark.parametrize("with_an_update", [False, True], ids=["new keys", "and an update"])
    def test_a_new_key_with_a_taken_value_fails_and_merges_nothing(
        self, url: str, with_an_update: bool
    ) -> None:
        """The issue's case: MySQL's ON DUPLICATE KEY UPDATE merged such a record into ann's row.

        With an update in the batch, the table's batches take the upsert way
        (staged on MariaDB): it must refuse the duplicate too.
        """
        taken = person("c", "ann@example.org", 3)  # a new key, ann's email
        batch = [{**FIRST[1], "n": 20}, taken] if with_an_update else [taken]
        with opened(url, PEOPLE) as sink:
            assert sink.write(PEOPLE, FIRST) == 2
            with pytest.raises(SinkError) as caught:
                sink.write(PEOPLE, batch)
            value = "'ann@example.org'" if self.values_named else "a value"
            assert str(caught.value) == (
                f"cannot write 'people' records to {self.label}: unique constraint "
                f"'people_email_key' on people.email violated: {value} is already in the "
                "table, or twice in this batch; committed before this batch: people 2 rows "
                "(1 batch); this batch was rolled back (make the values distinct, or drop that "
                "constraint, then run the same command again to finish: the rows already in "
                "are upserted, not doubled; or add --reset to start from empty tables)"
            )
            assert "IntegrityError" in {c.__name__ for c in type(caught.value.__cause__).mro()}
            assert sink.summary.written == {"people": 2}
            assert sink.write(PEOPLE, [person("c", "cy@example.org", 3)]) == 1  # still works
        assert read_rows(url, PEOPLE) == [*FIRST, person("c", "cy@example.org", 3)]

    def test_two_new_keys_with_one_value_in_a_batch_fail(self, url: str) -> None:
        with opened(url, PEOPLE) as sink:
            twins = [person("a", "same@example.org"), person("b", "same@example.org")]
            with pytest.raises(SinkError, match="nothing is committed .this batch was rolled back"):
                sink.write(PEOPLE, twins)
        assert count_rows(url, "people") == 0

    def test_an_undeclared_unique_key_is_named_but_not_its_value(self, url: str) -> None:
        opened(url, PEOPLE).close()
        execute(url, "CREATE UNIQUE INDEX people_token_uq ON people (token)")
        with opened(url, PEOPLE, reset=False) as sink:
            sink.write(PEOPLE, [person("a", "ann@example.org", token="s3cret-token")])
            with pytest.raises(SinkError) as caught:
                sink.write(PEOPLE, [person("b", "bob@example.org", token="s3cret-token")])
        message = str(caught.value)
        assert "unique constraint 'people_token_uq' on people.token violated" in message
        if self.values_named:
            assert "a value (not shown: the column is not declared unique)" in message
        assert "s3cret" not in message and "foreign key" not in message

    def test_counts_are_the_databases(self, url: str) -> None:
        with opened(url, PEOPLE) as sink:
            assert sink.write(PEOPLE, FIRST) == 2
            again = [{**FIRST[1], "n": 9}, person("c", "cy@example.org")]
            assert sink.write(PEOPLE, again) == 2  # one updated, one new
            assert (sink.ledger.new["people"], sink.ledger.updated["people"]) == (3, 1)
            assert sink.summary.written == {"people": 4}  # rows written, batch by batch
            assert sink.read_back().written == {"people": 3}  # the table made here, counted
        with opened(url, PEOPLE, reset=False) as sink:  # a table that was there: not counted
            assert sink.write(PEOPLE, [FIRST[0], person("d", "di@example.org")]) == 2
            assert sink.read_back().written == {"people": 2}
        assert count_rows(url, "people") == 4

    def test_rows_gone_from_a_table_the_run_made_fail_the_run(self, url: str) -> None:
        with opened(url, PEOPLE) as sink:
            sink.write(PEOPLE, FIRST)
            sink.write(PEOPLE, [person("c", "cy@example.org")])
            execute(url, "DELETE FROM people WHERE id IN ('a', 'c')")  # another client
            with pytest.raises(SinkError) as caught:
                sink.read_back()
        assert str(caught.value).startswith(
            f"table 'people' at {self.label} holds 1 rows, but this run inserted 3"
        )


class TestSQLite(UniqueContract):
    values_named = False

    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        self.label = f"SQLite at {tmp_path}/unique.db"
        return f"sqlite:///{tmp_path}/unique.db"


@pytest.mark.postgres
class TestPostgres(UniqueContract):
    @pytest.fixture
    def url(self, postgres_db: str) -> str:
        self.label = "PostgreSQL at 127.0.0.1:5432"
        return postgres_db


@pytest.mark.mariadb
class TestMariaDB(UniqueContract):
    @pytest.fixture
    def url(self, mariadb_db: str) -> str:
        self.label = "MySQL at 127.0.0.1:3306"
        return mariadb_db

    def test_unique_text_is_a_varchar(self, url: str, inspector: Any) -> None:
        """TEXT can't be a plain unique key: VARCHAR(255), which MySQL and MariaDB both index."""
        opened(url, PEOPLE).close()
        types = {c["name"]: str(c["type"]) for c in inspector(url).get_columns("people")}
        assert types["email"].startswith("VARCHAR(255)") and types["token"] == "TEXT"


# A batch the database did not write in full ------------------------------------------

PG_SKIP_ODD = (
    "CREATE FUNCTION skip_odd() RETURNS trigger AS "
    "$$ BEGIN IF mod(NEW.n, 2) = 1 THEN RETURN NULL; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER skip_odd BEFORE INSERT ON people FOR EACH ROW EXECUTE FUNCTION skip_odd()",
)
SQLITE_SKIP_ODD = (
    "CREATE TRIGGER skip_odd BEFORE INSERT ON people WHEN NEW.n % 2 = 1 "
    "BEGIN SELECT RAISE(IGNORE); END",
)


@pytest.mark.parametrize(
    "database",
    [pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"],
)
def test_a_batch_the_database_wrote_in_part_fails_and_is_rolled_back(
    database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A trigger that drops rows silently: the database's own count gives it away.

    (MySQL and MariaDB triggers can't skip a row without an error.)
    """
    if database == "postgres":
        url, label, trigger = request.getfixturevalue("postgres_db"), "PostgreSQL", PG_SKIP_ODD
    else:
        url, label, trigger = f"sqlite:///{tmp_path}/skip.db", "SQLite", SQLITE_SKIP_ODD
    opened(url, PEOPLE).close()
    execute(url, *trigger)
    with opened(url, PEOPLE, reset=False) as sink:
        with pytest.raises(SinkError) as caught:
            sink.write(PEOPLE, FIRST)  # ann's n is odd: dropped
    message = str(caught.value)
    assert message.startswith(f"cannot write 'people' records to {label} at ")
    assert message.endswith(
        ": the database wrote 1 rows (1 new, 0 updated) for a batch of 2 distinct keys "
        "(a trigger or rule may skip rows); nothing is committed (this batch was rolled back)"
    )
    assert count_rows(url, "people") == 0


# The case, end to end on the real MariaDB ---------------------------------------


@pytest.mark.mariadb
def test_publish_into_a_mariadb_user_table_with_an_extra_unique_email(
    run: Any, mariadb_db: str, tmp_path: Path
) -> None:
    """100,000 users into ``user`` with an extra UNIQUE(email): refused or correct.

    On main this printed ``user: 100000`` with exit 0 while the table held
    99,651 rows, some mixing one user's id with another's fields. Whether
    the generated emails repeat or not, the count printed must be the
    table's, and every row must be one generated user, whole.
    """
    folder = tmp_path / "users"
    generated = run("document", "-p", "user", "-q", 100_000, "--seed", 42, "--format", "jsonl",
                    "--to", folder, "--quiet")  # fmt: skip
    assert generated.exit_code == 0, generated.output
    with opened(mariadb_db, _user_table()):
        pass  # the table as publish makes it, then the production schema's extra key
    execute(mariadb_db, "ALTER TABLE user ADD CONSTRAINT user_email_uq UNIQUE (email)")

    result = run("publish", folder, "--to", mariadb_db)
    held = read_rows(mariadb_db, _user_table())
    users = {user["id"]: user for user in _jsonl(folder / "user" / "user.jsonl")}
    # whole users, none mixed (times as the JSONL writes them)
    assert all(orjson.loads(orjson.dumps(row)) == users[row["id"]] for row in held)
    if result.exit_code == 0:
        assert result.output.strip().endswith(f"user: {len(held)}") and len(held) == len(users)
    else:
        assert result.exit_code == 1
        line = result.output.strip()
        assert "\n" not in line and "foreign key" not in line
        assert "unique constraint 'user_email_uq' on user.email violated" in line
        committed = (
            f"committed before this batch: user {len(held):,} rows"
            if held
            else "nothing is committed"
        )
        assert committed in line and "--reset" in line


def _user_table() -> TableSpec:
    from datagen.tables import table_for

    return table_for("user")


def _jsonl(path: Path) -> list[dict[str, Any]]:
    import orjson

    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


# The bulk loads of populate: PostgreSQL adds the constraints after the rows ---------------


@pytest.mark.postgres
def test_the_postgres_bulk_load_adds_unique_constraints_after_the_rows(
    postgres_db: str, inspector: Any
) -> None:
    from datagen.sinks.pg_bulk import PostgresBulkLoad

    sink = PostgresBulkLoad(postgres_db)
    try:
        sink.open([PEOPLE], reset=True)
        assert sink.write(PEOPLE, FIRST) == 2
        sink.commit()  # adds the keys, counts the rows, commits
    finally:
        summary = sink.close()
    assert summary.written == {"people": 2}
    found = inspector(postgres_db).get_unique_constraints("people")
    assert {c["name"] for c in found} == {"people_email_key", "people_handle_key"}


@pytest.mark.postgres
def test_a_duplicate_in_a_postgres_bulk_load_names_the_constraint_and_writes_nothing(
    postgres_db: str,
) -> None:
    from datagen.sinks.pg_bulk import PostgresBulkLoad

    sink = PostgresBulkLoad(postgres_db)
    try:
        sink.open([PEOPLE], reset=True)
        sink.write(PEOPLE, [*FIRST, person("c", "ann@example.org")])
        with pytest.raises(SinkError) as caught:
            sink.commit()
    finally:
        sink.close()
    assert str(caught.value) == (
        "cannot add the unique constraint 'people_email_key' on people.email in PostgreSQL at "
        "127.0.0.1:5432: 'ann@example.org' is in more than one row; nothing was written "
        "(make the values distinct, or drop that constraint, and run it again)"
    )
    engine = create_engine(parse_database_url(postgres_db)[1])
    try:
        assert not inspect(engine).has_table("people")
    finally:
        engine.dispose()


def test_a_duplicate_in_a_sqlite_bulk_load_writes_nothing(tmp_path: Path) -> None:
    from datagen.sinks.sqlite_bulk import SQLiteBulkLoad

    url = f"sqlite:///{tmp_path}/bulk.db"
    sink = SQLiteBulkLoad(url)
    try:
        sink.open([PEOPLE], reset=True)
        sink.write(PEOPLE, FIRST)
        with pytest.raises(SinkError) as caught:
            sink.write(PEOPLE, [person("c", "cy@example.org"), person("d", "bob@example.org")])
    finally:
        sink.close()
    assert str(caught.value) == (
        f"cannot write 'people' records to SQLite at {tmp_path}/bulk.db: unique constraint "
        "'people_email_key' on people.email violated: a value is already in the table, or "
        "twice in this batch; nothing was written "
        "(make the values distinct, or drop that constraint, and run it again)"
    )
    assert not (tmp_path / "bulk.db").exists()  # made by the load, removed with it

    sink = SQLiteBulkLoad(url)
    try:
        sink.open([PEOPLE], reset=True)
        sink.write(PEOPLE, FIRST)
        sink.commit()  # counts the table, then commits
    finally:
        summary = sink.close()
    assert summary.written == {"people": 2} and read_rows(url, PEOPLE) == FIRST


# End to end: the line a command prints ------------------------------------------------


@pytest.mark.postgres
def test_publish_into_postgres_names_the_broken_constraint_and_no_foreign_key(
    run: Any, postgres_db: str, tmp_path: Path
) -> None:
    """On main the message added a hint about foreign keys, which are not involved."""
    for seed in (1, 2):
        args = ("-p", "user", "-q", 200, "--seed", seed, "--format", "jsonl", "--quiet")
        assert run("document", *args, "--to", tmp_path / f"seed{seed}").exit_code == 0
    first = run("publish", tmp_path / "seed1", "--to", postgres_db)
    assert first.exit_code == 0, first.output
    assert first.output.strip().endswith(": user: 200")
    execute(  # one user per role is kept, and the role made unique
        postgres_db,
        'DELETE FROM "user" a USING "user" b WHERE a.role = b.role AND a.id > b.id',
        'CREATE UNIQUE INDEX user_role_uq ON "user" (role)',
    )
    kept = count_rows(postgres_db, "user")

    second = run("publish", tmp_path / "seed2", "--to", postgres_db)
    assert second.exit_code == 1
    assert second.output.startswith(
        "Error: cannot write 'user' records to PostgreSQL at 127.0.0.1:5432: unique constraint "
        "'user_role_uq' on user.role violated: a value (not shown: the column is not "
        "declared unique) is already in the table, or twice in this batch; nothing is committed"
    )
    assert "foreign key" not in second.output and second.output.count("\n") == 1
    assert count_rows(postgres_db, "user") == kept


@pytest.mark.mariadb
def test_populate_into_mariadb_prints_the_rows_in_its_tables(run: Any, mariadb_db: str) -> None:
    """MariaDB commits each batch: the printed counts are the tables', read back."""
    from datagen.scenarios.populate import prepare

    root = Path(__file__).resolve().parents[2]
    scenario, scale = root / "scenarios" / "prod_like.yaml", 0.02
    args = ("populate", scenario, "--to", mariadb_db, "--seed", 7, "--scale", scale)
    result = run(*args, "--reset", "--workers", 2)
    assert result.exit_code == 0, result.output
    counts = prepare(scenario, seed=7, scale=scale).counts()
    assert {table: count_rows(mariadb_db, table) for table in counts} == counts
    populated = next(line for line in result.output.splitlines() if line.startswith("Populated"))
    printed = populated.rsplit("): ", 1)[1]
    assert printed == ", ".join(f"{table}: {count}" for table, count in counts.items())
    again = run(*args)  # the tables are there: every batch is an update, counted as such
    assert again.exit_code == 0, again.output
    line = next(line for line in again.output.splitlines() if line.startswith("Populated"))
    assert line.rsplit("): ", 1)[1] == printed


def test_constraint_names_fit_every_database() -> None:
    from datagen.sinks.constraints import unique_name

    assert unique_name("user", "email") == "user_email_key"
    long = unique_name("a_table_with_a_long_name_" * 2, "and_a_long_column_name_too")
    other = unique_name("a_table_with_a_long_name_" * 2, "and_a_long_column_name_two")
    assert len(long) <= 63 and long.endswith("_key") and long != other


def test_a_unique_field_that_is_not_a_column_is_a_schema_error() -> None:
    from sqlalchemy import MetaData

    from datagen.errors import SchemaError
    from datagen.sinks.dialects import SQLITE, build_table

    spec = TableSpec("people", "id", (Column("id", "text"),), unique=("email",))
    with pytest.raises(SchemaError, match="table 'people': unique 'email' is not a column"):
        build_table(spec, MetaData(), SQLITE, foreign_keys=False)
