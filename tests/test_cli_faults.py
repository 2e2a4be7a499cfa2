"""Smaller faults a new user hit (issue 13): names, hints, progress bars, full disks, secrets."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_usage_names_the_command_that_was_run(tmp_path):
    """Was: `datagen --help` printed `Usage: generate.py`."""
    script = Path(sys.executable).parent / "datagen"
    if not script.exists():
        pytest.skip(f"no console script at {script} (make .venv/.installed installs it)")
    for command, name in (
        ([str(script)], "datagen"),
        ([sys.executable, str(REPO / "generate.py")], "generate.py"),
    ):
        done = subprocess.run([*command, "--help"], capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0
        assert done.stdout.startswith(f"Usage: {name} [OPTIONS] COMMAND [ARGS]...")


def on_a_terminal(args: list[str], columns: int, cwd: Path) -> str:
    """Run ``generate.py ARGS`` on a pseudo-terminal ``columns`` wide; what it showed."""
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TQDM_MININTERVAL"] = "0"  # a bar drawn at every update: shown however fast the run
    process = subprocess.Popen(
        [sys.executable, str(REPO / "generate.py"), *args],
        stdin=secondary, stdout=secondary, stderr=secondary, cwd=cwd,
        env={**env, "PYTHONPATH": str(REPO)}, close_fds=True,
    )  # fmt: skip
    os.close(secondary)
    shown = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                data = os.read(main, 1 << 16)
            except OSError:  # the other side closed
                break
            if not data:
                break
            shown += data
        elif process.poll() is not None:
            break
    process.wait(timeout=60)
    os.close(main)
    assert process.returncode == 0, shown.decode(errors="replace")
    return shown.decode(errors="replace")


def test_a_terminal_of_0_columns_still_gets_a_bar(tmp_path):
    """Was: a terminal reporting 0 columns showed a one-character bar (nothing to read)."""
    args = ["document", "-p", "org", "-q", "40000", "--seed", "1", "--format", "jsonl"]
    shown = on_a_terminal([*args, "--workers", "1", "--to", "out"], 0, tmp_path)
    bars = [line for line in shown.split("\r") if "/40000 [" in line]
    assert bars and max(line.count("█") for line in bars) >= 20, shown[-2000:]


def test_the_publish_bar_knows_its_total(run, tmp_path):
    """Was: no total and no ETA; the manifests say how many records will be written."""
    args = ("-p", "org", "-q", "60000", "--seed", "1", "--format", "jsonl", "--quiet")
    assert run("document", *args, "--to", tmp_path / "out").exit_code == 0
    shown = on_a_terminal(["publish", "out", "--to", "sqlite:///x.db"], 100, tmp_path)
    assert re.search(r"\d+/60000 \[\d\d:\d\d<\d\d:\d\d", shown), shown[-2000:]


def test_make_clean_empties_output(tmp_path):
    """Was: `make clean` left output/scenarios and output/reports."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    output = tmp_path / "output"
    folders = ("documents/org", "journeys/x", "scenarios/dev/org", "reports")
    for folder in (*folders, ".datagen-partial-org-abcd1234"):
        (output / folder).mkdir(parents=True)
        (output / folder / "file").write_text("x")
    for name in ("demo.db", "demo.db-wal", "replay-0123.checkpoint.json", "all.zip", ".gitkeep"):
        (output / name).write_text("x")
    done = subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in output.iterdir()) == [".gitkeep"]


def test_the_readme_refs_example_links_to_the_previous_orgs():
    """Was: the --refs example had no --seed, so its users pointed at no org of the example."""
    readme = (REPO / "README.md").read_text()
    block = readme[readme.index("### `document`") :].split("```")[1]
    org = next(line for line in block.splitlines() if "-p org" in line)
    refs = next(line for line in block.splitlines() if "--refs" in line)
    seed = re.search(r"--seed (\d+)", org)
    quantity = re.search(r"-q (\d+)", org)
    assert seed and quantity
    assert f"--seed {seed.group(1)}" in refs and f"--refs org={quantity.group(1)}" in refs


def test_a_header_without_a_colon_is_not_echoed(run, tmp_path):
    """Was: Invalid value for '--header': 'Authorization Bearer S3cret' is not 'Name: value'."""
    for header in ("Authorization Bearer S3cret", "Bearer S3cret X: y"):
        result = run(
            "replay", tmp_path, "--to", "http://127.0.0.1:9/x", "--header", "A: ok",
            "--header", header,
        )  # fmt: skip
        assert result.exit_code == 2
        assert "S3cret" not in result.output and "Bearer" not in result.output.replace(
            "'Authorization: Bearer …'", ""
        )
        assert result.output.splitlines()[-1].startswith(
            "Error: Invalid value for '--header': the 2nd --header has "
        )


def test_sqlite_errors_do_not_mention_a_server(run, tmp_path):
    (tmp_path / "folder.db").mkdir()
    result = run("document", "-p", "org", "--to", f"sqlite:///{tmp_path / 'folder.db'}")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        f"Error: cannot connect to SQLite at {tmp_path / 'folder.db'}: unable to open database "
        "file (check that the path names a database file (not a folder) you may write)"
    )


