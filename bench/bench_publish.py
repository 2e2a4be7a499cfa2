"""Publish speed: generated runs into databases and blob containers, against the drivers.

Data, generated once before anything is timed: ``--rows`` ``org`` documents
as JSONL (default 200,000) for the databases, and ``--blobs`` of them as one
JSON file each (default 2,000) for the blob container. The same sizes come
from DATAGEN_BENCH_PUBLISH_ROWS, DATAGEN_BENCH_PUBLISH_BLOBS and
DATAGEN_BENCH_PUBLISH_REPEAT (for ``make bench``).

Ours: ``datagen.publish.publish(RUN, to=URL, reset=True)``, the call behind
``generate.py publish RUN --to URL --reset``, timed in a fresh process once
its modules are imported: reading and parsing the JSONL, encoding, connecting,
creating the table, upserting, committing.
Baselines, measured in the same run with the rows already parsed and encoded
in memory, into an equivalent table (same columns, types and primary key):

- PostgreSQL: psycopg ``COPY`` (no upsert);
- MariaDB: PyMySQL ``executemany`` of one INSERT, which it sends as
  multi-row INSERTs, in one transaction;
- SQLite: sqlite3 ``executemany`` in one transaction;
- Azurite: azure-storage-blob ``upload_blob`` of the same files from as many
  threads as our writer uses.

Each figure is measured ``--repeat`` times (default 2; baseline and ours
alternating, each on an empty table); the best is printed, every run below
it. PostgreSQL and MariaDB get a scratch database ``datagen_bench_<random>``,
dropped afterwards; a server that can't be reached (or Azurite not
installed) is reported as skipped.

    python -m bench.bench_publish --rows 2000 --blobs 200 --repeat 1   # smoke test
    python -m bench.bench_publish --only postgresql,sqlite
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson  # noqa: E402

from bench.common import ROOT, Skipped, report, scratch_postgres, time_call  # noqa: E402
from datagen.generator import generate_documents  # noqa: E402
from datagen.sinks.azure import AzureBlobWriter  # noqa: E402
from datagen.sinks.azure_upload import folder_files  # noqa: E402
from datagen.sinks.base import TableSpec  # noqa: E402
from datagen.sinks.urls import redact  # noqa: E402
from datagen.sinks.reading import count_rows  # noqa: E402
from datagen.tables import table_for  # noqa: E402

PROVIDER = "org"
ROWS = int(os.environ.get("DATAGEN_BENCH_PUBLISH_ROWS", 200_000))
BLOBS = int(os.environ.get("DATAGEN_BENCH_PUBLISH_BLOBS", 2_000))
REPEAT = int(os.environ.get("DATAGEN_BENCH_PUBLISH_REPEAT", 2))
MARIADB_ADMIN = os.environ.get("DATAGEN_BENCH_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
AZURITE_BIN = ROOT / "node_modules" / ".bin" / "azurite-blob"
AZURITE_KEY = (  # the emulator's well-known key (public, documented by Microsoft)
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
TARGETS = ("postgresql", "mariadb", "sqlite", "azurite")
GOAL = ">= 0.7"
UTC = timezone.utc

Record = dict[str, Any]


# Measuring -----------------------------------------------------------------------------


@dataclass
class Figures:
    """Rates of ours and the baseline, one per repetition."""

    ours: list[float]
    baseline: list[float]


def measure(
    count: int,
    repeat: int,
    baseline: Callable[[], None],
    ours: Callable[[], float],
    clear: Callable[[], None] = lambda: None,
) -> Figures:
    """Rates of ``baseline`` and ``ours``, each started on an empty target (``clear``)."""
    figures = Figures([], [])
    for _ in range(repeat):
        clear()
        figures.baseline.append(count / time_call(baseline))
        clear()
        figures.ours.append(count / ours())
    return figures


def runs(rates: list[float]) -> str:
    return "runs: " + " / ".join(f"{rate:,.0f}" for rate in rates)


def show(target: str, what: str, base_label: str, unit: str, figures: Figures) -> None:
    baseline, ours = max(figures.baseline), max(figures.ours)
    report(f"[{target}] baseline: {base_label}", baseline, unit)
    print(f"{'':<8}{runs(figures.baseline)}")
    report(f"[{target}] {what} ÷ baseline", ours, unit, baseline=baseline, goal=GOAL)
    print(f"{'':<8}{runs(figures.ours)}", flush=True)


PUBLISH = """
import sys, time
from datagen.publish import publish
import datagen.sinks.azure, datagen.sinks.backends  # imported before the clock starts
start = time.perf_counter()
summary = publish(sys.argv[1], to=sys.argv[2], reset=True)
print(time.perf_counter() - start, sum(summary.written.values()))
"""


def publish_call(
    run: Path, url: str, expected: int, env: dict[str, str] | None = None
) -> Callable[[], float]:
    """Seconds of ``publish(run, to=url, reset=True)`` in a fresh process, imports excluded.

    That call is ``generate.py publish RUN --to URL --reset``; the process is
    fresh so the bench's own data (parsed records, prepared rows) is not in
    its memory. It must report ``expected`` rows (or blobs) written.
    """

    def timed() -> float:
        done = subprocess.run(
            [sys.executable, "-c", PUBLISH, str(run), url],
            check=True,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            text=True,
        )
        seconds, written = done.stdout.split()
        if int(written) != expected:
            raise SystemExit(f"publish to {redact(url)} wrote {written}, not {expected}")
        return float(seconds)

    return timed


# The data ------------------------------------------------------------------------------


def read_records(run: Path) -> list[Record]:
    with open(run / f"{PROVIDER}.jsonl", "rb") as handle:
        return [orjson.loads(line) for line in handle]


def json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def prepared_rows(
    records: list[Record], spec: TableSpec, timestamp: Callable[[str], Any]
) -> list[tuple[Any, ...]]:
    """The records as driver-ready tuples in column order (outside the timed part)."""
    encoders: list[Callable[[Any], Any] | None] = []
    for column in spec.columns:
        if column.type == "json":
            encoders.append(json_text)
        elif column.type == "timestamp":
            encoders.append(lambda v: None if v is None else timestamp(v))
        else:
            encoders.append(None)
    names = [column.name for column in spec.columns]
    pairs = list(zip(names, encoders))
    return [
        tuple(record.get(n) if e is None else e(record.get(n)) for n, e in pairs)
        for record in records
    ]


def create_sql(spec: TableSpec, table: str, types: dict[str, str], key_type: str) -> str:
    columns = [
        f"{column.name} {key_type if column.name == spec.key else types[column.type]}"
        + (" PRIMARY KEY" if column.name == spec.key else "")
        for column in spec.columns
    ]
    return f"CREATE TABLE {table} ({', '.join(columns)})"


# PostgreSQL ----------------------------------------------------------------------------

PG_TYPES = {
    "text": "text",
    "integer": "bigint",
    "float": "double precision",
    "boolean": "boolean",
    "timestamp": "timestamptz",
    "date": "date",
    "json": "jsonb",
}


def postgres_options(url: str) -> dict[str, Any]:
    from datagen.sinks.dialects import parse_database_url

    _, parsed = parse_database_url(url)
    return dict(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        dbname=parsed.database,
    )


def postgres_drop(url: str, *tables: str) -> Callable[[], None]:
    import psycopg

    def drop() -> None:
        with psycopg.connect(**postgres_options(url), autocommit=True) as conn:
            for table in tables:
                conn.execute(f'DROP TABLE IF EXISTS "{table}"')

    return drop


def postgres_copy(url: str, spec: TableSpec, rows: list[tuple[Any, ...]]) -> Callable[[], None]:
    import psycopg

    columns = ", ".join(column.name for column in spec.columns)

    def baseline() -> None:
        with psycopg.connect(**postgres_options(url)) as conn:
            conn.execute(create_sql(spec, "baseline", PG_TYPES, "text"))
            with conn.cursor() as cursor:
                with cursor.copy(f"COPY baseline ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)

    return baseline


# MariaDB -------------------------------------------------------------------------------

MARIADB_TYPES = {
    "text": "TEXT",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "DATETIME(6)",
    "date": "DATE",
    "json": "JSON",
}


def mariadb_options(url: str) -> dict[str, Any]:
    from datagen.sinks.dialects import parse_database_url

    _, parsed = parse_database_url(url)
    return dict(
        host=parsed.host,
        port=parsed.port or 3306,
        user=parsed.username,
        password=parsed.password or "",
        database=parsed.database,
        charset="utf8mb4",
    )


@contextmanager
def mariadb_database() -> Iterator[str]:
    """A new MariaDB database ``datagen_bench_<random>`` (dropped after)."""
    import pymysql

    options = mariadb_options(MARIADB_ADMIN)
    name = f"datagen_bench_{secrets.token_hex(4)}"
    try:
        conn = pymysql.connect(**options, connect_timeout=5, autocommit=True)
    except pymysql.Error as error:
        where = f"{options['host']}:{options['port']}"
        raise Skipped(f"MariaDB at {where}: {first_line(error)}") from None
    with conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    try:
        yield with_database(MARIADB_ADMIN, name)
    finally:
        with pymysql.connect(**options, autocommit=True) as conn, conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


def mariadb_drop(url: str, *tables: str) -> Callable[[], None]:
    import pymysql

    def drop() -> None:
        with pymysql.connect(**mariadb_options(url), autocommit=True) as conn:
            with conn.cursor() as cursor:
                for table in tables:
                    cursor.execute(f"DROP TABLE IF EXISTS `{table}`")

    return drop


def mariadb_insert(url: str, spec: TableSpec, rows: list[tuple[Any, ...]]) -> Callable[[], None]:
    import pymysql

    options = mariadb_options(url)
    columns = ", ".join(f"`{column.name}`" for column in spec.columns)
    values = ", ".join(["%s"] * len(spec.columns))
    ddl = create_sql(spec, "baseline", MARIADB_TYPES, "VARCHAR(64)")
    ddl += " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin"

    def baseline() -> None:
        with pymysql.connect(**options) as conn:
            with conn.cursor() as cursor:
                cursor.execute(ddl)
                cursor.executemany(f"INSERT INTO baseline ({columns}) VALUES ({values})", rows)
            conn.commit()

    return baseline


# SQLite --------------------------------------------------------------------------------

SQLITE_TYPES = {
    "text": "TEXT",
    "integer": "BIGINT",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "timestamp": "DATETIME",
    "date": "DATE",
    "json": "JSON TEXT",
}


def sqlite_executemany(
    path: Path, spec: TableSpec, rows: list[tuple[Any, ...]]
) -> Callable[[], None]:
    columns = ", ".join(column.name for column in spec.columns)
    values = ", ".join(["?"] * len(spec.columns))

    def baseline() -> None:
        conn = sqlite3.connect(path)
        try:
            conn.execute(create_sql(spec, "baseline", SQLITE_TYPES, "TEXT"))
            with conn:  # one transaction
                conn.executemany(f"INSERT INTO baseline ({columns}) VALUES ({values})", rows)
        finally:
            conn.close()

    return baseline


def sqlite_timestamp(value: str) -> str:
    stamp = datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
    return stamp.isoformat(sep=" ", timespec="microseconds")


def naive_utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)


# Azurite -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def azurite(folder: Path) -> Iterator[str]:
    """A fresh Azurite blob service; yields its connection string. Stopped by its PID."""
    if not AZURITE_BIN.exists():
        raise Skipped(f"Azurite is not installed ({AZURITE_BIN} is missing): run npm install")
    port = free_port()
    command = [str(AZURITE_BIN), "--blobHost", "127.0.0.1", "--blobPort", str(port)]
    command += ["--location", str(folder), "--skipApiVersionCheck", "--silent", "--loose"]
    try:
        process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
    except OSError as error:
        raise Skipped(f"cannot start Azurite: {error}")
    try:
        deadline = time.monotonic() + 20
        while not accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise Skipped(f"Azurite did not start on 127.0.0.1:{port}")
            time.sleep(0.1)
        endpoint = f"http://127.0.0.1:{port}/devstoreaccount1"
        yield (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={endpoint};"
        )
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:  # it waits for idle keep-alive clients
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def plain_uploads(connection: str, container: str, run: Path) -> Callable[[], None]:
    from azure.storage.blob import ContainerClient

    files = list(folder_files(run))
    attempt = iter(range(1_000_000))

    def baseline() -> None:
        prefix = f"baseline-{next(attempt)}"
        client = ContainerClient.from_connection_string(connection, container)

        def upload(item: tuple[Path, str]) -> None:
            path, name = item
            client.upload_blob(f"{prefix}/{name}", path.read_bytes(), overwrite=True)

        with client, ThreadPoolExecutor(AzureBlobWriter.THREADS) as pool:
            list(pool.map(upload, files))

    return baseline


# The targets ---------------------------------------------------------------------------


def with_database(admin: str, name: str) -> str:
    from datagen.sinks.dialects import parse_database_url

    _, url = parse_database_url(admin)
    return url.set(database=name).render_as_string(hide_password=False)


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def check_rows(url: str, expected: int) -> None:
    found = count_rows(url, PROVIDER)
    if found != expected:
        raise SystemExit(f"publish wrote {found} rows to {url.split(':')[0]}, not {expected}")


def bench_postgres(run: Path, records: list[Record], spec: TableSpec, repeat: int) -> None:
    with scratch_postgres() as url:
        rows = prepared_rows(records, spec, datetime.fromisoformat)
        baseline = postgres_copy(url, spec, rows)
        clear = postgres_drop(url, "baseline", spec.name)
        figures = measure(
            len(records), repeat, baseline, publish_call(run, url, len(records)), clear
        )
        check_rows(url, len(records))
    show("PostgreSQL", "publish JSONL", "psycopg COPY, rows in memory", "rows/s", figures)


def bench_mariadb(run: Path, records: list[Record], spec: TableSpec, repeat: int) -> None:
    with mariadb_database() as url:
        rows = prepared_rows(records, spec, naive_utc)
        baseline = mariadb_insert(url, spec, rows)
        clear = mariadb_drop(url, "baseline", spec.name)
        figures = measure(
            len(records), repeat, baseline, publish_call(run, url, len(records)), clear
        )
        check_rows(url, len(records))
    show("MariaDB", "publish JSONL", "PyMySQL executemany, rows in memory", "rows/s", figures)


def bench_sqlite(
    run: Path, records: list[Record], spec: TableSpec, repeat: int, scratch: Path
) -> None:
    rows = prepared_rows(records, spec, sqlite_timestamp)
    ours, theirs = scratch / "ours.db", scratch / "baseline.db"
    url = f"sqlite:///{ours}"

    def clear() -> None:
        ours.unlink(missing_ok=True)
        theirs.unlink(missing_ok=True)

    baseline = sqlite_executemany(theirs, spec, rows)
    figures = measure(len(records), repeat, baseline, publish_call(run, url, len(records)), clear)
    check_rows(url, len(records))
    show("SQLite", "publish JSONL", "sqlite3 executemany, rows in memory", "rows/s", figures)


def bench_azurite(files_run: Path, repeat: int, scratch: Path) -> None:
    from azure.storage.blob import ContainerClient

    count = len(list(folder_files(files_run)))
    with azurite(scratch / "azurite") as connection:
        container = "bench"
        with ContainerClient.from_connection_string(connection, container) as client:
            client.create_container()
        attempt = iter(range(1_000_000))

        def ours() -> float:
            url = f"azure://{container}/ours-{next(attempt)}"
            env = {"AZURE_STORAGE_CONNECTION_STRING": connection}
            return publish_call(files_run, url, count, env)()

        figures = measure(count, repeat, plain_uploads(connection, container, files_run), ours)
    label = f"upload_blob × {AzureBlobWriter.THREADS} threads"
    show("Azurite", f"publish {count} files", label, "blobs/s", figures)


def main(argv: Sequence[str] = ()) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=ROWS, help="org documents (JSONL)")
    parser.add_argument("--blobs", type=int, default=BLOBS, help="org documents as files")
    parser.add_argument("--repeat", type=int, default=REPEAT, help="measurements per figure")
    parser.add_argument("--only", default=",".join(TARGETS), help="comma-separated targets")
    args = parser.parse_args(list(argv))
    only = {name.strip() for name in args.only.split(",")}
    if only - set(TARGETS):
        parser.error(f"--only takes {', '.join(TARGETS)}")
    print(f"== publish ({args.rows:,} {PROVIDER} rows, {args.blobs:,} files) ==", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    try:
        spec = table_for(PROVIDER)
        generate_documents(
            provider=PROVIDER, quantity=args.rows, seed=1, to=scratch / "jsonl", fmt="jsonl"
        )
        run = scratch / "jsonl" / PROVIDER
        records = read_records(run)
        benches: dict[str, Callable[[], None]] = {
            "postgresql": lambda: bench_postgres(run, records, spec, args.repeat),
            "mariadb": lambda: bench_mariadb(run, records, spec, args.repeat),
            "sqlite": lambda: bench_sqlite(run, records, spec, args.repeat, scratch),
            "azurite": lambda: bench_azurite(files_run(scratch, args.blobs), args.repeat, scratch),
        }
        for name in TARGETS:
            if name not in only:
                continue
            try:
                benches[name]()
            except Skipped as skipped:
                print(f"[{name}] skipped: {skipped}", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def files_run(scratch: Path, count: int) -> Path:
    generate_documents(provider=PROVIDER, quantity=count, seed=1, to=scratch / "json", fmt="json")
    return scratch / "json" / PROVIDER


if __name__ == "__main__":
    main(sys.argv[1:])
