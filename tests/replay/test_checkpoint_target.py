"""A checkpoint belongs to its journeys and its target; stopping says only what --quiet allows.

Issue 13: a checkpoint of a replay into A.db resumed into an empty B.db (exit
0, B missing tables and rows), and a complete replay into any target deleted
the checkpoint of an interrupted replay of the same journeys into another.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from datagen.replay import replay
from datagen.replay.checkpoint import default_checkpoint, journeys_digest
from datagen.replay.engine import Replayer
from datagen.replay.api import target_identity
from datagen.replay.source import load_journeys
from tests.replay.conftest import Recorder

REPO = Path(__file__).resolve().parents[2]


def interrupted(journeys: Path, to: str, *, after: int = 15, **options: object):
    """Replay into ``to`` and stop it (as Ctrl-C does) once ``after`` steps are written."""
    stop = threading.Event()

    @contextmanager
    def monitor(replayer: Replayer) -> Iterator[None]:
        def watch() -> None:
            while replayer.report.steps_written < after and not stop.is_set():
                time.sleep(0.001)
            stop.set()

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        yield
        stop.set()
        thread.join()

    report = replay(journeys, to=to, speed=200, stop=stop, monitor=monitor, **options)
    assert report.interrupted and report.checkpoint
    return report


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute(f"select count(*) from {table}").fetchone()[0]


def test_a_checkpoint_is_refused_for_another_target(
    run, journeys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = tmp_path / "A.db", tmp_path / "B.db"
    report = interrupted(journeys, f"sqlite:///{a}")
    checkpoint = Path(report.checkpoint)
    assert json.loads(checkpoint.read_text())["target"] == f"sqlite:///{a}"
    result = run("replay", journeys, "--to", f"sqlite:///{b}", "--resume", checkpoint)
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: {checkpoint}: this checkpoint is of a replay into sqlite:///{a}, not "
        f"sqlite:///{b} (resume into the same --to as the interrupted replay, or replay into "
        "this target without --resume)"
    )
    assert not b.exists()
    # The same file named from another folder is the same target.
    monkeypatch.chdir(tmp_path)
    result = run(
        "replay", journeys, "--to", "sqlite:///A.db", "--resume", checkpoint, "--speed", "max"
    )
    assert result.exit_code == 0, result.output
    assert "done before" in result.output and not checkpoint.exists()
    whole = tmp_path / "C.db"  # the same journeys, uninterrupted
    assert run("replay", journeys, "--to", f"sqlite:///{whole}", "--speed", "max").exit_code == 0
    for table in ("user", "engine", "pipeline", "job", "job_run", "job_status"):
        assert rows(a, table) == rows(whole, table), table


def rows(db: Path, table: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return sorted(connection.execute(f"select * from {table}").fetchall(), key=repr)


def test_default_names_differ_by_journeys_and_target(journeys: Path, tmp_path: Path) -> None:
    digest = journeys_digest(load_journeys(journeys))
    names = {
        default_checkpoint(digest, target_identity(to))
        for to in (f"sqlite:///{tmp_path}/A.db", f"sqlite:///{tmp_path}/B.db", str(tmp_path))
    }
    names.add(default_checkpoint("other journeys", target_identity(f"sqlite:///{tmp_path}/A.db")))
    assert len(names) == 4
    assert all(n.parent == Path("output") and n.name.startswith("replay-") for n in names)
    assert target_identity("postgresql://u:pw@db/x") == "postgresql://u:***@db/x"
    assert target_identity("postgresql://u:other@db/x") == target_identity("postgresql://u:pw@db/x")


def test_a_complete_replay_keeps_the_checkpoint_of_another_target(
    run, journeys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default checkpoint goes to output/, here (not the repo's)
    a, b = tmp_path / "A.db", tmp_path / "B.db"
    first = Path(interrupted(journeys, f"sqlite:///{a}").checkpoint)  # the default name
    assert first.parent == Path("output")
    result = run("replay", journeys, "--to", f"sqlite:///{b}", "--speed", "max")
    assert result.exit_code == 0, result.output
    result = run(
        "replay", journeys, "--to", f"sqlite:///{b}", "--speed", "max", "--checkpoint", first
    )
    assert result.exit_code == 0, result.output
    assert first.exists()  # A's, still there to resume
    result = run("replay", journeys, "--to", f"sqlite:///{a}", "--resume", first, "--speed", "max")
    assert result.exit_code == 0, result.output
    assert not first.exists()


def test_a_checkpoint_matches_its_target_with_the_secrets_hidden(
    run, journeys: Path, tmp_path: Path, http_server: Recorder
) -> None:
    """Not storing secrets has this cost: another password or ?sig= is the same target."""
    host = http_server.url.removeprefix("http://")
    first = f"http://u:first-pw@{host}/api/{{type}}?sig=first"
    report = interrupted(journeys, first, checkpoint=tmp_path / "c.json")
    stored = Path(report.checkpoint).read_text()
    assert "first-pw" not in stored and "sig=first" not in stored
    before = len(http_server.received)
    again = f"http://u:other-pw@{host}/api/{{type}}?sig=other"
    result = run("replay", journeys, "--to", again, "--resume", report.checkpoint, "--speed", "max")
    assert result.exit_code == 0, result.output  # accepted: nothing tells the two apart
    assert {r.path.partition("?")[2] for r in http_server.received[before:]} == {"sig=other"}
    assert len(http_server.received) == report.steps_total  # each step once
    readme = " ".join((REPO / "README.md").read_text().split())
    assert SAID in readme


SAID = (
    "the target is matched as recorded, with its secrets hidden, so a checkpoint also resumes "
    "into the same host and path (or database) reached with another password, SAS token or "
    "`sig=`."
)


def test_a_checkpoint_of_the_older_format_is_refused(run, journeys: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"checkpoint_version": 1, "journeys_digest": "x", "done": {}}))
    result = run("replay", journeys, "--to", f"sqlite:///{tmp_path / 'a.db'}", "--resume", old)
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: {old}: a checkpoint of an older datagen, which did not record its target "
        "(replay again without --resume (writes are idempotent))"
    )


def start(journeys: Path, cwd: Path, *args: str) -> subprocess.Popen[str]:
    """A replay process. At ``--speed 60`` the first rows come as soon as at 300× (the
    journeys start together) and the rest takes ~160 s, not 32: a signal sent after the
    first rows on however busy a machine finds it still running."""
    return subprocess.Popen(
        [sys.executable, str(REPO / "generate.py"), "replay", str(journeys), *args],
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_rows(db: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if count(db, "user") > 2:
                return
        except sqlite3.Error:
            pass
        time.sleep(0.02)
    raise AssertionError("the replay wrote nothing")


@pytest.mark.parametrize(
    "sig, code, said",
    [
        (signal.SIGINT, 130, "Stopping: finishing the writes in flight (Ctrl-C again to"),
        (signal.SIGTERM, 143, "Stopping (SIGTERM): finishing the writes in flight (a second"),
    ],
)
def test_a_signal_stops_the_replay_with_a_checkpoint(journeys, tmp_path, sig, code, said):
    db = tmp_path / "s.db"
    process = start(journeys, tmp_path, "--to", f"sqlite:///{db}", "--speed", "60")
    wait_for_rows(db, process)
    process.send_signal(sig)
    out, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    assert said in err and "Interrupted into" in out
    [checkpoint] = (tmp_path / "output").glob("replay-*.checkpoint.json")
    assert f"Checkpoint: output/{checkpoint.name} (continue with --resume" in err


def test_quiet_says_nothing_when_stopped(journeys, tmp_path):
    """Was: `--quiet` still printed Stopping: and Checkpoint: on Ctrl-C."""
    db = tmp_path / "s.db"
    process = start(journeys, tmp_path, "--to", f"sqlite:///{db}", "--speed", "60", "--quiet")
    wait_for_rows(db, process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert (out, err) == ("", "")
    assert len(list((tmp_path / "output").glob("replay-*.checkpoint.json"))) == 1


def test_on_a_full_disk_the_outcome_is_printed_before_the_checkpoint_error(
    journeys, small_disk
) -> None:
    """Was: a replay into a folder on a full disk printed neither summary nor failed steps."""
    with small_disk("200k") as disk:
        process = start(journeys, disk, "--to", str(disk / "steps"), "--speed", "max")
        out, err = process.communicate(timeout=120)
        assert process.returncode == 1
        assert "Replayed into" in out and " failed" in out
        assert "Failed: journey job_lifecycle-" in err
        assert "No space left on device" in err
        assert (
            "Error: cannot write the checkpoint output/replay-" in err
            and ".checkpoint.json: No space left on device" in err
        )