LOCKED = (
    "(another process holds a lock on the database: wait for it to finish or stop it, then run "
    "the command again)"
)
HOLD = """
import sqlite3, sys
held = []
for path in sys.argv[1:]:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    held.append(connection)
print("held", flush=True)
sys.stdin.read()
"""


def test_a_locked_sqlite_database_says_another_process_holds_it(run, tmp_path):
    """Was: `database is locked (check that the path names a database file (not a folder) …)`."""
    fresh, wal = tmp_path / "fresh.db", tmp_path / "wal.db"
    with sqlite3.connect(fresh) as connection:  # rollback journal: locked when we connect
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    assert run("document", "-p", "org", "-q", 2, "--to", f"sqlite:///{wal}").exit_code == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(fresh), str(wal)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        args = ("document", "-p", "org", "-q", 2, "--seed", 3, "--quiet", "--to")
        at_connect = run(*args, f"sqlite:///{fresh}")
        at_write = run(*args, f"sqlite:///{wal}")
    finally:
        holder.communicate("")
    assert at_connect.exit_code == 1 and at_write.exit_code == 1
    assert at_connect.output.splitlines() == [
        f"Error: cannot connect to SQLite at {fresh}: database is locked {LOCKED}"
    ]
    assert at_write.output.splitlines() == [
        f"Error: cannot write 'org' records to SQLite at {wal}: database is locked; nothing is "
        f"committed (this batch was rolled back) {LOCKED}"
    ]


def test_a_full_disk_names_the_file(run, small_disk):
    """Was: `No space left on device`, without the path."""
    with small_disk("1m") as disk:
        args = ("-p", "org", "-q", "20000", "--seed", "7", "--format", "jsonl", "--quiet")
        result = run("document", *args, "--to", disk / "docs")
        assert result.exit_code == 1
        assert result.output.splitlines()[-1] == (
            f"Error: {disk / 'docs' / 'org' / 'org.jsonl'}: No space left on device "
            "(free some space and run the command again)"
        )
        assert sorted(p.name for p in (disk / "docs").iterdir()) == []  # no partial left


def test_sqlite_on_a_full_disk_says_where_the_written_rows_wait(run, small_disk):
    """The committed batches are kept; SQLite holds the last in its WAL until it has room."""
    with small_disk("3m") as disk:
        db = disk / "x.db"
        args = ("-p", "org", "-q", "20000", "--seed", "7", "--workers", "1", "--quiet")
        result = run("document", *args, "--to", f"sqlite:///{db}")
        assert result.exit_code == 1
        line = result.output.splitlines()[-1]
        assert re.fullmatch(
            re.escape(f"Error: cannot write 'org' records to SQLite at {db}: database or disk is ")
            + r"full; committed before this batch: org [\d,]+ rows \(\d+ batch(es)?\); this batch "
            + re.escape(
                f"was rolled back; the batches written before are kept, the last of them in "
                f"{db}-wal until there is room to fold them into {db} (free some space and run "
                "the command again (or remove the database file with its -wal and -shm files to "
                "start over))"
            ),
            line,
        ), line


def _filled(folder: Path) -> Path:
    """``folder`` on a small disk, filled up: nothing more can be written there."""
    with open(folder / "filler", "wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
        except OSError:
            pass
    return folder


WORKLOAD = """tables:
  media_storage:
    columns: {utc_date: date, site_id: text, bytes_stored: integer}
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
"""


def test_a_report_on_a_full_disk_is_not_said_written(run, small_disk, tmp_path, monkeypatch):
    """Was (replay): `Report: …/rep.json` in the summary, then `cannot write the report …`."""
    from datagen.journey_generator import generate_journeys
    from tests.probes.probe_files import write_probe

    monkeypatch.chdir(tmp_path)  # the replay's default checkpoint (if any) lands here
    generate_journeys(journey="job_lifecycle", quantity=3, seed=7, to=tmp_path, workers=1)
    workload = tmp_path / "w.yaml"
    workload.write_text(WORKLOAD, encoding="utf-8")
    probe = write_probe(tmp_path, "queries:\n  one:\n    sql: SELECT 1\n    repeat: 2\n")
    with small_disk("64k") as disk:
        report = _filled(disk) / "rep.json"
        runs = {
            "replay": ("replay", tmp_path / "job_lifecycle", "--speed", "max"),
            "load": ("load", workload, "--reset", "--speed", "max", "--duration", "10m"),
            "probe": ("probe", probe, "--scales", "0.05", "--workers", 1),
        }
        for name, args in runs.items():
            url = f"sqlite:///{tmp_path / name}.db"
            result = run(*args, "--to", url, "--report", report)
            assert result.exit_code == 1, (name, result.output)
            lines = result.output.splitlines()
            assert f"Report: {report}" not in lines, name
            assert lines[-1] == (
                f"Error: cannot write the report {report}: No space left on device"
            ), name
            assert not report.exists()
            summary = {"replay": "Replayed into ", "load": "Loaded: ", "probe": "Scale 0.05"}
            assert any(line.startswith(summary[name]) for line in lines), (name, lines)
