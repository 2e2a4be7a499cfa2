"""Bad workloads and bad options: one line naming file, line and key (or the option), exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from datagen.workloads.loader import load_workload
from datagen.workloads.syntax import parse_duration, parse_rate

BASE = """
tables:
  media_storage:
    columns: {utc_date: date, site_id: text, bytes_stored: integer, max_bytes_stored: integer}
    key: [utc_date, site_id]
keys:
  site_id: {template: "mlw_{n:03d}", count: 5}
  utc_date: {date: 2017-11-29}
writers:
  bytes:
    service: media_library
    batch: {every: 2m, rows: 3}
    upsert:
      table: media_storage
      values:
        bytes_stored: {integer: [0, 100]}
      merge:
        max_bytes_stored: {max: bytes_stored}
"""


def test_the_base_workload_is_valid(workload_file) -> None:
    workload = load_workload(workload_file(BASE))
    writer = workload.writers["bytes"]
    assert writer.upsert is not None
    assert [(m.column, m.rule, m.source) for m in writer.upsert.merge] == [
        ("max_bytes_stored", "max", "bytes_stored"),
        ("bytes_stored", "replace", "bytes_stored"),
    ]
    assert list(writer.values) == ["utc_date", "site_id", "bytes_stored"]


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            "        max_bytes_stored: {max: bytes_stored}",
            "        max_bytes: {max: bytes_stored}",
            "w.yaml:17: writers.bytes.upsert.merge.max_bytes: table 'media_storage' has no "
            "column 'max_bytes'",
        ),
        (
            "        max_bytes_stored: {max: bytes_stored}",
            "        max_bytes_stored: {max: bytes}",
            "w.yaml:17: writers.bytes.upsert.merge.max_bytes_stored: max of 'bytes': the write "
            "has no value 'bytes' (name one of: bytes_stored)",
        ),
        (
            "        max_bytes_stored: {max: bytes_stored}",
            "        max_bytes_stored: greatest",
            "w.yaml:17: writers.bytes.upsert.merge.max_bytes_stored: 'greatest' is not one of "
            "['replace', 'max', 'min', 'sum', 'keep']",
        ),
        (
            "    batch: {every: 2m, rows: 3}",
            "    stream: {rate: 0/s}",
            "w.yaml:11: writers.bytes.stream.rate: the rate must be positive, got '0/s'",
        ),
        (
            "    batch: {every: 2m, rows: 3}",
            "    stream: {rate: -5}",
            "w.yaml:11: writers.bytes.stream.rate: the rate must be positive, got -5",
        ),
        (
            "    batch: {every: 2m, rows: 3}",
            "    stream: {rate: fast}",
            "w.yaml:11: writers.bytes.stream.rate: 'fast' is not a rate such as 50/s",
        ),
        (
            "    batch: {every: 2m, rows: 3}",
            "    batch: {every: 0s, rows: 3}",
            "w.yaml:11: writers.bytes.batch.every: every must be positive",
        ),
        (
            "    batch: {every: 2m, rows: 3}",
            "    batch: {every: soon, rows: 3}",
            "w.yaml:11: writers.bytes.batch.every: 'soon' is not a duration",
        ),
        (
            "    batch: {every: 2m, rows: 3}",
            "    batch: {rows: 3, spread: 30s}",
            "w.yaml:11: writers.bytes.batch.spread: rows spread over time need "
            "'transaction: row'",
        ),
        (
            "    batch: {every: 2m, rows: 3}",
            "    batch: {rows: {type: uniform, low: 5, high: 1}}",
            "w.yaml:11: writers.bytes.batch.rows: uniform needs low <= high",
        ),
        (
            "    batch: {every: 2m, rows: 3}",
            "    batch: {rows: {type: lognormal, mu: 1}}",
            "w.yaml:11: writers.bytes.batch.rows: 'sigma' is a required property",
        ),
        (
            "      table: media_storage",
            "      table: media",
            "w.yaml:13: writers.bytes.upsert.table: no table 'media' under tables: "
            "(known: media_storage)",
        ),
        (
            "        bytes_stored: {integer: [0, 100]}",
            "        bytes_stored: {key: sites}",
            "w.yaml:15: writers.bytes.upsert.values.bytes_stored: no key pool 'sites' "
            "(keys: site_id, utc_date)",
        ),
        (
            "        bytes_stored: {integer: [0, 100]}",
            "        bytes_stored: {integer: [100, 0]}",
            "w.yaml:15: writers.bytes.upsert.values.bytes_stored: integer needs [low, high] "
            "with low <= high",
        ),
        (
            "        bytes_stored: {integer: [0, 100]}",
            "        bytes_stored: {integr: [0, 100]}",
            "w.yaml:15: writers.bytes.upsert.values.bytes_stored.integr: unknown key",
        ),
        (
            "        bytes_stored: {integer: [0, 100]}",
            "        bytes_stored: {integer: [0, 100]}\n        stored_at: {integer: [0, 1]}",
            "w.yaml:16: writers.bytes.upsert.values.stored_at: table 'media_storage' has no "
            "column 'stored_at' (an upsert's value that is not a column must be a merge "
            "rule's source)",
        ),
        (
            "    key: [utc_date, site_id]",
            "    key: [day, site_id]",
            "w.yaml:4: tables.media_storage.key: key column 'day' is not one of the columns",
        ),
        (
            '  site_id: {template: "mlw_{n:03d}", count: 5}',
            '  site_id: {template: "mlw_{m}", count: 5}',
            "w.yaml:6: keys.site_id: template 'mlw_{m}' cannot be formatted with n",
        ),
        (
            '  site_id: {template: "mlw_{n:03d}", count: 5}',
            '  site_id: {template: "mlw_{n:03d}", count: 0}',
            "w.yaml:6: keys.site_id.count: 0 is less than the minimum of 1",
        ),
        (
            "    service: media_library",
            "    service: media_library\n    speed: 3",
            "w.yaml:11: writers.bytes.speed: unknown key; expected one of:",
        ),
        (
            "    upsert:",
            "    connections: 0\n    upsert:",
            "w.yaml:12: writers.bytes.connections: 0 is less than the minimum of 1",
        ),
        (
            "    upsert:",
            "    affinity: sticky\n    upsert:",
            "w.yaml:12: writers.bytes.affinity: 'sticky' is not one of ['key', 'none']",
        ),
        (
            "  media_storage:\n",
            "  media_storage:\n  - oops\n",
            "w.yaml:4: invalid YAML: mapping values are not allowed here",
        ),
    ],
)
def test_errors_name_file_line_and_key(run, workload_file, tmp_path, old, new, message) -> None:
    assert old in BASE
    path = workload_file(BASE.replace(old, new, 1))
    database = tmp_path / "never.db"
    result = run("load", path, "--to", f"sqlite:///{database}")
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"Error: {tmp_path / message}"), last
    assert "Traceback" not in result.output
    assert not database.exists()  # nothing written, not even an empty file


def test_a_writer_without_an_action_or_a_schedule(run, workload_file, tmp_path) -> None:
    path = workload_file(BASE.replace("    batch: {every: 2m, rows: 3}\n", ""))
    result = run("load", path, "--dry-run")
    assert result.exit_code == 2
    assert f"Error: {path}:9: writers.bytes: a writer needs one of batch: or stream:" in (
        result.output
    )


def test_a_key_pool_smaller_than_a_run(run, workload_file, tmp_path) -> None:
    path = workload_file(BASE.replace("rows: 3}", "rows: {type: uniform, low: 4, high: 9}}"))
    database = tmp_path / "never.db"
    result = run("load", path, "--to", f"sqlite:///{database}", "--duration", "1h")
    assert result.exit_code == 2
    assert (
        result.output.strip()
        .splitlines()[-1]
        .startswith(f"Error: {path}:11: writers.bytes.batch: a run writes ")
    )
    assert "rows with distinct keys, but the key pools (site_id) hold 5 combinations" in (
        result.output
    )
    assert not database.exists()


def test_a_missing_file_and_a_file_that_is_not_a_mapping(run, tmp_path) -> None:
    result = run("load", tmp_path / "nope.yaml", "--dry-run")
    assert result.exit_code == 2
    assert f"Error: no workload file '{tmp_path / 'nope.yaml'}'" in result.output
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    result = run("load", listed, "--dry-run")
    assert result.exit_code == 2
    assert f"Error: {listed}: a workload file must be a mapping" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--services", "billing"], "Error: --services: no service or writer 'billing' in"),
        (["--services", ","], "Error: Invalid value for '--services': name at least one"),
        (
            ["--runs_per_hour", "0"],
            "Error: Invalid value for '--runs_per_hour' / '--runs-per-hour': '0' is out of range: "
            "give a number above 0 and at most 3,600, e.g. 4",
        ),
        (
            ["--runs_per_hour", "nan"],
            "Error: Invalid value for '--runs_per_hour' / '--runs-per-hour': 'nan' is not",
        ),
        (["--seed", "18446744073709551616"], "Error: Invalid value for '--seed': '1844674407370"),
        (["--retries", "1000000"], "Error: Invalid value for '--retries': '1000000' is out of"),
        (
            ["--speed", "0"],
            "Error: Invalid value for '--speed': '0' is out of range: give a number",
        ),
        (["--duration", "forever"], "Error: Invalid value for '--duration': 'forever' is not"),
    ],
)
def test_bad_options(run, workload_file, tmp_path, args, message) -> None:
    database = tmp_path / "never.db"
    result = run("load", workload_file(BASE), "--to", f"sqlite:///{database}", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not database.exists()


def test_an_unknown_service_lists_the_known_ones(run, workload_file) -> None:
    result = run("load", workload_file(BASE), "--dry-run", "--services", "media_library,bill")
    assert result.exit_code == 2
    assert "(services: media_library; writers: bytes)" in result.output


def test_an_unreachable_database_is_one_line_exit_1(run, workload_file) -> None:
    result = run("load", workload_file(BASE), "--to", "postgresql://u:s3cret@127.0.0.1:9/x")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: cannot connect to PostgreSQL at 127.0.0.1:9: connection refused (check that "
        "the server runs and the URL's host, port, user and database)"
    ]


def test_sql_without_this_databases_statement(run, workload_file, tmp_path) -> None:
    path = workload_file("""
        tables:
          t: {columns: {k: text, n: integer}, key: k}
        keys:
          k: {template: "k{n}", count: 3}
        writers:
          w:
            batch: {every: 1m, rows: 1}
            sql:
              - postgresql: "UPDATE t SET n = n + 1 WHERE k = :k"
            params: {k: {key: k}}
        """)
    database = tmp_path / "never.db"
    result = run("load", path, "--to", f"sqlite:///{database}")
    assert result.exit_code == 2
    assert f"Error: {path}:8: writers.w.sql: writer 'w' has no SQL for sqlite" in result.output
    assert not database.exists()


def test_sql_parameter_without_a_generator(run, workload_file) -> None:
    path = workload_file("""
        tables:
          t: {columns: {k: text, n: integer}, key: k}
        writers:
          w:
            batch: {every: 1m, rows: 1}
            sql: "UPDATE t SET n = :n WHERE k = ':not_a_parameter'"
        """)
    result = run("load", path, "--dry-run")
    assert result.exit_code == 2
    assert f"Error: {path}:6: writers.w.sql: parameter :n has no generator under params:" in (
        result.output
    )


def test_durations_and_rates() -> None:
    assert parse_duration("1h30m") == 5400
    assert parse_duration(90) == 90
    assert parse_duration("soon") is None
    assert parse_rate("4000/m") == pytest.approx(4000 / 60)
    assert parse_rate("50/s") == 50
    assert parse_rate(2.5) == 2.5
    assert parse_rate("50 per second") is None


def test_the_shipped_workload_is_valid() -> None:
    workload = load_workload(Path(__file__).resolve().parents[2] / "workloads" / "usage.yaml")
    assert set(workload.writers) >= {"media_bytes_stored", "media_count", "compaction"}
