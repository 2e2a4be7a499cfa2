"""The sink basics: ``redact`` never raises nor leaks, TableSpecs are hashable values."""

from __future__ import annotations

import string
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datagen.errors import InputError
from datagen.sinks.base import Column, References, TableSpec
from datagen.sinks.urls import redact
from datagen.sinks.dialects import parse_database_url
from datagen.tables import table_for


@pytest.mark.parametrize(
    "url, expected",
    [
        ("postgresql://u:s3cret@db.example:5432/app", "postgresql://u:***@db.example:5432/app"),
        ("postgresql://u:s3cret@[::1]:5432/app", "postgresql://u:***@[::1]:5432/app"),
        ("mysql+pymysql://root@127.0.0.1/test", "mysql+pymysql://root@127.0.0.1/test"),
        ("azure://staging/runs?sig=s3cret", "azure://staging/runs?***"),
        ("sqlite:////tmp/me@home.db", "sqlite:////tmp/me@home.db"),
        ("output/documents", "output/documents"),
        # malformed: an unclosed IPv6 bracket makes urlsplit raise
        ("postgresql://u:s3cret@[::1/app", "postgresql://***@[::1/app"),
        ("postgresql://u:s3cret@[::1/app?sslkey=s3cret#x", "postgresql://***@[::1/app?***"),
        # a password with "/", "?" or "#" (not percent-encoded) cuts the host short
        ("postgresql://u:s3/cret@db.example/app", "postgresql://***@db.example/app"),
        ("postgresql://u:s3?cret@db.example/app", "postgresql://***@db.example/app"),
        ("postgresql://u:s3#cret@db.example/app", "postgresql://***@db.example/app"),
    ],
)
def test_redact_hides_passwords_and_queries(url: str, expected: str) -> None:
    assert redact(url) == expected


@given(
    scheme=st.sampled_from(["postgresql", "mysql+pymysql", "mariadb", "https"]),
    password=st.text(string.ascii_letters + string.digits + "/?#@:[]!$&'()*+,;=%-._~", max_size=12),
    host=st.sampled_from(["db.example", "127.0.0.1", "[::1]", "[::1", "db.example:99999"]),
    tail=st.sampled_from(["", "/app", "/app?sslmode=require", "/a@b", "#x"]),
)
def test_redact_never_raises_nor_shows_the_password(
    scheme: str, password: str, host: str, tail: str
) -> None:
    url = f"{scheme}://user:S3CR{password}@{host}{tail}"
    assert "S3CR" not in redact(url)


def test_a_malformed_database_url_is_an_input_error_without_its_password() -> None:
    with pytest.raises(InputError) as caught:
        parse_database_url("postgresql://u:s3cret@[::1/app")
    assert "malformed database URL" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_publish_to_a_malformed_url_is_a_usage_error(run, tmp_path) -> None:
    result = run("document", "-p", "org", "-q", "3", "--format", "jsonl", "--to", tmp_path)
    assert result.exit_code == 0, result.output
    result = run("publish", tmp_path, "--to", "postgresql://u:s3cret@[::1/app")
    assert result.exit_code == 2
    assert "s3cret" not in result.output
    assert result.output.splitlines()[-1] == (
        "Error: malformed database URL 'postgresql://***@[::1/app' "
        "(use postgresql://USER:PASSWORD@HOST:5432/DATABASE)"
    )


def test_table_specs_are_hashable_values() -> None:
    org, user = table_for("org"), table_for("user")
    assert {org: 1, user: 2}[table_for("user")] == 2  # usable as a key
    assert len({org, user, table_for("org")}) == 2
    a = TableSpec("t", "id", (Column("id", "text"),), {"a": ("x", "id"), "b": ("y", "id")})
    b = TableSpec("t", "id", [Column("id", "text")], {"b": ("y", "id"), "a": ("x", "id")})
    assert a == b and hash(a) == hash(b)  # references compare as a mapping; columns a tuple
    assert a.foreign_keys == {"a": ("x", "id"), "b": ("y", "id")}
    assert list(a.foreign_keys) == ["a", "b"]  # the given order is kept
    assert hash(replace(user, foreign_keys={})) == hash(replace(user, foreign_keys=References()))


def test_table_spec_references_are_read_only() -> None:
    user = table_for("user")
    assert user.foreign_keys["org_id"] == ("org", "id")
    with pytest.raises(TypeError):
        user.foreign_keys["org_id"] = ("nowhere", "id")  # type: ignore[index]
    assert table_for("user").foreign_keys == {"org_id": ("org", "id")}
